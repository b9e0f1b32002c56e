"""structlog set-up: key=value on a console, JSON lines otherwise (files, pipes, CI)."""

from __future__ import annotations

import logging
import sys

import structlog

_SECRET_KEYS = ("password", "secret", "token", "sasl_plain_password", "ssl_password", "api_key")


def _redact(_logger: object, _method: str, event: dict) -> dict:
    """Never let a secret reach a log line, whatever key a caller used."""
    for key in list(event):
        if any(s in key.lower() for s in _SECRET_KEYS):
            event[key] = "***"
    return event


def _stderr_logger(*_args: object) -> structlog.PrintLogger:
    """Look ``sys.stderr`` up at each use, so a replaced stream (tests, daemons) is never stale."""
    return structlog.PrintLogger(file=sys.stderr)


def configure(level: str = "INFO", *, json: bool | None = None) -> None:
    use_json = (not sys.stderr.isatty()) if json is None else json
    renderer = (
        structlog.processors.JSONRenderer() if use_json else structlog.dev.ConsoleRenderer(colors=False)
    )
    logging.basicConfig(stream=sys.stderr, level=level, format="%(message)s")
    for noisy in ("kafka", "apache_beam", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _redact,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=_stderr_logger,
        cache_logger_on_first_use=False,
    )
