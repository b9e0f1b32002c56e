"""The schedules in ``deploy/schedules``: valid files whose commands are real ``newsflow backfill`` invocations."""

from __future__ import annotations

import ast
import configparser
import re
import shlex
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipelines.backfill import day_window
from pipelines.cli import build_parser

SCHEDULES = Path(__file__).resolve().parents[2] / "deploy" / "schedules"


def parse_newsflow(argv: list[str]):
    """The namespace our CLI makes of a scheduled command line (argparse exits on any unknown flag)."""
    assert Path(argv[0]).name == "newsflow", argv
    args = build_parser().parse_args(argv[1:])
    assert args.command == "backfill" and args.input_topic == "articles.raw"
    assert args.output == ["/var/lib/newsflow/backfill"] and not args.input
    return args


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read_string((SCHEDULES / name).read_text())
    return parser


def test_service_runs_yesterdays_backfill_once():
    service = unit("newsflow-backfill.service")
    assert service["Service"]["Type"] == "oneshot"
    args = parse_newsflow(shlex.split(service["Service"]["ExecStart"]))
    assert args.day == "yesterday" and args.log_format == "json"


def test_timer_fires_daily_and_names_the_service():
    timer = unit("newsflow-backfill.timer")
    assert timer["Timer"]["Unit"] == "newsflow-backfill.service"
    assert (SCHEDULES / timer["Timer"]["Unit"]).is_file()
    assert timer["Timer"]["Persistent"] == "true" and timer["Install"]["WantedBy"] == "timers.target"
    assert re.fullmatch(r"\*-\*-\* \d\d:\d\d:\d\d UTC", timer["Timer"]["OnCalendar"])


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_timer_calendar_is_accepted_by_systemd():
    calendar = unit("newsflow-backfill.timer")["Timer"]["OnCalendar"]
    done = subprocess.run(["systemd-analyze", "calendar", calendar], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_cron_line_is_daily_as_user_newsflow_in_utc():
    lines = [line for line in (SCHEDULES / "newsflow-backfill.cron").read_text().splitlines() if line.strip()]
    env = dict(line.split("=", 1) for line in lines if re.match(r"^[A-Z_]+=", line))
    assert env["CRON_TZ"] == "UTC"
    (entry,) = [line for line in lines if not line.startswith("#") and not re.match(r"^[A-Z_]+=", line)]
    minute, hour, dom, month, dow, user, command = entry.split(None, 6)
    assert 0 <= int(minute) < 60 and 0 <= int(hour) < 24 and (dom, month, dow) == ("*", "*", "*")
    assert user == "newsflow" and "%" not in command, "cron turns % into newlines"
    invocation = next(part for part in command.split(";") if "backfill" in part)
    argv = shlex.split(invocation.split(">>")[0])
    assert parse_newsflow(argv).day == "yesterday"


def test_airflow_dag_parses_and_backfills_the_runs_day():
    source = (SCHEDULES / "newsflow_backfill_dag.py").read_text()
    tree = ast.parse(source)
    compile(tree, "newsflow_backfill_dag.py", "exec")
    dags = [c for c in ast.walk(tree) if isinstance(c, ast.Call) and getattr(c.func, "id", "") == "DAG"]
    (dag,) = dags
    options = {k.arg: k.value for k in dag.keywords}
    assert ast.literal_eval(options["dag_id"]) == "newsflow_daily_backfill"
    assert ast.literal_eval(options["catchup"]) is True and ast.literal_eval(options["max_active_runs"]) == 1
    constants = {
        t.id: ast.literal_eval(n.value)
        for n in tree.body
        if isinstance(n, ast.Assign)
        for t in n.targets
        if isinstance(t, ast.Name)
    }
    (operator,) = [
        c for c in ast.walk(tree) if isinstance(c, ast.Call) and getattr(c.func, "id", "") == "BashOperator"
    ]
    template = next(k.value for k in operator.keywords if k.arg == "bash_command")
    command = eval(compile(ast.Expression(template), "dag", "eval"), {}, constants)  # the f-string
    assert "{{ ds }}" in command
    argv = shlex.split(command.replace("{{ ds }}", "2026-11-01"))
    args = parse_newsflow(argv)
    assert day_window(args.day, datetime.now(UTC)) == (
        datetime(2026, 11, 1, tzinfo=UTC),
        datetime(2026, 11, 2, tzinfo=UTC),
    )


def test_yesterday_is_the_whole_previous_utc_day():
    now = datetime(2026, 11, 2, 2, 30, tzinfo=UTC)
    assert day_window("yesterday", now) == (
        datetime(2026, 11, 1, tzinfo=UTC),
        datetime(2026, 11, 2, tzinfo=UTC),
    )
    assert day_window("today", now)[0] == datetime(2026, 11, 2, tzinfo=UTC)
