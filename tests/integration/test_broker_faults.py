"""Broker faults: a 20 s outage under a running stream loses nothing and the stream recovers by itself;
a broker that is down at start-up gives clear log lines and a non-zero exit, never a hang or a traceback."""

from __future__ import annotations

import json

import pytest

from pipelines.devkafka import broker
from tests.chaos_runs import assert_delivered, chaos
from tests.cli_runs import newsflow

pytestmark = pytest.mark.integration


def test_broker_down_at_start_up_exits_non_zero_with_a_clear_message():
    port = broker.free_port()  # nothing listens there
    run = newsflow(
        "stream", "--bootstrap-servers", f"127.0.0.1:{port}", "--connect-timeout", "4", "--passthrough", "true",
        timeout=120,
    )  # fmt: skip
    assert run.returncode == 4, run.stderr[-2000:]
    events = [json.loads(line) for line in run.stderr.splitlines() if line.startswith("{")]
    names = [e["event"] for e in events]
    assert names == ["kafka_unreachable", "command_failed"], names  # one warning, one failure line
    assert events[-1]["reason"] == "kafka_unreachable" and "unreachable after 4s" in events[-1]["error"]
    assert "Traceback" not in run.stderr


def test_twenty_second_outage_loses_nothing_and_the_stream_recovers(tmp_path):
    """On a broker of its own (chaos.py starts one on a free port), so the session's broker stays up."""
    run, report = chaos(
        "kills", tmp_path, "--batch-records", "40", "--articles", "120", "--kills", "0", "--outage", "20",
        "--no-hostile", "--idle-timeout", "8", timeout=1200,
    )  # fmt: skip
    outage = report["outage"]
    assert outage["pipeline_survived"], outage
    assert outage["recovery_seconds"] is not None
    assert_delivered(run, report)
