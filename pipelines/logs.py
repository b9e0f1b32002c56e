"""structlog set-up: key=value on a console, JSON lines otherwise (files, pipes, CI)."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
import time

import structlog

from transforms.text_repair import printable

_SECRET_KEYS = ("password", "secret", "token", "sasl_plain_password", "ssl_password", "api_key")


def _redact(_logger: object, _method: str, event: dict) -> dict:
    """Never let a secret reach a log line, whatever key a caller used."""
    for key in list(event):
        if any(s in key.lower() for s in _SECRET_KEYS):
            event[key] = "***"
    return event


MAX_VALUE_CHARS = 1_500
"""Longest text a log field keeps. A line of JSON then stays within the 4 KB that one write to a pipe
delivers whole, so lines of Beam's worker processes, which share the run's stderr, never run into each
other; and no payload or page reaches a log in full."""


def _bounded(_logger: object, _method: str, event: dict) -> dict:
    """Cuts long text fields to their start and end (a traceback's end is where it failed)."""
    for key, value in event.items():
        if isinstance(value, str) and len(value) > MAX_VALUE_CHARS:
            half = MAX_VALUE_CHARS // 2
            event[key] = f"{value[:half]} …[{len(value) - 2 * half} characters cut]… {value[-half:]}"
    return event


def _printable(_logger: object, _method: str, event: dict) -> dict:
    """Text fields in valid Unicode: a file name that is not UTF-8 is named with its bytes escaped
    (``caf\\xe9.jsonl``), as in records, not as lone surrogates (garbage on a terminal, invalid in JSON)."""
    for key, value in event.items():
        if isinstance(value, str) and not value.isascii():
            event[key] = printable(value)
    return event


def _stderr_logger(*_args: object) -> structlog.PrintLogger:
    """Look ``sys.stderr`` up at each use, so a replaced stream (tests, daemons) is never stale."""
    return structlog.PrintLogger(file=sys.stderr)


class _ImportNoise(logging.Filter):
    """Drops Beam's import-time notice about optional Google Cloud clients, which says nothing about a run."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("apitools not found")


THIRD_PARTY = ("kafka", "apache_beam", "urllib3")
"""Libraries whose own log records pass through :class:`_OperatorView` (all of them at DEBUG)."""

DEMOTED = ("kafka.net", "kafka.cluster", "kafka.coordinator", "kafka.client_async", "kafka.conn")
"""kafka-python's connection, metadata and coordinator chatter (refused connections, "No node available",
"Marking the coordinator dead", "blocking the event loop", "Topic ... not found in cluster metadata"): each
problem it describes newsflow reports in its own terms (broker unreachable, unknown topic, a retry that
failed), so an operator sees these at DEBUG only."""

RUNNER_ARGS = frozenset({"--pipeline_type_check", "--direct_runner_use_stacked_bundle"})
"""Options Beam's DirectRunner passes its own worker processes, which each then warns it discards."""

_UNPARSEABLE = re.compile(r"Discarding unparseable args: \[([^\]]*)\]")


def _startup_notice(text: str) -> bool:
    """What each of Beam's local worker processes warns as it starts, itself and relayed by the job service
    (``Worker: ... message: "..."``): the runner's own options, a directory only remote runners have.
    Nothing an operator can act on, so DEBUG only; a user's own unparseable Beam argument still shows."""
    if "No semi_persistent_directory found" in text:
        return True
    found = _UNPARSEABLE.search(text)
    return found is not None and set(re.findall(r"--[^'\\\s,]+", found.group(1))) <= RUNNER_ARGS


REPEAT_WINDOW = 60.0
"""Seconds during which a record repeating one already shown is counted instead of shown: on the monotonic
clock, not the records' wall-clock times, so a clock stepped back (NTP) does not hide repeats until it has
caught up again."""


class _OperatorView(logging.Filter):
    """Third-party records as an operator needs them, unless the level is DEBUG (then everything passes):
    kafka-python's chatter in :data:`DEMOTED` is dropped; a record repeating the same message of the same
    library within :data:`REPEAT_WINDOW` s is counted, and the count reported in one line (``log_repeats``)
    when the message next shows or at exit; tracebacks attached to their records are left out."""

    def __init__(self, debug: bool) -> None:
        super().__init__()
        self.debug = debug
        self.shown: dict[tuple[str, int, str], list[float]] = {}  # key -> [shown at (monotonic), repeats]

    def filter(self, record: logging.LogRecord) -> bool:
        if self.debug or not record.name.startswith(THIRD_PARTY):
            return True
        if record.name.startswith(DEMOTED):
            return False
        with contextlib.suppress(Exception):  # a record whose arguments do not fit its format is kept
            if _startup_notice(record.getMessage()):
                return False
        key = (record.name, record.levelno, str(record.msg))
        entry = self.shown.get(key)
        now = time.monotonic()
        if entry is not None and now - entry[0] < REPEAT_WINDOW:
            entry[1] += 1
            return False
        if entry is not None and entry[1]:
            _report_repeats(key, entry)
        self.shown[key] = [now, 0]
        # A library's traceback is for DEBUG only, attached or written into the message (Beam does both).
        record.exc_info = record.exc_text = record.stack_info = None
        with contextlib.suppress(Exception):  # a record whose arguments do not fit its format: as it is
            text = record.getMessage()
            if "\n" in text:
                record.msg, record.args = text.split("\n", 1)[0] + " […]", None
        return True

    def flush(self) -> None:
        for key, entry in self.shown.items():
            if entry[1]:
                _report_repeats(key, entry)
                entry[1] = 0


def _report_repeats(key: tuple[str, int, str], entry: list[float]) -> None:
    name, level, message = key
    structlog.get_logger(name).log(
        level,
        "log_repeats",
        message=message[:200],
        repeats=int(entry[1]),
        seconds=round(time.monotonic() - entry[0], 1),
    )


_VIEWS: list[_OperatorView] = []


def flush_repeats() -> None:
    """Report the repeats counted but not reported yet (the CLI calls this as a command ends)."""
    for view in _VIEWS:
        view.flush()


LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
"""``--log-level`` values."""
RENDERINGS = {"auto": None, "json": True, "console": False}
"""``--log-format`` values and their ``json`` argument for :func:`configure` (auto: JSON unless on a TTY)."""


def configure(level: str = "INFO", *, json: bool | None = None) -> bool:
    """structlog for our lines; the standard library's (Beam, kafka-python) go through the same renderer, so
    a run's stderr is one format: JSON lines or key=value. Returns whether it is JSON."""
    use_json = (not sys.stderr.isatty()) if json is None else json
    renderer = (
        structlog.processors.JSONRenderer() if use_json else structlog.dev.ConsoleRenderer(colors=False)
    )
    shared = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _redact,
    ]
    # JSON carries a traceback as text (a console renders it itself); then long fields are cut.
    ending = [*([structlog.processors.format_exc_info] if use_json else []), _bounded, _printable, renderer]
    debug = logging.getLevelName(level) <= logging.DEBUG
    view = _OperatorView(debug)
    _VIEWS[:] = [view]
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_ImportNoise())
    handler.addFilter(view)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[structlog.stdlib.add_logger_name, *shared],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *ending],
        )
    )
    logging.basicConfig(level=level, handlers=[handler], force=True)
    # Their DEBUG records trace every request (thousands a second); at our DEBUG, their INFO and up
    # pass whole, which holds every record the operator's view filters (all WARNING and up).
    for library in THIRD_PARTY:
        logging.getLogger(library).setLevel(logging.INFO if debug else logging.WARNING)
    structlog.configure(
        processors=[*shared, *ending],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=_stderr_logger,
        cache_logger_on_first_use=False,
    )
    return use_json


def configure_from_env() -> None:
    """For Beam's worker processes, which import our modules but never run the CLI: the level and rendering
    the CLI chose (it exports them as ``NEWSFLOW_LOG_LEVEL`` and ``NEWSFLOW_LOG_FORMAT``), once per process,
    never over an explicit configuration."""
    if structlog.is_configured():
        return
    rendering = os.environ.get("NEWSFLOW_LOG_FORMAT", "auto")
    level = os.environ.get("NEWSFLOW_LOG_LEVEL", "INFO").upper()
    # Importing the package must not crash on a mistyped variable: the CLI names it (exit 2) right after.
    configure(level if level in LEVELS else "INFO", json=RENDERINGS.get(rendering))
