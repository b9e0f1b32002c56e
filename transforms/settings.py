"""Settings the transforms need: Kafka client settings, per-input limits, and the release version.

They live here, below the transforms that take them, so that a transform can be built and tested without
the command line. :mod:`pipelines.options` maps each field to a ``--flag`` and a ``NEWSFLOW_*`` environment
variable (from the ``help``, ``secret`` and ``choices`` each field declares) and builds these objects.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

VERSION = "0.2.0"  # the release, stamped on every output record (records.PIPELINE_VERSION)


def setting(
    default: Any,
    help: str,
    *,
    secret: bool = False,
    choices: tuple[str, ...] | None = None,
    minimum: float | None = None,
    maximum: float | None = None,
    shown: str | None = None,
    check: Callable[[str], str] | None = None,
) -> Any:
    """A settings field with what the command line shows for it; ``secret`` ones are never shown.
    ``minimum`` and ``maximum`` bound a number (a flag outside them is refused at once); ``shown`` is
    what ``--help`` gives as the default when that is not the value itself (None meaning "no limit");
    ``check`` takes a text value and returns it, or raises ``ValueError`` saying what is wrong with it."""
    metadata = {
        "help": help,
        "secret": secret,
        "choices": choices,
        "minimum": minimum,
        "maximum": maximum,
        "shown": shown,
        "check": check,
    }
    return field(default=default, metadata=metadata)


def server_list(text: str) -> str:
    """``text`` if it names at least one server, each ``host``, ``host:port``, an IPv6 address or
    ``[address]:port``, with a port in 1-65535; else ``ValueError`` saying what is wrong (kafka-python
    failed on such a list later with an ``IndexError`` or ``invalid literal for int()``)."""
    servers = [s.strip() for s in text.split(",") if s.strip()]
    if not servers:
        raise ValueError(f"no server in {text!r}: give host:port, comma-separated")
    for server in servers:
        host, port = server, None
        if server.startswith("["):
            host, _, rest = server[1:].partition("]")
            if rest and not rest.startswith(":") or not _ipv6(host):
                raise ValueError(f"{server!r}: not [IPv6 address]:port")
            port = rest[1:] if rest else None
        elif server.count(":") == 1:  # more than one is a bare IPv6 address, with no port
            host, port = server.split(":")
        if not host:
            raise ValueError(f"{server!r}: no host")
        if ":" in host and not _ipv6(host):
            raise ValueError(f"{server!r}: not an IPv6 address")
        if port is not None and not (port.isdigit() and 1 <= int(port) <= 65535):
            raise ValueError(f"{server!r}: the port must be a number from 1 to 65535")
    return text


def _ipv6(text: str) -> bool:
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return True


@dataclass
class KafkaSettings:
    """Connection and security settings shared by every Kafka client."""

    bootstrap_servers: str = setting(
        "127.0.0.1:9092", "Kafka bootstrap servers, comma-separated (host:port).", check=server_list
    )
    security_protocol: str = setting(
        "PLAINTEXT",
        "Kafka security protocol.",
        choices=("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"),
    )
    ssl_cafile: str | None = setting(None, "CA bundle (PEM) to verify the brokers.", shown="the system's CAs")
    ssl_certfile: str | None = setting(None, "Client certificate (PEM) for mutual TLS.", shown="none")
    ssl_keyfile: str | None = setting(None, "Client private key (PEM) for mutual TLS.", shown="none")
    ssl_password: str | None = setting(None, "Password of the client key.", secret=True)
    ssl_check_hostname: bool = setting(True, "Check the broker's host name against its certificate.")
    sasl_mechanism: str | None = setting(
        None,
        "SASL mechanism.",
        choices=("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"),
        shown="PLAIN with a SASL protocol",
    )
    sasl_username: str | None = setting(None, "SASL user name.", shown="none")
    sasl_password: str | None = setting(None, "SASL password.", secret=True)
    request_timeout_ms: int = setting(30000, "Kafka request timeout in milliseconds.", minimum=1)

    def __repr__(self) -> str:
        shown = {
            f.name: ("***" if f.metadata.get("secret") and getattr(self, f.name) else getattr(self, f.name))
            for f in dataclasses.fields(self)
        }
        return f"KafkaSettings({shown})"

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments common to kafka-python's producer, consumer and admin client."""
        kwargs: dict[str, Any] = {
            "bootstrap_servers": [s.strip() for s in self.bootstrap_servers.split(",") if s.strip()],
            "security_protocol": self.security_protocol,
            "request_timeout_ms": self.request_timeout_ms,
        }
        if "SSL" in self.security_protocol:
            kwargs.update(
                ssl_cafile=self.ssl_cafile,
                ssl_certfile=self.ssl_certfile,
                ssl_keyfile=self.ssl_keyfile,
                ssl_password=self.ssl_password,
                ssl_check_hostname=self.ssl_check_hostname,
            )
        if "SASL" in self.security_protocol:
            kwargs.update(
                sasl_mechanism=self.sasl_mechanism or "PLAIN",
                sasl_plain_username=self.sasl_username,
                sasl_plain_password=self.sasl_password,
            )
        return kwargs

    def producer_kwargs(self) -> dict[str, Any]:
        """At-least-once, ordered, idempotent delivery: acks from all in-sync replicas, bounded retries."""
        return {
            **self.client_kwargs(),
            "acks": "all",
            "enable_idempotence": True,
            "retries": 10,
            "max_in_flight_requests_per_connection": 5,
            "linger_ms": 5,
            "max_request_size": 16 * 1024 * 1024,
        }

    def consumer_kwargs(self, group_id: str | None) -> dict[str, Any]:
        """Manual assignment and manual commits: offsets only move when the output has been written.

        ``read_committed``: records of a transaction its producer aborted are never returned, and end
        offsets are the last stable offset (an open transaction's records are not read before it ends)."""
        return {
            **self.client_kwargs(),
            "group_id": group_id,
            "isolation_level": "read_committed",
            "enable_auto_commit": False,
            "max_partition_fetch_bytes": 64 * 1024 * 1024,
            "fetch_max_bytes": 64 * 1024 * 1024,
        }


@dataclass
class Limits:
    """Budgets that keep one hostile input from hurting the pipeline."""

    max_message_bytes: int = setting(
        10 * 1024 * 1024, "Largest raw message accepted; larger ones go to the DLQ.", minimum=1
    )
    max_html_depth: int = setting(
        256, "Deepest HTML nesting accepted (lxml's parser stops at 256 anyway).", minimum=1
    )
    doc_time_budget: float = setting(
        10.0, "CPU seconds one document may take in cleaning, and again in NER.", minimum=0.001
    )
    max_attempts: int = setting(3, "Attempts for a failing article before it goes to the DLQ.", minimum=1)
    max_dead_letter_bytes: int | None = setting(
        None,
        "Largest original kept inside a dead letter; a larger one goes to <state dir>/dlq-originals and "
        "the letter names it. Default: the DLQ topic's max.message.bytes (read at start-up) less 64 KiB; "
        "no limit for files.",
        minimum=1,
        shown="the DLQ topic's max.message.bytes less 64 KiB",
    )
