"""Running ``newsflow`` as a user does, in a subprocess, and reading its one failure line: shared by the
tests that run the CLI, with and without a broker."""

from __future__ import annotations

import json
import subprocess
import sys

from pipelines.options import Topics


def command(*args: str) -> list[str]:
    """``python -m pipelines.cli --log-format json ARGS``: for a run, or a ``Popen`` that stays up."""
    return [sys.executable, "-m", "pipelines.cli", "--log-format", "json", *args]


def newsflow(*args: str, env: dict | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    """:func:`command` run to its end, its output captured as text."""
    return subprocess.run(command(*args), capture_output=True, text=True, timeout=timeout, env=env)


def topic_flags(topics: Topics) -> list[str]:
    """The four topic flags of ``newsflow stream`` for ``topics``."""
    return [
        "--input-topic", topics.input_topic, "--output-topic", topics.output_topic,
        "--duplicates-topic", topics.duplicates_topic, "--dlq-topic", topics.dlq_topic,
    ]  # fmt: skip


def failure_line(run: subprocess.CompletedProcess, code: int) -> dict:
    """The run exited ``code`` and its last stderr line is the one failure line; no traceback anywhere."""
    assert run.returncode == code, run.stderr[-3000:]
    assert "Traceback" not in run.stdout + run.stderr
    last = json.loads(run.stderr.strip().splitlines()[-1])
    assert last["event"] == "command_failed" and last["exit_code"] == code, last
    return last
