"""Running one scenario of ``benchmarks/chaos.py`` and checking the targets every scenario shares: used by
the crash and broker-fault tests."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

CHAOS = Path(__file__).resolve().parents[1] / "benchmarks" / "chaos.py"


def chaos(
    scenario: str, tmp_path: Path, *flags: str, kafka_broker=None, timeout: float
) -> tuple[subprocess.CompletedProcess, dict]:
    """The run and its scenario's report; on the session's ``kafka_broker`` when given, else on a broker
    of its own that chaos.py starts on a free port."""
    report_path = tmp_path / "report.json"
    cmd = [sys.executable, str(CHAOS), "--work-dir", str(tmp_path / "work")]
    if kafka_broker is not None:
        cmd += ["--bootstrap", kafka_broker.bootstrap, "--data-dir", str(kafka_broker.data_dir)]
    cmd += [*flags, "--scenario", scenario, "--json-out", str(report_path)]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    assert report_path.exists(), run.stderr[-4000:]
    return run, json.loads(report_path.read_text())["scenarios"][scenario]


def assert_delivered(run: subprocess.CompletedProcess, report: dict) -> None:
    """Nothing lost, every input delivered twice was in flight at a kill, no output for an unknown input,
    every offset committed at the end; and the run passed (its ``ok`` holds the scenario's own targets)."""
    assert report["lost"] == 0, report["lost_positions"]
    assert report["duplicates_not_in_flight"] == 0
    assert report["unknown_outputs"] == 0
    assert report["committed_at_end"]
    assert run.returncode == 0 and report["ok"]
