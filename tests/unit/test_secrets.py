"""Secrets never leak: not in any command's ``--help``, not in ``repr``, not in log lines, not in the output
of a command that fails to connect (run with DEBUG logs, the secret in both a flag and the environment)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from contextlib import redirect_stdout

import pytest
import structlog

from pipelines import logs
from pipelines.cli import build_parser
from pipelines.devkafka.broker import free_port
from transforms.settings import KafkaSettings

FLAG_SECRET = "flag-s3cret-Zq81"
ENV_SECRETS = {"NEWSFLOW_SASL_PASSWORD": "env-s3cret-Kv27", "NEWSFLOW_SSL_PASSWORD": "env-s3cret-Lp93"}
SECRETS = (FLAG_SECRET, *ENV_SECRETS.values())


def _subcommands() -> list[list[str]]:
    parser = build_parser()
    commands = []
    for action in parser._subparsers._group_actions:
        for name, sub in action.choices.items():
            nested = [a for a in sub._actions if a.__class__.__name__ == "_SubParsersAction"]
            if nested:
                commands += [[name, child] for child in nested[0].choices]
            else:
                commands.append([name])
    return commands


@pytest.mark.parametrize("command", _subcommands(), ids=" ".join)
def test_help_never_shows_secrets(command, monkeypatch):
    for key, value in ENV_SECRETS.items():
        monkeypatch.setenv(key, value)
    out = io.StringIO()
    with redirect_stdout(out), pytest.raises(SystemExit):
        build_parser().parse_args([*command, "--help"])
    assert out.getvalue().strip()
    assert not any(s in out.getvalue() for s in SECRETS)


def test_settings_repr_and_log_lines_mask_secrets(capsys):
    settings = KafkaSettings(
        security_protocol="SASL_SSL", sasl_password=FLAG_SECRET, ssl_password=FLAG_SECRET
    )
    assert FLAG_SECRET not in repr(settings) and "***" in repr(settings)
    logs.configure("DEBUG", json=True)
    log = structlog.get_logger("test")
    log.info("connecting", settings=settings, sasl_password=FLAG_SECRET, api_key=FLAG_SECRET, db_password="x")
    line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert FLAG_SECRET not in json.dumps(line)
    assert line["sasl_password"] == line["api_key"] == line["db_password"] == "***"


def test_a_failing_command_prints_no_secret():
    env = {**os.environ, **ENV_SECRETS}
    cmd = [sys.executable, "-m", "pipelines.cli", "--log-level", "DEBUG", "--log-format", "json", "stream"]
    cmd += [
        "--bootstrap-servers",
        f"127.0.0.1:{free_port()}",
        "--connect-timeout",
        "3",
        "--passthrough",
        "true",
    ]
    cmd += ["--security-protocol", "SASL_PLAINTEXT", "--sasl-mechanism", "SCRAM-SHA-512"]
    cmd += ["--sasl-username", "newsflow", "--sasl-password", FLAG_SECRET]
    run = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert run.returncode == 3, run.stderr[-2000:]
    output = run.stdout + run.stderr
    assert "kafka_unreachable" in output
    assert not any(s in output for s in SECRETS)


def test_long_fields_are_cut_so_each_json_line_stays_one_pipe_write(capsys):
    logs.configure("INFO", json=True)
    try:
        raise ValueError("x" * 10_000)
    except ValueError:
        structlog.get_logger("t").exception("boom", page="<p>" + "y" * 50_000 + "</p>")
    line = capsys.readouterr().err.strip().splitlines()[-1]
    event = json.loads(line)
    assert len(line.encode()) < 4096
    assert event["page"].startswith("<p>yyy") and event["page"].endswith("yyy</p>")
    assert "characters cut" in event["page"]
    assert event["exception"].startswith("Traceback") and "ValueError" in event["exception"]
