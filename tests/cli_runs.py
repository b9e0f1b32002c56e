"""Running ``newsflow`` as a user does, in a subprocess, and reading its one failure line: shared by the
CLI mistake tests with and without a broker."""

from __future__ import annotations

import json
import subprocess
import sys


def newsflow(*args: str, env: dict | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    """``python -m pipelines.cli --log-format json ARGS``, its output captured as text."""
    cmd = [sys.executable, "-m", "pipelines.cli", "--log-format", "json", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)


def failure_line(run: subprocess.CompletedProcess, code: int) -> dict:
    """The run exited ``code`` and its last stderr line is the one failure line; no traceback anywhere."""
    assert run.returncode == code, run.stderr[-3000:]
    assert "Traceback" not in run.stdout + run.stderr
    last = json.loads(run.stderr.strip().splitlines()[-1])
    assert last["event"] == "command_failed" and last["exit_code"] == code, last
    return last
