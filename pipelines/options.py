"""The one configuration object: every setting, from flags or ``NEWSFLOW_*`` environment variables.

Flags win over the environment, the environment over defaults. Every Kafka client (reader, writer, admin,
offset committer) is built from :class:`KafkaSettings`, so security settings apply everywhere at once.
Secrets are never printed: not in ``--help``, not in ``repr``, not in logs.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
from dataclasses import dataclass, field
from typing import Any

ENV_PREFIX = "NEWSFLOW_"
DIRECT_RUNNERS = (None, "DirectRunner", "SwitchingDirectRunner")  # --runner values meaning the local runner
DEFAULT_TOPICS = {
    "input_topic": "articles.raw",
    "output_topic": "articles.clean",
    "duplicates_topic": "articles.duplicates",
    "dlq_topic": "articles.dlq",
}


def _opt(default: Any, help: str, *, secret: bool = False, choices: tuple[str, ...] | None = None) -> Any:
    return field(default=default, metadata={"help": help, "secret": secret, "choices": choices})


@dataclass
class KafkaSettings:
    """Connection and security settings shared by every Kafka client."""

    bootstrap_servers: str = _opt("127.0.0.1:9092", "Kafka bootstrap servers, comma-separated.")
    security_protocol: str = _opt(
        "PLAINTEXT",
        "Kafka security protocol.",
        choices=("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"),
    )
    ssl_cafile: str | None = _opt(None, "CA bundle (PEM) to verify the brokers.")
    ssl_certfile: str | None = _opt(None, "Client certificate (PEM) for mutual TLS.")
    ssl_keyfile: str | None = _opt(None, "Client private key (PEM) for mutual TLS.")
    ssl_password: str | None = _opt(None, "Password of the client key.", secret=True)
    ssl_check_hostname: bool = _opt(True, "Check the broker's host name against its certificate.")
    sasl_mechanism: str | None = _opt(
        None, "SASL mechanism.", choices=("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")
    )
    sasl_username: str | None = _opt(None, "SASL user name.")
    sasl_password: str | None = _opt(None, "SASL password.", secret=True)
    request_timeout_ms: int = _opt(30000, "Kafka request timeout in milliseconds.")

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
        """Manual assignment and manual commits: offsets only move when the output has been written."""
        return {
            **self.client_kwargs(),
            "group_id": group_id,
            "enable_auto_commit": False,
            "max_partition_fetch_bytes": 64 * 1024 * 1024,
            "fetch_max_bytes": 64 * 1024 * 1024,
        }


@dataclass
class Limits:
    """Budgets that keep one hostile input from hurting the pipeline."""

    max_message_bytes: int = _opt(
        10 * 1024 * 1024, "Largest raw message accepted; larger ones go to the DLQ."
    )
    max_html_depth: int = _opt(256, "Deepest HTML nesting accepted (lxml's parser stops at 256 anyway).")
    doc_time_budget: float = _opt(10.0, "CPU seconds one document may take in cleaning, and again in NER.")
    max_attempts: int = _opt(3, "Attempts for a failing article before it goes to the DLQ.")
    max_dead_letter_bytes: int | None = _opt(
        None,
        "Largest original kept inside a dead letter; a larger one goes to <state dir>/dlq-originals and "
        "the letter names it. Default: the DLQ topic's max.message.bytes (read at start-up) less 64 KiB; "
        "no limit for files.",
    )


@dataclass
class Topics:
    input_topic: str = _opt(DEFAULT_TOPICS["input_topic"], "Raw articles topic.")
    output_topic: str = _opt(DEFAULT_TOPICS["output_topic"], "Clean articles topic.")
    duplicates_topic: str = _opt(DEFAULT_TOPICS["duplicates_topic"], "Dedup verdicts topic.")
    dlq_topic: str = _opt(DEFAULT_TOPICS["dlq_topic"], "Dead-letter topic.")

    def all(self) -> list[str]:
        return [self.input_topic, self.output_topic, self.duplicates_topic, self.dlq_topic]


def add_arguments(parser: argparse.ArgumentParser, cls: type, title: str) -> None:
    """Add one flag per field of a settings dataclass; defaults resolve later, so env can fill them."""
    group = parser.add_argument_group(title)
    for f in dataclasses.fields(cls):
        flag = "--" + f.name.replace("_", "-")
        env = ENV_PREFIX + f.name.upper()
        help_text = f.metadata.get("help", "")
        if f.metadata.get("secret"):
            help_text += f" Secret: prefer the environment variable {env}; never shown."
        else:
            help_text += f" (env {env}; default: {f.default})"
        kwargs: dict[str, Any] = {"dest": f.name, "default": None, "help": help_text}
        if f.metadata.get("choices"):
            kwargs["choices"] = f.metadata["choices"]
        convert = _converter(f)
        if convert is not str:
            kwargs["type"] = convert
            kwargs["metavar"] = convert.__name__.removeprefix("_parse_").upper()
        group.add_argument(flag, **kwargs)


def _parse_bool(value: str) -> bool:
    return value.strip().lower() in ("1", "true", "yes", "on")


def _converter(f: dataclasses.Field) -> Any:
    """str -> value for a field annotated ``int``, ``float | None``, ``bool``... (annotations are strings)."""
    base = str(f.type).replace(" | None", "").strip()
    return {"bool": _parse_bool, "int": int, "float": float}.get(base, str)


def resolve(cls: type, args: argparse.Namespace | None = None, env: dict[str, str] | None = None) -> Any:
    """Build a settings dataclass: flag if given, else ``NEWSFLOW_<FIELD>``, else the default."""
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        given = getattr(args, f.name, None) if args is not None else None
        if given is None and (ENV_PREFIX + f.name.upper()) in env:
            given = _converter(f)(env[ENV_PREFIX + f.name.upper()])
        if given is not None:
            values[f.name] = given
    return cls(**values)


@dataclass
class Processing:
    """What the chain does to each article, and where durable state lives."""

    state_dir: str | None = _opt(
        None,
        "Directory for the local stream's durable state (dedup index, crash journal); default "
        "<temp dir>/newsflow-state/<group id>--<input topic>. Unused on Flink/Dataflow (runner state).",
    )
    dedup_threshold: float | None = _opt(
        None, "Estimated Jaccard at or above which articles are near duplicates."
    )
    learn_boilerplate: bool = _opt(True, "Remove paragraphs that recur across articles of the same source.")
    entities: bool = _opt(True, "Run named-entity recognition.")
    passthrough: bool = _opt(False, "Parse and write only (a baseline for benchmarks; no cleaning).")


@dataclass
class Consumption:
    """How ``stream`` consumes the raw topic, and when a local run stops."""

    group_id: str = _opt("newsflow", "Consumer group whose committed offsets mark the progress.")
    auto_offset_reset: str = _opt(
        "earliest", "Where to start when the group has no committed offset.", choices=("earliest", "latest")
    )
    idle_timeout: float | None = _opt(None, "Stop once the input has been idle this many seconds.")
    max_records: int | None = _opt(
        None, "Stop after reading this many records (local runs: in all; other runners: per worker process)."
    )
    connect_timeout: float = _opt(
        60.0, "Seconds to wait for the brokers at start-up before exiting non-zero."
    )
    batch_records: int = _opt(
        500,
        "Local runs (no runner or the DirectRunner): most records per micro-batch, i.e. what a crash can "
        "deliver twice.",
    )
    poll_interval: float = _opt(1.0, "Local runs: seconds between looks for new records when caught up.")


def add_common(parser: argparse.ArgumentParser, *groups: tuple[type, str]) -> None:
    """Kafka settings on every Kafka-facing command, plus the given groups."""
    add_arguments(parser, KafkaSettings, "Kafka connection and security")
    for cls, title in groups:
        add_arguments(parser, cls, title)
