"""What a user can get wrong, each with one clear message and its own exit code.

Commands raise these (or let kafka-python's and the standard library's errors through); ``pipelines.cli``
turns any of them into one line on stderr and the exit code below, with the traceback only at
``--log-level debug``. The README's "Troubleshooting" section lists the same table.
"""

from __future__ import annotations

import difflib
import re
import sqlite3
from collections.abc import Iterable, Iterator
from typing import ClassVar

from kafka import errors as kafka_errors

from transforms.kafka_io import TopicMissing


class UserError(Exception):
    """A mistake or a state of the world the user can fix; the message says what and how."""

    exit_code: ClassVar[int] = 1
    kind: ClassVar[str] = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Unexpected(UserError):
    """Anything else: a bug, or a failure newsflow does not know how to explain."""

    exit_code = 1
    kind = "unexpected_error"


class BadUsage(UserError):
    """A flag or environment variable with a value newsflow cannot use (argparse's own errors exit 2 too)."""

    exit_code = 2
    kind = "bad_usage"


class AuthenticationFailed(UserError):
    """The brokers refused the credentials (SASL user or password), or their TLS certificate is not trusted."""

    exit_code = 3
    kind = "kafka_authentication_failed"


class BrokerUnreachable(UserError):
    """No broker answered within the connect timeout (kafka status: the local broker is not running)."""

    exit_code = 4
    kind = "kafka_unreachable"


class NotAuthorised(UserError):
    """The user is known but a Kafka ACL does not let it do an operation on a topic or group."""

    exit_code = 5
    kind = "kafka_not_authorised"


def not_authorised(resource: str, operation: str, principal: str | None = None) -> NotAuthorised:
    who = f"user {principal!r}" if principal else "this client"
    return NotAuthorised(
        f"{who} is not authorised to {operation} {resource}: an ACL allowing {operation} on it is missing "
        "(the README lists the ACLs newsflow needs)"
    )


class UnknownTopic(UserError):
    """A topic named by a flag does not exist (the message suggests the closest existing name)."""

    exit_code = 6
    kind = "unknown_topic"


def unknown_topic(topic: str, existing: Iterable[str] = (), where: str = "") -> UnknownTopic:
    close = closest(topic, existing)
    hint = f"; did you mean {close!r}?" if close else ""
    return UnknownTopic(f"topic {topic!r} does not exist{' on ' + where if where else ''}{hint}")


class InputFileError(UserError):
    """A file or directory named on the command line is missing or cannot be read (an output: written)."""

    exit_code = 7
    kind = "input_file_error"


class UnexpectedFormat(UserError):
    """A topic holds messages of another format than the command reads."""

    exit_code = 8
    kind = "unexpected_format"


class MissingCodec(UserError):
    """A Kafka compression codec cannot be decoded: its Python library is not installed."""

    exit_code = 9
    kind = "missing_codec"


class OutputClosed(UserError):
    """The reader of the output went away (``newsflow consume | head -1``): 128 + SIGPIPE, said nowhere."""

    exit_code = 141
    kind = "output_closed"


class Aborted(UserError):
    """Interrupted (a second Ctrl-C, or Ctrl-C in a command that has no clean stop): 128 + SIGINT."""

    exit_code = 130
    kind = "aborted"


EXIT_CODES: tuple[tuple[int, str], ...] = tuple(
    (cls.exit_code, (cls.__doc__ or cls.kind).strip().splitlines()[0])
    for cls in (
        Unexpected,
        BadUsage,
        AuthenticationFailed,
        BrokerUnreachable,
        NotAuthorised,
        UnknownTopic,
        InputFileError,
        UnexpectedFormat,
        MissingCodec,
        Aborted,
        OutputClosed,
    )
)


def closest(name: str, candidates: Iterable[str]) -> str | None:
    """The candidate most like ``name`` (a typo's likely intent), if any is close enough."""
    matches = difflib.get_close_matches(name, [c for c in candidates if not c.startswith("__")], n=1)
    return matches[0] if matches else None


_AUTHORISATION = {
    kafka_errors.TopicAuthorizationFailedError: ("a topic", "READ or WRITE"),
    kafka_errors.GroupAuthorizationFailedError: ("the consumer group", "READ"),
    kafka_errors.ClusterAuthorizationFailedError: ("the cluster", "the cluster operation"),
    kafka_errors.TransactionalIdAuthorizationFailedError: ("the transactional id", "WRITE"),
}


_STATE_UNWRITABLE = re.compile(
    r"disk is full|disk I/O error|readonly database|unable to open database file", re.IGNORECASE
)
"""SQLite's words for a state dir that cannot be written (the dedup index, the crash journal): a full or
read-only disk, not a bug."""


def _state_unwritable(cause: BaseException) -> str | None:
    """SQLite's reason, when ``cause`` is a local state database that cannot be written: raised here, or
    reported by a chain worker as its text (``OperationalError: ...``)."""
    text = _first_line(cause)
    sqlite = isinstance(cause, sqlite3.OperationalError) or text.startswith("OperationalError: ")
    found = _STATE_UNWRITABLE.search(text) if sqlite else None
    return found.group(0) if found else None


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception, its cause and context, and so on (Beam wraps a DoFn's error in its own)."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def explain(exc: BaseException) -> UserError | None:
    """The :class:`UserError` an exception amounts to, or None when it is not a user's mistake."""
    for cause in _chain(exc):
        if isinstance(cause, UserError):
            return cause
        if isinstance(cause, KeyboardInterrupt):
            return Aborted("interrupted")
        if isinstance(cause, BrokenPipeError):
            return OutputClosed("the output's reader closed the pipe")
        if isinstance(cause, kafka_errors.SaslAuthenticationFailedError):
            return AuthenticationFailed(f"the brokers refused the SASL credentials: {_first_line(cause)}")
        for error_type, (resource, operation) in _AUTHORISATION.items():
            if isinstance(cause, error_type):
                return not_authorised(f"{resource} ({_first_line(cause)})", operation)
        if isinstance(cause, kafka_errors.KafkaConnectionError):
            return BrokerUnreachable(f"Kafka unreachable: {_first_line(cause)}")
        if isinstance(cause, kafka_errors.KafkaTimeoutError) and "bootstrap" in str(cause).lower():
            return BrokerUnreachable(f"Kafka unreachable: {_first_line(cause)}")
        if isinstance(cause, kafka_errors.UnsupportedCodecError):
            return MissingCodec(f"a record batch cannot be decoded: {_first_line(cause)}")
        if isinstance(cause, TopicMissing):
            return UnknownTopic(str(cause))
        if isinstance(cause, kafka_errors.UnknownTopicOrPartitionError):
            return UnknownTopic(f"unknown topic or partition: {_first_line(cause)}")
        if reason := _state_unwritable(cause):
            return InputFileError(
                f"the state dir cannot be written ({reason}): free space under --state-dir or make it "
                "writable, then start again; nothing was committed past the last batch written"
            )
        if isinstance(cause, OSError) and cause.filename is not None:
            reason = cause.strerror or type(cause).__name__
            return InputFileError(f"{cause.filename}: {reason}")
    return None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__
