"""How large an original a dead letter can hold: the DLQ topic's ``max.message.bytes``, read at start-up.

A dead letter that the broker refuses (``MessageSizeTooLarge``) would fail its batch again on every retry
and stop the stream, so the chain must know the limit before it builds a letter: originals above it go to
the content-addressed store (:mod:`transforms.original_store`) instead.
"""

from __future__ import annotations

import contextlib

import structlog
from kafka import KafkaAdminClient
from kafka.admin import ConfigResource, ConfigResourceType

from transforms.deadletter import ENVELOPE_BYTES
from transforms.settings import KafkaSettings

log = structlog.get_logger(__name__)
FALLBACK_TOPIC_BYTES = 1024 * 1024 + 12
"""Kafka's own default ``max.message.bytes``: assumed when the topic's setting cannot be read."""


def topic_max_message_bytes(settings: KafkaSettings, topic: str) -> int | None:
    """The topic's effective ``max.message.bytes`` (its own, else the broker's), or None if unknown."""
    try:
        with contextlib.closing(KafkaAdminClient(**settings.client_kwargs())) as admin:
            found = admin.describe_configs(
                [ConfigResource(ConfigResourceType.TOPIC, topic, {"max.message.bytes": None})],
                config_filter="all",
            )
    except Exception as exc:  # noqa: BLE001 - no permission to describe configs, an old broker...
        log.warning("topic_config_unreadable", topic=topic, error=type(exc).__name__)
        return None
    entry = found.get("topic", {}).get(topic, {}).get("max.message.bytes") or {}
    value = entry.get("value")
    return int(value) if value and str(value).isdigit() else None


def dead_letter_inline_bytes(settings: KafkaSettings, dlq_topic: str) -> int:
    """Largest original (value, key and headers) one DLQ message can carry from this producer."""
    topic_bytes = topic_max_message_bytes(settings, dlq_topic) or FALLBACK_TOPIC_BYTES
    producer_bytes = settings.producer_kwargs()["max_request_size"]
    inline = max(0, min(topic_bytes, producer_bytes) - ENVELOPE_BYTES)
    log.info("dlq_inline_limit", topic=dlq_topic, topic_max_message_bytes=topic_bytes, inline_bytes=inline)
    return inline


def record_bytes_limit(settings: KafkaSettings, topic: str) -> int:
    """Largest record (value, key and headers, with the record batch's framing) that ``topic`` takes from
    this producer: its ``max.message.bytes``, at most the producer's ``max_request_size``. A larger one is
    refused on every retry, so the writer must route it elsewhere before it is sent."""
    topic_bytes = topic_max_message_bytes(settings, topic) or FALLBACK_TOPIC_BYTES
    limit = min(topic_bytes, settings.producer_kwargs()["max_request_size"])
    log.info("output_record_limit", topic=topic, topic_max_message_bytes=topic_bytes, record_bytes=limit)
    return limit
