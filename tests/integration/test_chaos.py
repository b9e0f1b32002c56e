"""Crash safety on the real broker: ``benchmarks/chaos.py`` SIGKILLs the full-chain stream (default runner:
local micro-batches) 5 times while articles and hostile inputs of every kind arrive; nothing may be lost,
and every input delivered twice must have been in flight (written, not yet committed) at a kill. Then two
instances with one group id, one of them SIGKILLed while both run: the same targets, and no committed
offset goes back."""

from __future__ import annotations

import pytest

from tests.chaos_runs import assert_delivered, chaos

pytestmark = pytest.mark.integration


def test_sigkills_lose_nothing_and_duplicates_stay_in_flight(kafka_broker, tmp_path):
    run, report = chaos(
        "kills", tmp_path, "--articles", "150", "--kills", "5", "--max-kill-delay", "3", "--idle-timeout", "8",
        "--batch-records", "40", kafka_broker=kafka_broker, timeout=1500,
    )  # fmt: skip
    assert report["chain"] == "full" and report["runner"] == "local" and report["kills"] == 5
    assert report["extra_copies"] <= report["in_flight_bound"]
    assert report["hostile_wrong"] == []
    assert report["hostile_tried"] >= 30 and len(report["hostile_by_kind"]) >= 10
    assert_delivered(run, report)


def test_two_instances_with_one_group_lose_nothing_and_commit_forward(kafka_broker, tmp_path):
    run, report = chaos(
        "two-instances", tmp_path, "--instance-articles", "48", "--second-after", "8", "--scenario-kills", "1",
        "--max-kill-delay", "2", "--batch-records", "12", kafka_broker=kafka_broker, timeout=900,
    )  # fmt: skip
    assert report["kills"] == 1 and report["instance_runs"] == [2, 1]
    assert report["extra_copies"] <= report["in_flight_bound"]
    assert report["commits_went_back"] == []
    assert report["exit_codes_on_sigterm"] == [0, 0]
    assert_delivered(run, report)
