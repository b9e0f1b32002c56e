"""Broker faults: a 20 s outage under a running stream loses nothing and the stream recovers by itself;
a broker that is down at start-up gives clear log lines and a non-zero exit, never a hang or a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.devkafka import broker

pytestmark = pytest.mark.integration

CHAOS = Path(__file__).resolve().parents[2] / "benchmarks" / "chaos.py"


def test_broker_down_at_start_up_exits_non_zero_with_a_clear_message():
    port = broker.free_port()  # nothing listens there
    cmd = [sys.executable, "-m", "pipelines.cli", "--log-format", "json", "stream"]
    cmd += ["--bootstrap-servers", f"127.0.0.1:{port}", "--connect-timeout", "4", "--passthrough", "true"]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert run.returncode == 3, run.stderr[-2000:]
    events = [json.loads(line) for line in run.stderr.splitlines() if line.startswith("{")]
    names = [e["event"] for e in events]
    assert "kafka_unreachable" in names and names[-1] == "kafka_unreachable_giving_up"
    assert "unreachable after 4s" in events[-1]["error"]
    assert "Traceback" not in run.stderr


def test_twenty_second_outage_loses_nothing_and_the_stream_recovers(tmp_path):
    """On a broker of its own (chaos.py starts one on a free port), so the session's broker stays up."""
    report_path = tmp_path / "report.json"
    cmd = [sys.executable, str(CHAOS), "--work-dir", str(tmp_path / "work"), "--batch-records", "40"]
    cmd += ["--articles", "120", "--kills", "0", "--outage", "20", "--no-hostile", "--idle-timeout", "8"]
    cmd += ["--json-out", str(report_path)]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=1200)
    assert report_path.exists(), run.stderr[-4000:]
    report = json.loads(report_path.read_text())
    outage = report["outage"]
    assert outage["pipeline_survived"], outage
    assert outage["recovery_seconds"] is not None
    assert report["lost"] == 0, report["lost_positions"]
    assert report["duplicates_not_in_flight"] == 0 and report["committed_at_end"]
    assert run.returncode == 0 and report["ok"]
