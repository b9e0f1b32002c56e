"""Crash safety on the real broker: ``benchmarks/chaos.py`` SIGKILLs the full-chain stream (default runner:
local micro-batches) 5 times while articles and hostile inputs of every kind arrive; nothing may be lost,
and every input delivered twice must have been in flight (written, not yet committed) at a kill. Then two
instances with one group id, one of them SIGKILLed while both run: the same targets, and no committed
offset goes back."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

CHAOS = Path(__file__).resolve().parents[2] / "benchmarks" / "chaos.py"


def test_sigkills_lose_nothing_and_duplicates_stay_in_flight(kafka_broker, tmp_path):
    report_path = tmp_path / "report.json"
    cmd = [sys.executable, str(CHAOS), "--bootstrap", kafka_broker.bootstrap]
    cmd += ["--data-dir", str(kafka_broker.data_dir), "--work-dir", str(tmp_path / "work")]
    cmd += ["--articles", "150", "--kills", "5", "--max-kill-delay", "3", "--idle-timeout", "8"]
    cmd += ["--batch-records", "40"]
    cmd += ["--scenario", "kills", "--json-out", str(report_path)]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=1500)
    assert report_path.exists(), run.stderr[-4000:]
    report = json.loads(report_path.read_text())["scenarios"]["kills"]
    assert report["chain"] == "full" and report["runner"] == "local" and report["kills"] == 5
    assert report["lost"] == 0, report["lost_positions"]
    assert report["unknown_outputs"] == 0
    assert report["duplicates_not_in_flight"] == 0
    assert report["extra_copies"] <= report["in_flight_bound"]
    assert report["hostile_wrong"] == []
    assert report["hostile_tried"] >= 30 and len(report["hostile_by_kind"]) >= 10
    assert report["committed_at_end"]
    assert run.returncode == 0 and report["ok"]


def test_two_instances_with_one_group_lose_nothing_and_commit_forward(kafka_broker, tmp_path):
    report_path = tmp_path / "report.json"
    cmd = [sys.executable, str(CHAOS), "--bootstrap", kafka_broker.bootstrap]
    cmd += ["--data-dir", str(kafka_broker.data_dir), "--work-dir", str(tmp_path / "work")]
    cmd += ["--instance-articles", "48", "--second-after", "8", "--scenario-kills", "1"]
    cmd += ["--max-kill-delay", "2", "--batch-records", "12"]
    cmd += ["--scenario", "two-instances", "--json-out", str(report_path)]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    assert report_path.exists(), run.stderr[-4000:]
    report = json.loads(report_path.read_text())["scenarios"]["two-instances"]
    assert report["kills"] == 1 and report["instance_runs"] == [2, 1]
    assert report["lost"] == 0, report["lost_positions"]
    assert report["unknown_outputs"] == 0
    assert report["duplicates_not_in_flight"] == 0
    assert report["extra_copies"] <= report["in_flight_bound"]
    assert report["commits_went_back"] == []
    assert report["exit_codes_on_sigterm"] == [0, 0]
    assert report["committed_at_end"]
    assert run.returncode == 0 and report["ok"]
