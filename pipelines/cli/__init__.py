"""The ``newsflow`` command line (``newsflow ...`` or ``python -m pipelines.cli ...``). Each sub-command lives
in ``pipelines/cli/commands/<name>.py``; the modules beside this one are what only the commands use (reading
input files, reading a topic to its end, planning a dead-letter replay).

A command module defines ``add_parser(subparsers)``, which registers its parser and sets ``func`` to a
callable taking the parsed namespace and returning an exit code. Arguments after a literal ``--`` are
Beam pipeline options (``--runner``, ``--direct_num_workers``...) and arrive as ``args.beam_args``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import pkgutil
import signal
import sys
import traceback
from importlib import metadata
from pathlib import Path
from typing import NoReturn

import structlog

import transforms
from pipelines import __version__, failures, logs
from pipelines.cli import commands
from transforms.text_repair import printable

log = structlog.get_logger("newsflow")


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Every option's help ends with its default, unless it says it already or has none (``None``, an
    unset switch); descriptions and epilogs keep their line breaks (the exit-code table)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if "default" in text.lower() or action.default in (None, False, argparse.SUPPRESS):
            return text
        if not action.option_strings or action.default == []:
            return text
        return f"{text} (default: %(default)s)"


class Parser(argparse.ArgumentParser):
    """argparse with :class:`HelpFormatter` for every command and sub-command."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        """One line, not the whole usage (a stream's runs to 25 lines): what is wrong and where to look."""
        self.exit(failures.BadUsage.exit_code, f"{self.prog}: {message} (see {self.prog} --help)\n")


def versions() -> str:
    """newsflow's version and those of what it runs on: Beam, the Kafka client, the NER model."""
    parts = [f"newsflow {__version__}"]
    for dist in ("apache-beam", "kafka-python", "fastavro"):
        try:
            parts.append(f"{dist} {metadata.version(dist)}")
        except metadata.PackageNotFoundError:
            parts.append(f"{dist} not installed")
    meta = Path(transforms.__file__).resolve().parent / "entities" / "model" / "meta.json"
    try:
        model = json.loads(meta.read_text(encoding="utf-8"))
        parts.append(f"NER model {model['name']} {model['version']}")
    except (OSError, ValueError, KeyError):
        parts.append("NER model not found")
    return "\n".join(parts)


def _epilog() -> str:
    codes = "\n".join(f"  {code:>3}  {text}" for code, text in failures.EXIT_CODES)
    return (
        "Every flag can also come from an environment variable: NEWSFLOW_<FLAG NAME> in capitals with\n"
        "underscores (--bootstrap-servers: NEWSFLOW_BOOTSTRAP_SERVERS); each command's --help names them.\n"
        "Secrets (NEWSFLOW_SASL_PASSWORD, NEWSFLOW_SSL_PASSWORD) are best given that way.\n"
        "NEWSFLOW_LOG_LEVEL and NEWSFLOW_LOG_FORMAT set --log-level and --log-format;\n"
        "NEWSFLOW_KAFKA_DATA_DIR the local broker's data dir (newsflow kafka).\n\n"
        f"Exit codes:\n{codes}"
    )


def _add_logging_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--log-level",
        default=os.environ.get("NEWSFLOW_LOG_LEVEL", "INFO"),
        type=str.upper,
        choices=logs.LEVELS,
        help="Log level; DEBUG also shows the Kafka client's and Beam's own records in full, and the "
        "traceback of a failure (env NEWSFLOW_LOG_LEVEL; default INFO).",
    )
    parser.add_argument(
        "--log-format",
        choices=tuple(logs.RENDERINGS),
        default=os.environ.get("NEWSFLOW_LOG_FORMAT", "auto"),
        help="Log rendering: auto is key=value on a TTY, JSON lines otherwise (env NEWSFLOW_LOG_FORMAT; "
        "default auto).",
    )


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser of every command, or of ``command`` alone when it names one: only its module is then
    imported, so a command starts without the others' imports (a backfill starts its fork server sooner)."""
    names = sorted(m.name for m in pkgutil.iter_modules(commands.__path__))
    parser = Parser(
        prog="newsflow",
        description="Streaming ingestion for news: Kafka in; dedup, boilerplate removal, NER; Avro out.",
        epilog=_epilog(),
    )
    parser.add_argument("--version", action="version", version=versions())
    _add_logging_flags(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True, parser_class=Parser)
    for name in [command] if command in names else names:
        importlib.import_module(f"{commands.__name__}.{name}").add_parser(sub)
    return parser


def split_beam_args(argv: list[str]) -> tuple[list[str], list[str]]:
    """Everything after the first literal ``--`` is for Beam (runner and pipeline options)."""
    if "--" not in argv:
        return argv, []
    cut = argv.index("--")
    return argv[:cut], argv[cut + 1 :]


ACTIONS = ("kafka_action", "dlq_command")
"""Namespace attributes of commands with actions, which the failure line names (``newsflow kafka up``)."""


def _terminate(signum: int, frame: object) -> None:
    """SIGTERM as a first Ctrl-C, in commands without a clean stop of their own (``stream`` has one)."""
    raise KeyboardInterrupt


def report(failure: failures.UserError, command: str, use_json: bool) -> None:
    """The one line a failure ends in: plain text on a console, a JSON log line otherwise. A file name in it
    that is not UTF-8 is written with its bytes escaped (``caf\\xe9.jsonl``), as records name it."""
    if use_json:
        log.error("command_failed", command=command, reason=failure.kind, exit_code=failure.exit_code,
                  error=failure.message)  # fmt: skip
    else:
        print(f"newsflow {command}: {printable(failure.message)}", file=sys.stderr, flush=True)


def _drop_stdout() -> None:
    """Point stdout at /dev/null, so that flushing its buffer at exit cannot fail on the closed pipe again
    (Python would print ``Exception ignored ... BrokenPipeError`` after the exit code is set)."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # a stand-in stdout (tests) holds no descriptor
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


def main(argv: list[str] | None = None) -> int:
    argv, beam_args = split_beam_args(list(sys.argv[1:] if argv is None else argv))
    # Logging first: importing the commands imports Beam, which already logs.
    early = argparse.ArgumentParser(add_help=False)
    _add_logging_flags(early)
    flags, rest = early.parse_known_args(argv)
    for name, value, allowed in (
        ("NEWSFLOW_LOG_LEVEL", flags.log_level, logs.LEVELS),
        ("NEWSFLOW_LOG_FORMAT", flags.log_format, tuple(logs.RENDERINGS)),
    ):  # argparse checks a flag's value, never a default: here the variable's
        if value not in allowed:
            print(f"newsflow: environment variable {name}: {value!r} is not one of {', '.join(allowed)}",
                  file=sys.stderr)  # fmt: skip
            return failures.BadUsage.exit_code
    use_json = logs.configure(flags.log_level, json=logs.RENDERINGS.get(flags.log_format))
    # Worker processes (multi-process DirectRunner) log the same way: see logs.configure_from_env.
    os.environ["NEWSFLOW_LOG_LEVEL"] = flags.log_level
    os.environ["NEWSFLOW_LOG_FORMAT"] = "json" if use_json else "console"
    args = build_parser(rest[0] if rest else None).parse_args(argv)
    args.beam_args = beam_args
    command = " ".join(filter(None, (args.command, *(getattr(args, a, None) for a in ACTIONS))))
    signal.signal(signal.SIGTERM, _terminate)
    try:
        return int(args.func(args) or 0)
    except (Exception, KeyboardInterrupt) as exc:  # one clear line, the traceback only when debugging
        failure = failures.explain(exc) or failures.Unexpected(
            f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''} "
            "(a bug? --log-level debug shows the traceback)"
        )
        if isinstance(failure, failures.OutputClosed):
            _drop_stdout()  # what the reader wanted (``| head -1``) it has: leave as quietly as ``cat``
            return failure.exit_code
        if flags.log_level == "DEBUG":
            traceback.print_exception(exc, file=sys.stderr)
        report(failure, command, use_json)
        return failure.exit_code
    finally:
        logs.flush_repeats()
