"""``deploy/systemd/newsflow-stream.service``: a unit systemd accepts, whose state dir is one systemd keeps."""

from __future__ import annotations

import configparser
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from pipelines.cli import build_parser
from pipelines.failures import AuthenticationFailed, BadUsage, NotAuthorised, UnknownTopic
from pipelines.options import Processing, resolve

UNIT = Path(__file__).resolve().parents[2] / "deploy" / "systemd" / "newsflow-stream.service"


def service() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read(UNIT)
    return parser["Service"]


def environment(section: configparser.SectionProxy) -> dict[str, str]:
    return dict(item.split("=", 1) for item in shlex.split(section["Environment"]))


def test_the_state_dir_is_under_the_directory_systemd_keeps_for_the_service():
    section = service()
    state_dir = environment(section)["NEWSFLOW_STATE_DIR"]
    assert Path(state_dir).is_relative_to(Path("/var/lib") / section["StateDirectory"])
    assert resolve(Processing, env={"NEWSFLOW_STATE_DIR": state_dir}).state_dir == state_dir


def test_it_runs_the_stream_and_does_not_restart_what_a_restart_cannot_fix():
    section = service()
    args = build_parser().parse_args(shlex.split(section["ExecStart"])[1:])
    assert args.command == "stream" and args.log_format == "json"
    fatal = {str(e.exit_code) for e in (BadUsage, AuthenticationFailed, NotAuthorised, UnknownTopic)}
    assert set(section["RestartPreventExitStatus"].split()) == fatal
    assert section["KillSignal"] == "SIGTERM"  # a clean stop after the running batch is committed


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_accepts_the_unit(tmp_path: Path):
    """``systemd-analyze verify`` with the ExecStart binary stood in for (it is installed at deploy time)."""
    binary = tmp_path / "newsflow"
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755)
    unit = tmp_path / UNIT.name
    unit.write_text(UNIT.read_text().replace("/opt/newsflow/.venv/bin/newsflow", str(binary)))
    done = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True)
    problems = [line for line in done.stderr.splitlines() if UNIT.name in line]
    assert not problems, done.stderr
