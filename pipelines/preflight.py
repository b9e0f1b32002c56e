"""Checks before any heavy work: the brokers answer, accept the credentials, and have the topics a command
names, with the ACLs it needs on them; the state dir can be one. Each failure is one
:mod:`pipelines.failures` error, raised before a model loads or a pipeline starts, instead of a retry storm
and a traceback later.

kafka-python reports a refused password only in its log (its bootstrap then times out like an unreachable
broker), so the connection attempt watches the client's log records for the exceptions they carry.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import ssl
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING

import structlog
from kafka import KafkaAdminClient, codec
from kafka import errors as kafka_errors

from pipelines.failures import (
    AuthenticationFailed,
    BrokerUnreachable,
    InputFileError,
    MissingCodec,
    not_authorised,
    unknown_topic,
)
from transforms.settings import KafkaSettings

if TYPE_CHECKING:
    from pipelines.options import Topics

log = structlog.get_logger(__name__)

ATTEMPT_SECONDS = 5.0
"""Longest single connection attempt, so that the whole wait never outlasts the timeout by much."""

_UNKNOWN_TOPIC = kafka_errors.UnknownTopicOrPartitionError.errno
_TOPIC_DENIED = kafka_errors.TopicAuthorizationFailedError.errno


class _ClientErrors(logging.Handler):
    """Collects the exceptions kafka-python's log records carry while attached."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.seen: list[BaseException] = []

    def emit(self, record: logging.LogRecord) -> None:
        args = record.args if isinstance(record.args, tuple) else (record.args,)
        errors = [a for a in args if isinstance(a, BaseException)]
        if record.exc_info and record.exc_info[1] is not None:
            errors.append(record.exc_info[1])
        if errors and any(_lost_in_sasl(a) for a in args):
            errors = [kafka_errors.SaslAuthenticationFailedError("the broker ended the SASL exchange")]
        self.seen += errors

    def refused(self) -> BaseException | None:
        """The first error that retrying cannot fix: refused credentials, or an untrusted certificate."""
        for exc in self.seen:
            if isinstance(exc, kafka_errors.SaslAuthenticationFailedError | ssl.SSLCertVerificationError):
                return exc
        return None


def _lost_in_sasl(connection: object) -> bool:
    """Whether a connection in a log record's arguments was lost in the SASL exchange: after the broker
    answered its ApiVersions request (so TCP and TLS worked) and before the connection was ready. On a
    TLS listener a broker that refuses the credentials closes the socket before kafka-python reads its
    error response, so this is how a wrong password shows (the broker's log says "Failed authentication")."""
    init = getattr(connection, "_init_future", None)
    return (
        getattr(connection, "sasl_enabled", False) is True
        and getattr(connection, "broker_version_data", None) is not None
        and init is not None
        and not init.succeeded()
    )


@contextlib.contextmanager
def _watching() -> Iterator[_ClientErrors]:
    handler = _ClientErrors()
    logger = logging.getLogger("kafka")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


def _principal(settings: KafkaSettings) -> str | None:
    return settings.sasl_username if "SASL" in settings.security_protocol else None


def _refusal(settings: KafkaSettings, exc: BaseException) -> AuthenticationFailed:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return AuthenticationFailed(
            f"the TLS certificate of {settings.bootstrap_servers} is not trusted "
            f"({exc.verify_message or exc.reason}): check --ssl-cafile"
        )
    return AuthenticationFailed(
        f"authentication as user {settings.sasl_username!r} ({settings.sasl_mechanism or 'PLAIN'}) failed at "
        f"{settings.bootstrap_servers} ({exc.args[0] if exc.args else exc}): check --sasl-username and the password "
        "(NEWSFLOW_SASL_PASSWORD)"
    )


def connect(settings: KafkaSettings, timeout: float) -> KafkaAdminClient:
    """An admin client on the cluster, trying for up to ``timeout`` seconds (a broker may be starting).

    The first failed attempt is logged, the later ones only at debug level; refused credentials end the
    wait at once, since trying again cannot help."""
    deadline = time.monotonic() + timeout
    attempt = 0
    with _watching() as errors:
        while True:
            attempt += 1
            per_attempt = max(0.5, min(ATTEMPT_SECONDS, (deadline - time.monotonic()) / 2))
            try:
                return KafkaAdminClient(
                    **{**settings.client_kwargs(), "request_timeout_ms": int(per_attempt * 1000)},
                    bootstrap_timeout_ms=int(per_attempt * 1000),
                )
            except (kafka_errors.KafkaError, OSError) as exc:
                refused = errors.refused()
                if refused is not None:
                    raise _refusal(settings, refused) from None
                reason = _reason(errors.seen, exc)
                remaining = deadline - time.monotonic()
                errors.seen.clear()
                (log.warning if attempt == 1 else log.debug)(
                    "kafka_unreachable",
                    servers=settings.bootstrap_servers,
                    attempt=attempt,
                    error=reason,
                    retrying_for_s=round(max(remaining, 0), 1),
                )
                if remaining <= 0:
                    raise BrokerUnreachable(
                        f"Kafka at {settings.bootstrap_servers} unreachable after {timeout:.0f}s "
                        f"({attempt} attempts; last error: {reason})"
                    ) from None
                time.sleep(min(1.0, remaining))


def _reason(seen: Sequence[BaseException], final: BaseException) -> str:
    """The underlying error (connection refused, a TLS failure), not the timeout it ended in."""
    causes = [e for e in seen if not isinstance(e, kafka_errors.KafkaTimeoutError)]
    exc = causes[-1] if causes else final
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text and type(exc).__name__ not in text else text or repr(exc)


CODECS: dict[str, tuple[Callable[[], bool], str]] = {
    "gzip": (codec.has_gzip, "the standard library's zlib"),
    "snappy": (codec.has_snappy, "python-snappy"),
    "lz4": (codec.has_lz4, "lz4"),
    "zstd": (codec.has_zstd, "zstandard"),
}
"""Every compression a producer may give a record batch (the topic's, or each producer's own
``compression.type``), with what kafka-python needs to decode it and the package that brings it."""


def check_codecs() -> None:
    """Raise :class:`MissingCodec` unless kafka-python can decode every compression codec.

    A topic is not one producer's: any producer may compress its batches with any codec, whatever the
    topic's own setting, and kafka-python raises ``UnsupportedCodecError`` for a codec whose library is
    missing, at the same offset on every poll, so its partition could never move again. Refusing to start
    says what to install before anything is read."""
    missing = [f"{name} (pip install {package})" for name, (has, package) in CODECS.items() if not has()]
    if missing:
        raise MissingCodec(
            "kafka-python cannot decode record batches compressed with "
            + ", ".join(missing)
            + ": any producer of the topic may use it; install newsflow's dependencies"
        )


def check(
    settings: KafkaSettings,
    *,
    read: Iterable[str] = (),
    write: Iterable[str] = (),
    timeout: float = 60.0,
) -> None:
    """Raise the first problem with the cluster, the credentials, or the topics: each of ``read`` must exist
    and be readable, each of ``write`` exist and be writable, by this client; a command that reads must
    have every compression codec (:func:`check_codecs`)."""
    read = list(read)
    if read:
        check_codecs()
    needs: dict[str, set[str]] = {}
    for topic in read:
        needs.setdefault(topic, set()).add("READ")
    for topic in write:
        needs.setdefault(topic, set()).add("WRITE")
    admin = connect(settings, timeout)
    try:
        if not needs:
            return
        described = {t["name"]: t for t in admin.describe_topics(list(needs))}
        for topic, operations in needs.items():
            info = described.get(topic, {"error_code": _UNKNOWN_TOPIC})
            if info["error_code"] == _UNKNOWN_TOPIC:
                raise unknown_topic(topic, admin.list_topics(), settings.bootstrap_servers)
            if info["error_code"] == _TOPIC_DENIED:
                operation = " and ".join(sorted(operations))
                raise not_authorised(f"topic {topic!r}", operation, _principal(settings))
            allowed = info.get("authorized_operations")
            if allowed:  # reported by brokers with an authorizer (KIP-430); otherwise everything is allowed
                for operation in sorted(operations - set(allowed)):
                    raise not_authorised(f"topic {topic!r}", operation, _principal(settings))
    finally:
        admin.close()


def add_connect_timeout(parser, default: float = 15.0) -> None:
    """``--connect-timeout`` for the one-shot commands (``produce``, ``consume``, ``dlq``): they fail fast,
    where ``stream`` and ``backfill`` wait a minute for a broker that is still starting."""
    parser.add_argument(
        "--connect-timeout",
        type=positive_float,
        default=default,
        metavar="SECONDS",
        help="Seconds to wait for the brokers before giving up (exit 4).",
    )


def positive_float(text: str) -> float:
    """An argparse ``type`` for a time span in seconds, more than zero (and finite)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text} seconds: give a number above 0")
    return value


def check_stream(settings: KafkaSettings, topics: Topics, timeout: float) -> None:
    """:func:`check` for ``newsflow stream``: it reads the input topic and writes the other three."""
    check(
        settings,
        read=[topics.input_topic],
        write=[topics.output_topic, topics.duplicates_topic, topics.dlq_topic],
        timeout=timeout,
    )


def check_state_dir(path: str, *, writable: bool = True, default: bool = False) -> None:
    """Raise :class:`InputFileError` unless ``path`` is a directory, or can be made one: its nearest existing
    ancestor is a directory; ``writable``, one this process may write in. A stream keeps its dedup index
    and crash journal there and found out at its first write, after the brokers were asked and the NER
    model loaded. Nothing is created: a default state dir still adopts an older release's
    (:func:`pipelines.local_state.state_dir_for`). ``default``: the path is the default, not a flag's."""
    what = f"state dir {path} (the default; --state-dir sets another)" if default else f"--state-dir {path}"
    target = os.path.abspath(path)
    existing = target
    while not os.path.lexists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        raise InputFileError(
            f"{what}: " + ("not a directory" if existing == target else f"{existing} is not a directory")
        )
    if writable and not os.access(existing, os.W_OK | os.X_OK):
        where = "" if existing == target else f" (it would be made in {existing})"
        raise InputFileError(f"{what}: not writable{where}")
