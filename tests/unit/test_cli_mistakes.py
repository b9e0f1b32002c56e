"""The mistakes a newcomer makes, without a broker: each ends in one clear line and its own exit code, with
no traceback at the default log level; inputs are checked before anything heavy loads."""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import os
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
from hypothesis import given
from hypothesis import strategies as st

from pipelines import cli, failures, logs
from pipelines.devkafka import broker
from pipelines.devkafka.broker import free_port
from tests.cli_runs import command, failure_line, newsflow


@pytest.fixture
def console(monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process runs of the CLI log to a stderr that pytest replaces after each test: no stale handle."""
    monkeypatch.setattr(logs, "configure", lambda *args, **kwargs: False)
    monkeypatch.setattr(logs, "_VIEWS", [])  # repeats counted by earlier tests' logging are not ours


@pytest.mark.parametrize("command", ["produce", "stream"])
def test_nothing_listening_is_one_warning_then_one_line_exit_4(command, tmp_path):
    (tmp_path / "a.jsonl").write_text('{"text": "x"}\n')
    args = (
        [command, str(tmp_path / "a.jsonl")] if command == "produce" else [command, "--passthrough", "true"]
    )
    run = newsflow(*args, "--bootstrap-servers", f"127.0.0.1:{free_port()}", "--connect-timeout", "3")
    last = failure_line(run, 4)
    assert last["reason"] == "kafka_unreachable" and "unreachable after 3s" in last["error"]
    assert "ECONNREFUSED" in last["error"]  # the cause, not only the timeout
    events = [json.loads(line)["event"] for line in run.stderr.strip().splitlines()]
    assert events == ["kafka_unreachable", "command_failed"], run.stderr  # nothing from kafka-python


def test_a_missing_file_fails_before_the_model_loads(tmp_path, monkeypatch, capsys, console):
    import pipelines.chain

    def no_model(*args, **kwargs):
        raise AssertionError("the chain (and its NER model) was built before the inputs were checked")

    monkeypatch.setattr(pipelines.chain, "LocalChain", no_model)
    assert cli.main(["--log-format", "console", "process", str(tmp_path / "does-not-exist.jsonl")]) == 7
    assert capsys.readouterr().err.strip().endswith("does-not-exist.jsonl: no such file or directory")
    assert cli.main(["--log-format", "console", "produce", str(tmp_path / "nope.jsonl")]) == 7
    err = capsys.readouterr().err.strip()
    assert err.startswith("newsflow produce: ") and "nope.jsonl: no such file or directory" in err
    assert len(err.splitlines()) == 1


@pytest.mark.parametrize(
    ("argv", "env", "text"),
    [
        (["stream", "--batch-records", "0"], {}, "argument --batch-records: 0 is below the least allowed, 1"),
        (["process", "x.jsonl", "--entities", "flase"], {}, "not a boolean: 'flase'"),
        (["stream", "--dedup-threshold", "half"], {}, "not a number: 'half'"),
        (["stream"], {"NEWSFLOW_BATCH_RECORDS": "abc"}, "NEWSFLOW_BATCH_RECORDS: not an integer: 'abc'"),
        (["stream"], {"NEWSFLOW_AUTO_OFFSET_RESET": "newest"}, "NEWSFLOW_AUTO_OFFSET_RESET: 'newest' is not"),
        (["backfill", "--topic", "t", "--day", "today", "--lateness", "1y", "--output", "o"], {}, "1y"),
        (
            ["process", "x.jsonl"],
            {"NEWSFLOW_LOG_LEVEL": "verbose"},
            "NEWSFLOW_LOG_LEVEL: 'VERBOSE' is not one",
        ),
        (
            ["stream", "--metrics-port", "70000"],
            {},
            "argument --metrics-port: 70000 is above the most allowed",
        ),
        (
            ["stream"],
            {"NEWSFLOW_METRICS_PORT": "65536"},
            "NEWSFLOW_METRICS_PORT: 65536 is above the most allowed",
        ),
        (["consume", "--limit", "0"], {}, "argument --limit: 0 is below the least allowed, 1"),
        (["consume", "--connect-timeout", "-1"], {}, "argument --connect-timeout: -1 seconds: give a number"),
        (["dlq", "replay", "--since", "yesterday"], {}, "--since: not an ISO 8601 time: 'yesterday'"),
        (["dlq", "replay", "--from-offset", "10", "--to-offset", "5"], {}, "select nothing: 10 is after 5"),
        (["dlq", "replay", "--limit", "-1"], {}, "argument --limit: -1 is below the least allowed, 1"),
        (["backfill", "--input", "x", "--output", "o", "--workers", "-3"], {}, "--workers: -3 is below"),
        (["backfill", "--input", "x", "--output", "o", "--max-records-per-file", "0"], {}, "0 is below"),
        (["kafka", "status", "--port", "70000"], {}, "argument --port: 70000 is above the most allowed"),
        (["kafka", "up", "--partitions", "0"], {}, "argument --partitions: 0 is below the least allowed"),
        (["entities", "x.txt", "--time-budget", "-1"], {}, "-1 seconds: give a number above 0"),
        (["stream"], {"NEWSFLOW_BOOTSTRAP_SERVERS": ""}, "NEWSFLOW_BOOTSTRAP_SERVERS: no server in ''"),
        (
            ["consume", "--bootstrap-servers", "kafka:xyz"],
            {},
            "'kafka:xyz': the port must be a number from 1",
        ),
        (["produce", "--topic", "t", "x", "--bootstrap-servers", "a:1,:2"], {}, "':2': no host"),
        (
            ["stream"],
            {"NEWSFLOW_CONNECT_TIMEOUT": "inf"},
            "NEWSFLOW_CONNECT_TIMEOUT: not a finite number: 'inf'",
        ),
        (
            ["stream", "--dedup-threshold", "nan"],
            {},
            "argument --dedup-threshold: not a finite number: 'nan'",
        ),
    ],
)
def test_a_bad_flag_or_variable_value_is_one_line_exit_2(argv, env, text, monkeypatch):
    run = newsflow(*argv, env={**__import__("os").environ, **env})
    assert run.returncode == 2, run.stderr
    assert text in run.stderr and "Traceback" not in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1, run.stderr


def test_process_on_a_directory_skips_other_kinds_and_dead_letters_an_unreadable_file(tmp_path, capsys):
    good = {"url": "https://ok.example/1", "text": "The council met on Monday to discuss the budget. " * 4}
    (tmp_path / "a.jsonl").write_text(json.dumps(good) + "\n")
    other = {"url": "https://ok.example/2", "text": "Rain is expected across the north on Tuesday. " * 4}
    (tmp_path / "b.jsonl.gz").write_bytes(gzip.compress((json.dumps(other) + "\n").encode()))
    (tmp_path / "broken.jsonl.gz").write_bytes(b"this is no gzip")
    (tmp_path / "broken.jsonl.zst").write_bytes(b"\x28\xb5\x2f\xfd" + b"corrupt zstd" * 4)  # a zstd header
    (tmp_path / "x.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00")
    (tmp_path / "y.png").write_bytes(b"\x89PNG\r\n\x1a\n\x01")
    (tmp_path / "notes.md").write_text("# notes\n")
    run = newsflow("process", str(tmp_path), "--entities", "false")
    assert run.returncode == 0, run.stderr[-3000:]
    assert "Traceback" not in run.stderr
    lines = [json.loads(line) for line in run.stdout.splitlines()]
    assert [line["kind"] for line in lines] == ["article", "article", "dead_letter", "dead_letter"]
    for letter, name in zip(lines[2:], ["broken.jsonl.gz", "broken.jsonl.zst"], strict=True):
        assert letter["stage"] == "read" and letter["source_position"]["topic"].endswith(name)
    skipped = [json.loads(line) for line in run.stderr.splitlines() if '"files_skipped"' in line]
    assert [s["message"] for s in skipped] == ["skipped 3 files: 2 .png, 1 .md"]


def test_help_shows_every_default_and_the_environment(capsys):
    parser = cli.build_parser()
    texts = []
    for parsers in _all_parsers(parser):
        for action in parsers._actions:
            if not action.option_strings or action.default in (None, False, argparse.SUPPRESS, []):
                continue
            if isinstance(action, argparse._HelpAction | argparse._VersionAction):
                continue
            text = cli.HelpFormatter("x")._get_help_string(action) % {"default": action.default}
            assert "default" in text.lower(), (parsers.prog, action.option_strings)
        texts.append(parsers.format_help())
    every = "\n".join(texts)
    assert "default: 0.5" in every  # --dedup-threshold, whose value is None until resolved
    stream = _parser(parser, "stream").format_help()
    assert "NEWSFLOW_BOOTSTRAP_SERVERS" in stream and "NEWSFLOW_SASL_PASSWORD" in stream
    assert "(default: articles.raw)" in _parser(parser, "produce").format_help()
    assert "(default: 9092)" in _parser(parser, "kafka", "up").format_help()
    top = parser.format_help()
    assert "NEWSFLOW_LOG_LEVEL" in top and "Exit codes:" in top
    for code, _ in failures.EXIT_CODES:
        assert f"  {code:>3}  " in top


def _all_parsers(parser: argparse.ArgumentParser):
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from _all_parsers(sub)


def _parser(parser: argparse.ArgumentParser, *names: str) -> argparse.ArgumentParser:
    for name in names:
        (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        parser = sub.choices[name]
    return parser


def test_version_names_beam_the_kafka_client_and_the_model(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--version"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for name in ("newsflow ", "apache-beam 2.", "kafka-python ", "NER model newsflow_news_ner "):
        assert name in out


def test_unknown_topics_get_the_closest_name():
    existing = ["articles.raw", "articles.clean", "articles.dlq", "__consumer_offsets"]
    assert "did you mean 'articles.raw'?" in failures.unknown_topic("articles.rwa", existing).message
    assert "did you mean" not in failures.unknown_topic("weather", existing).message


def test_errors_are_explained_with_their_exit_codes():
    from kafka import errors as kafka_errors

    assert isinstance(failures.explain(FileNotFoundError(2, "No such file", "x")), failures.InputFileError)
    assert failures.explain(failures.BadUsage("bad")).exit_code == 2
    assert failures.explain(kafka_errors.SaslAuthenticationFailedError("no")).exit_code == 3
    assert failures.explain(kafka_errors.TopicAuthorizationFailedError("t")).exit_code == 5
    wrapped = RuntimeError("in a DoFn")
    wrapped.__cause__ = kafka_errors.GroupAuthorizationFailedError("g")
    assert failures.explain(wrapped).exit_code == 5
    assert failures.explain(KeyboardInterrupt()).exit_code == 130
    assert failures.explain(ValueError("a bug")) is None


@pytest.mark.parametrize(
    "error",
    [
        sqlite3.OperationalError("database or disk is full"),
        sqlite3.OperationalError("disk I/O error"),
        sqlite3.OperationalError("attempt to write a readonly database"),
        sqlite3.OperationalError("unable to open database file"),
        RuntimeError("OperationalError: database or disk is full"),  # as a chain worker reports it
    ],
)
def test_a_state_dir_that_cannot_be_written_is_named_not_taken_for_a_bug(error):
    """A full or read-only disk under --state-dir (found by the chaos hunt: the stream exited 1 with
    "OperationalError: disk I/O error ... (a bug?)") is one line naming the state dir, exit 7."""
    wrapped = RuntimeError("while running 'Chain/Decide'")
    wrapped.__cause__ = error
    failure = failures.explain(wrapped)
    assert isinstance(failure, failures.InputFileError) and failure.exit_code == 7
    assert "state dir cannot be written" in failure.message


def test_other_sqlite_errors_are_still_unexpected():
    assert failures.explain(sqlite3.OperationalError("no such table: begun")) is None
    assert failures.explain(RuntimeError("ValueError: disk is full of cats")) is None
    codes = [code for code, _ in failures.EXIT_CODES]
    assert len(codes) == len(set(codes))


def test_default_data_dir_is_per_user_and_port(monkeypatch, tmp_path):
    monkeypatch.delenv(broker.DATA_DIR_ENV, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert broker.default_data_dir(9092) == tmp_path / "newsflow" / "kafka-9092"
    assert broker.default_data_dir(19092) == tmp_path / "newsflow" / "kafka-19092"
    monkeypatch.setenv(broker.DATA_DIR_ENV, str(tmp_path / "mine"))
    assert broker.default_data_dir(9092) == tmp_path / "mine"


def _record(name: str, level: int, msg: str, exc: bool = False) -> logging.LogRecord:
    record = logging.LogRecord(name, level, __file__, 1, msg, None, None)
    if exc:
        try:
            raise ValueError("deep inside")
        except ValueError:
            record.exc_info = sys.exc_info()
    return record


def test_third_party_records_are_filtered_for_operators_and_whole_at_debug(capsys):
    logs.configure("INFO", json=True)
    (view,) = logs._VIEWS
    assert not view.filter(_record("kafka.net.manager", logging.ERROR, "Connection failed: refused"))
    assert not view.filter(_record("kafka.cluster", logging.WARNING, "Topic t not found in cluster metadata"))
    assert view.filter(_record("kafka.producer.sender", logging.WARNING, "retrying %s"))
    repeats = [_record("kafka.producer.sender", logging.WARNING, "retrying %s") for _ in range(5)]
    assert not any(view.filter(r) for r in repeats)
    beam = _record("apache_beam.runners.worker", logging.ERROR, "bundle failed", exc=True)
    assert view.filter(beam) and beam.exc_info is None  # shown, without the traceback
    written = _record("apache_beam.runners.worker", logging.ERROR, "failed: %s", exc=False)
    written.args = ("boom\nTraceback (most recent call last):\n  File x",)
    assert view.filter(written) and written.getMessage() == "failed: boom […]"
    assert view.filter(_record("pipelines.stream", logging.INFO, "ours pass untouched"))
    startup = "Discarding unparseable args: ['--direct_runner_use_stacked_bundle', '--pipeline_type_check']"
    assert not view.filter(_record("apache_beam.options.pipeline_options", logging.WARNING, startup))
    relayed = _record("apache_beam.runners.portability.local_job_service", logging.WARNING, "Worker: %s")
    relayed.args = ('severity: WARN message: "No semi_persistent_directory found: User registered"',)
    assert not view.filter(relayed)
    relayed.args = ("message: \"Discarding unparseable args: [\\'--pipeline_type_check\\']\" thread",)
    assert not view.filter(relayed)  # the job service's relay escapes the quotes
    theirs = "Discarding unparseable args: ['--pipeline_type_check', '--runnr=DirectRunner']"  # a user's typo in a Beam argument
    assert view.filter(_record("apache_beam.options.pipeline_options", logging.WARNING, theirs))
    logs.flush_repeats()
    summary = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert summary["event"] == "log_repeats" and summary["repeats"] == 5
    assert summary["message"] == "retrying %s" and summary["logger"] if "logger" in summary else True

    logs.configure("DEBUG", json=True)
    (view,) = logs._VIEWS
    assert view.filter(_record("kafka.net.manager", logging.ERROR, "Connection failed: refused"))
    again = [_record("kafka.producer.sender", logging.WARNING, "retrying %s") for _ in range(3)]
    assert all(view.filter(r) for r in again)
    beam = _record("apache_beam.runners.worker", logging.ERROR, "bundle failed", exc=True)
    assert view.filter(beam) and beam.exc_info is not None
    assert view.filter(_record("apache_beam.runners.worker.sdk_worker_main", logging.WARNING, startup))
    logs.configure("INFO", json=True)
    structlog.reset_defaults()


def test_repeats_are_windowed_on_the_monotonic_clock_not_the_wall_clock(monkeypatch, capsys):
    """A wall clock stepped back an hour (NTP) must not hide a library's repeated warning for that hour:
    past the window on the monotonic clock it shows again, with the count of the repeats in between."""
    logs.configure("INFO", json=True)
    (view,) = logs._VIEWS
    ticks = iter([1000.0, 1001.0, 1000.0 + logs.REPEAT_WINDOW + 1, 1000.0 + logs.REPEAT_WINDOW + 1])
    monkeypatch.setattr(logs.time, "monotonic", lambda: next(ticks))
    first = _record("kafka.producer.sender", logging.WARNING, "retrying %s")
    assert view.filter(first)
    stepped_back = [_record("kafka.producer.sender", logging.WARNING, "retrying %s") for _ in range(2)]
    for record in stepped_back:
        record.created = first.created - 3600
    assert not view.filter(stepped_back[0]), "a repeat within the window is counted"
    assert view.filter(stepped_back[1]), "past the window it shows, whatever the wall clock says"
    report = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert report["event"] == "log_repeats" and report["repeats"] == 1
    structlog.reset_defaults()


def test_keyed_stages_have_deterministic_key_coders(tmp_path, caplog):
    import apache_beam as beam

    from pipelines.options import Processing
    from pipelines.stream import StreamJob, build
    from transforms.kafka_io import PartitionRange

    caplog.set_level(logging.WARNING, logger="apache_beam")
    pipeline = beam.Pipeline()
    job = StreamJob(processing=Processing(state_dir=str(tmp_path)))
    build(pipeline, job, [PartitionRange("t", 0, 0, 10)], mode="local")
    assert not [r for r in caplog.records if "deterministic" in r.getMessage()]


def test_durations_for_lateness():
    from datetime import timedelta

    from pipelines.durations import parse_duration

    assert parse_duration("1d") == parse_duration("P1D") == parse_duration("24h") == timedelta(days=1)
    assert parse_duration("1h30m") == parse_duration("PT1H30M") == timedelta(minutes=90)
    assert parse_duration("0") == timedelta(0)
    for bad in ("", "5", "1y", "P1M", "six hours"):
        with pytest.raises(ValueError):
            parse_duration(bad)


def test_process_reads_warc_and_compressed_forms(tmp_path: Path):
    from pipelines.cli.inputs import plan_inputs

    for name in ("a.json", "b.jsonl.zst", "c.html.bz2", "d.htm", "e.txt.gz", "f.warc", "g.warc.gz", "h.md"):
        (tmp_path / name).write_bytes(b"")
    plan = plan_inputs([str(tmp_path)])
    assert [Path(p).name for p in plan.files] == [
        "a.json", "b.jsonl.zst", "c.html.bz2", "d.htm", "e.txt.gz", "f.warc", "g.warc.gz",
    ]  # fmt: skip
    assert plan.skipped_line() == "skipped 1 file: 1 .md"


def test_a_reader_that_leaves_early_ends_the_output_quietly_exit_141(tmp_path):
    """``newsflow process ... | head -1``: no failure line, no BrokenPipeError, 128 + SIGPIPE as cat's."""
    lines = [
        json.dumps({"url": f"https://ok.example/{i}", "text": f"Story {i} of the council. " * 8})
        for i in range(400)
    ]
    (tmp_path / "many.jsonl").write_text("\n".join(lines) + "\n")
    run = subprocess.Popen(
        command("process", str(tmp_path / "many.jsonl"), "--entities", "false"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert run.stdout is not None and run.stderr is not None
    assert json.loads(run.stdout.readline())["kind"] == "article"
    run.stdout.close()  # as head does after its line
    err = run.stderr.read().decode()
    assert run.wait(timeout=120) == 141, err
    assert "BrokenPipe" not in err and "command_failed" not in err and "Exception ignored" not in err, err


@pytest.mark.parametrize(
    "window",
    [["--from", "garbage", "--to", "2026-10-01"], ["--from", "2026-11-01", "--to", "2026-10-01"]],
)
def test_a_backfill_window_mistake_is_told_before_the_workers_model_loads(window, tmp_path):
    """The fork server starts loading the NER model at once; a usage error must not wait for it."""
    run = newsflow("backfill", "--topic", "t", *window, "--output", str(tmp_path / "out"))
    failure_line(run, 2)
    assert "entities.loaded" not in run.stderr, run.stderr


def test_a_mistyped_log_format_variable_is_one_line_exit_2():
    """Without the flag (which :func:`command` passes), the variable is what sets the format."""
    env = {**os.environ, "NEWSFLOW_LOG_FORMAT": "xml"}
    run = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "process", "x.jsonl"], capture_output=True, text=True, env=env
    )
    assert run.returncode == 2, run.stderr
    assert (
        run.stderr
        == "newsflow: environment variable NEWSFLOW_LOG_FORMAT: 'xml' is not one of auto, json, console\n"
    )


@pytest.mark.parametrize(
    ("output", "reason"), [("a-file", "not a directory"), ("a-file/sub", "Not a directory")]
)
def test_a_backfill_output_that_cannot_be_a_directory_is_exit_7_before_any_work(output, reason, tmp_path):
    (tmp_path / "a.jsonl").write_text('{"text": "x"}\n')
    (tmp_path / "a-file").write_text("not a directory\n")
    run = newsflow("backfill", "--input", str(tmp_path / "a.jsonl"), "--output", str(tmp_path / output))
    last = failure_line(run, 7)
    assert last["error"] == f"--output {tmp_path / output}: {reason}"
    assert "entities.loaded" not in run.stderr, run.stderr


@pytest.mark.parametrize("command", ["process", "produce"])
def test_a_directory_with_nothing_to_read_is_exit_7_not_a_silent_success(command, tmp_path, capsys, console):
    (tmp_path / "empty").mkdir()
    (tmp_path / "pictures").mkdir()
    (tmp_path / "pictures" / "x.png").write_bytes(b"\x89PNG")
    for name, found in [("empty", "no file at all"), ("pictures", "skipped 1 file: 1 .png")]:
        assert cli.main(["--log-format", "console", command, str(tmp_path / name)]) == 7
        err = capsys.readouterr().err.strip()
        assert err.startswith(
            f"newsflow {command}: {tmp_path / name}: nothing to read ({found}; newsflow reads .jsonl"
        )
        assert len(err.splitlines()) == 1


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port another process listens on."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        yield other.getsockname()[1]


def _events(run: subprocess.CompletedProcess) -> list[str]:
    return [json.loads(line)["event"] for line in run.stderr.strip().splitlines() if line.startswith("{")]


def test_a_metrics_port_in_use_is_exit_2_before_the_brokers_are_asked_or_the_model_loads(busy_port, tmp_path):
    """Told at once: before, the stream waited for its brokers and the fork server's model load first."""
    stream = newsflow(
        "stream", "--metrics-port", str(busy_port),
        "--bootstrap-servers", f"127.0.0.1:{free_port()}", "--connect-timeout", "3",
    )  # fmt: skip
    last = failure_line(stream, 2)
    assert last["error"] == f"--metrics-port {busy_port} on 127.0.0.1: Address already in use"
    assert _events(stream) == ["command_failed"], stream.stderr  # no kafka_unreachable, no entities.loaded
    (tmp_path / "a.jsonl").write_text('{"text": "The council met on Monday in Leeds."}\n')
    backfill = newsflow(
        "backfill", "--input", str(tmp_path / "a.jsonl"), "--output", str(tmp_path / "out"),
        "--metrics-port", str(busy_port),
    )  # fmt: skip
    assert failure_line(backfill, 2)["error"] == last["error"]
    assert _events(backfill) == ["command_failed"], backfill.stderr


@pytest.mark.parametrize("under", ["", "sub"])
def test_a_state_dir_that_cannot_be_a_directory_is_exit_7_before_anything_loads(under, tmp_path):
    (tmp_path / "a-file").write_text("not a directory\n")
    state = tmp_path / "a-file" / under if under else tmp_path / "a-file"
    reason = "not a directory" if not under else f"{tmp_path / 'a-file'} is not a directory"
    stream = newsflow(
        "stream", "--state-dir", str(state),
        "--bootstrap-servers", f"127.0.0.1:{free_port()}", "--connect-timeout", "3",
    )  # fmt: skip
    assert failure_line(stream, 7)["error"] == f"--state-dir {state}: {reason}"
    assert _events(stream) == ["command_failed"], stream.stderr
    (tmp_path / "a.jsonl").write_text('{"text": "The council met on Monday in Leeds."}\n')
    backfill = newsflow(
        "backfill", "--input", str(tmp_path / "a.jsonl"), "--output", str(tmp_path / "out"),
        "--state-dir", str(state),
    )  # fmt: skip
    assert failure_line(backfill, 7)["error"] == f"--state-dir {state}: {reason}"
    assert _events(backfill) == ["command_failed"], backfill.stderr


def test_the_default_state_dir_is_checked_too(tmp_path):
    (tmp_path / "data").write_text("XDG_DATA_HOME is a file\n")
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "data")}
    env.pop("NEWSFLOW_STATE_DIR", None)
    run = newsflow(
        "stream", "--bootstrap-servers", f"127.0.0.1:{free_port()}", "--connect-timeout", "3", env=env
    )
    error = failure_line(run, 7)["error"]
    assert error.startswith(
        f"state dir {tmp_path / 'data'}/newsflow/state/newsflow--articles.raw (the default;"
    )
    assert error.endswith(f": {tmp_path / 'data'} is not a directory")


@pytest.mark.parametrize("exists", [True, False])
def test_an_unwritable_state_dir_stops_a_stream_before_its_brokers_and_model(
    exists, tmp_path, monkeypatch, capsys, console
):
    """Not writable for this user (as root, permissions do not stop a write: ``os.access`` says so here)."""
    from pipelines.cli.commands import stream
    from pipelines.engine import worker_forks

    def not_yet(*args, **kwargs):
        raise AssertionError("the brokers were asked or the model loaded before the state dir was checked")

    monkeypatch.setattr(stream, "check_stream", not_yet)
    monkeypatch.setattr(worker_forks.ForkServer, "start", not_yet)
    monkeypatch.setattr("pipelines.stream.run", not_yet)
    locked = tmp_path / "locked"
    locked.mkdir()
    access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode: str(path) != str(locked) and access(path, mode))
    state = locked if exists else locked / "new"
    assert cli.main(["--log-format", "console", "stream", "--state-dir", str(state)]) == 7
    where = "" if exists else f" (it would be made in {locked})"
    assert capsys.readouterr().err == f"newsflow stream: --state-dir {state}: not writable{where}\n"


@pytest.mark.parametrize(
    ("inputs", "found"),
    [
        (["empty"], "no file at all"),
        (["pictures", "empty"], "skipped 1 file: 1 .png"),
        (["pipe"], "skipped 1 file: 1 (no extension)"),
    ],
)
def test_a_backfill_of_nothing_readable_is_exit_7_before_the_model_loads(inputs, found, tmp_path):
    """As ``process`` and ``produce`` say it: a backfill of an empty directory ended 0 with 0 records."""
    (tmp_path / "empty").mkdir()
    (tmp_path / "pictures").mkdir()
    (tmp_path / "pictures" / "x.png").write_bytes(b"\x89PNG")
    os.mkfifo(tmp_path / "pipe")
    args = [a for name in inputs for a in ("--input", str(tmp_path / name))]
    run = newsflow("backfill", *args, "--output", str(tmp_path / "out"))
    error = failure_line(run, 7)["error"]
    assert error.startswith(f"{' '.join(str(tmp_path / n) for n in inputs)}: nothing to read ({found}; ")
    assert "entities.loaded" not in run.stderr, run.stderr


def test_entities_reads_a_pipe_as_a_file(tmp_path):
    """``... | newsflow entities /dev/stdin``: a path that exists and is no directory is read (it said
    "no such file" of a FIFO); a missing one is still told before the model loads."""
    run = subprocess.run(
        command("entities", "/dev/stdin"),
        input="Angela Merkel met officials in Paris on Monday.\n",
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert out["path"] == "/dev/stdin" and "Angela Merkel" in [e["name"] for e in out["entities"]]
    missing = newsflow("entities", str(tmp_path / "gone.txt"))
    assert failure_line(missing, 7)["error"] == f"{tmp_path / 'gone.txt'}: no such file"
    assert "entities.loaded" not in missing.stderr


@given(
    hosts=st.lists(
        st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?(\.[a-z0-9]{1,8}){0,3}", fullmatch=True)
        | st.ip_addresses(v=4).map(str)
        | st.ip_addresses(v=6).map(lambda a: f"[{a}]"),
        min_size=1,
        max_size=4,
    ),
    port=st.integers(-5, 70_000),
)
def test_a_server_list_is_taken_exactly_when_every_port_is_one(hosts, port):
    """Any host name or address with a port in 1-65535 is taken as given; any other port is refused."""
    from transforms.settings import server_list

    text = ",".join(f"{host}:{port}" for host in hosts)
    if 1 <= port <= 65535:
        assert server_list(text) == text
    else:
        with pytest.raises(ValueError, match="the port must be a number from 1 to 65535"):
            server_list(text)
