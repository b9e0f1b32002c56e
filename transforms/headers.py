"""Kafka record headers: what a consumer routes and filters on without decoding the value.

Every record newsflow writes carries ``content-type``, the schema's full name and fingerprint
(:func:`transforms.avro.headers`) and ``newsflow.version``. Dead letters add where the input was read and
why it failed, under ``newsflow.errors.*``, the way Kafka Connect's
``errors.deadletterqueue.context.headers.enable`` adds ``__connect.errors.*``. Values are UTF-8 text
(numbers in decimal), as Kafka Connect's ``SimpleHeaderConverter`` writes them.
"""

from __future__ import annotations

import re

from transforms import avro
from transforms.records import PIPELINE_VERSION, DeadLetter

VERSION = "newsflow.version"
ERRORS_TOPIC = "newsflow.errors.topic"
ERRORS_PARTITION = "newsflow.errors.partition"
ERRORS_OFFSET = "newsflow.errors.offset"
ERRORS_STAGE = "newsflow.errors.stage"
ERRORS_TYPE = "newsflow.errors.exception.class.name"
ERRORS_MESSAGE = "newsflow.errors.exception.message"
MAX_MESSAGE_CHARS = 300

Headers = list[tuple[str, bytes]]

_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@]+@")
_SECRET_PAIR = re.compile(
    r"(?i)\b([\w.-]*(?:password|passwd|secret|token|api[_-]?key)[\w.-]*)\s*([=:])\s*\S+"
)


def record_headers(schema_name: str) -> Headers:
    """The headers of a record of one of our schemas."""
    return [*avro.headers(schema_name), (VERSION, PIPELINE_VERSION.encode())]


def input_headers(value: bytes) -> Headers:
    """Headers for an input newsflow publishes (``produce``, ``dlq replay``): Avro ones for a record of our
    schemas, ``application/json`` for anything else, which the raw topic reads as a JSON envelope."""
    if avro.is_avro(value):
        try:
            return record_headers(avro.decode_message(value).schema.name)
        except avro.AvroDecodeError:
            return [(VERSION, PIPELINE_VERSION.encode())]
    return [("content-type", b"application/json"), (VERSION, PIPELINE_VERSION.encode())]


def dead_letter_headers(letter: DeadLetter) -> Headers:
    """A dead letter's headers: the record's own, then the failure's context (no payload, no secrets)."""
    headers = record_headers("dead_letter")
    position = letter.source_position
    if position is not None:
        headers += [
            (ERRORS_TOPIC, position.topic.encode()),
            (ERRORS_PARTITION, str(position.partition).encode()),
            (ERRORS_OFFSET, str(position.offset).encode()),
        ]
    headers += [
        (ERRORS_STAGE, letter.stage.encode()),
        (ERRORS_TYPE, letter.error_type.encode()),
        (ERRORS_MESSAGE, safe_message(letter.message).encode()),
    ]
    return headers


def safe_message(message: str) -> str:
    """An error message fit for a header: credentials in URLs and ``password=...`` pairs masked, cut short.

    Reasons are written without payload text, but an unexpected exception's message can quote anything.
    """
    masked = _URL_USERINFO.sub(r"\1***@", message)
    masked = _SECRET_PAIR.sub(r"\1\2***", masked)
    return masked if len(masked) <= MAX_MESSAGE_CHARS else masked[: MAX_MESSAGE_CHARS - 1] + "…"


def as_dict(headers: Headers | None) -> dict[str, str]:
    """Headers as text by name (the last wins), for consumers and tests."""
    return {name: value.decode("utf-8", "replace") for name, value in headers or ()}
