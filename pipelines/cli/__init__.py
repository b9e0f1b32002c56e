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
import os
import pkgutil
import sys

from pipelines import __version__, logs
from pipelines.cli import commands


def _add_logging_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--log-level",
        default=os.environ.get("NEWSFLOW_LOG_LEVEL", "INFO"),
        help="Log level (env NEWSFLOW_LOG_LEVEL; default INFO).",
    )
    parser.add_argument(
        "--log-format",
        choices=tuple(logs.RENDERINGS),
        default=os.environ.get("NEWSFLOW_LOG_FORMAT", "auto"),
        help="Log rendering: auto is key=value on a TTY, JSON lines otherwise (env NEWSFLOW_LOG_FORMAT).",
    )


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser of every command, or of ``command`` alone when it names one: only its module is then
    imported, so a command starts without the others' imports (a backfill starts its fork server sooner)."""
    names = sorted(m.name for m in pkgutil.iter_modules(commands.__path__))
    parser = argparse.ArgumentParser(
        prog="newsflow",
        description="Streaming ingestion for news: Kafka in; dedup, boilerplate removal, NER; Avro out.",
    )
    parser.add_argument("--version", action="version", version=f"newsflow {__version__}")
    _add_logging_flags(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in [command] if command in names else names:
        importlib.import_module(f"{commands.__name__}.{name}").add_parser(sub)
    return parser


def split_beam_args(argv: list[str]) -> tuple[list[str], list[str]]:
    """Everything after the first literal ``--`` is for Beam (runner and pipeline options)."""
    if "--" not in argv:
        return argv, []
    cut = argv.index("--")
    return argv[:cut], argv[cut + 1 :]


def main(argv: list[str] | None = None) -> int:
    argv, beam_args = split_beam_args(list(sys.argv[1:] if argv is None else argv))
    # Logging first: importing the commands imports Beam, which already logs.
    early = argparse.ArgumentParser(add_help=False)
    _add_logging_flags(early)
    flags, rest = early.parse_known_args(argv)
    use_json = logs.configure(flags.log_level.upper(), json=logs.RENDERINGS.get(flags.log_format))
    # Worker processes (multi-process DirectRunner) log the same way: see logs.configure_from_env.
    os.environ["NEWSFLOW_LOG_LEVEL"] = flags.log_level.upper()
    os.environ["NEWSFLOW_LOG_FORMAT"] = "json" if use_json else "console"
    args = build_parser(rest[0] if rest else None).parse_args(argv)
    args.beam_args = beam_args
    return int(args.func(args) or 0)
