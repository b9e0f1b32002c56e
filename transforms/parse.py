"""Parse and validate one raw Kafka message into a :class:`RawArticle`.

A message is either a UTF-8 JSON envelope or an Avro single-object record of ``schemas/raw_article.avsc``;
the two are told apart by content (the Avro ``C3 01`` marker). Every failure raises :class:`ParseError`
with a precise reason, which becomes the dead letter's message.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from charset_normalizer import from_bytes

from transforms import avro
from transforms.errors import LimitExceeded, ParseError
from transforms.normalize import normalize_raw
from transforms.records import RawArticle, SourcePosition

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
_STRING_FIELDS = ("url", "source", "html", "text", "language")
_TIME_FIELDS = ("fetched_at", "published_at")
_KNOWN = set(_STRING_FIELDS) | set(_TIME_FIELDS) | {"metadata"}


@dataclass
class Parsed:
    """A parsed, normalised envelope and where it was read."""

    raw: RawArticle
    position: SourcePosition | None


def parse(
    value: bytes | None, position: SourcePosition | None, *, max_bytes: int = DEFAULT_MAX_BYTES
) -> Parsed:
    """Parse and validate the message bytes, then normalise its text fields."""
    topic = position.topic if position else None
    return Parsed(normalize_raw(parse_message(value, max_bytes=max_bytes, topic=topic)), position)


def parse_message(
    value: bytes | None, *, max_bytes: int = DEFAULT_MAX_BYTES, topic: str | None = None
) -> RawArticle:
    """Bytes of one message -> validated RawArticle, or ParseError/LimitExceeded with the reason."""
    if value is None or len(value) == 0:
        raise ParseError("empty message (tombstone or no value)")
    if len(value) > max_bytes:
        raise LimitExceeded(f"message is {len(value)} bytes, limit is {max_bytes}", stage="parse")
    if avro.is_avro(value):
        try:
            decoded = avro.decode_message(value, topic=topic)
        except avro.AvroDecodeError as exc:
            raise ParseError(str(exc)) from exc
        if decoded.schema.name != "raw_article":
            expected = avro.known_schemas()["raw_article"].describe()
            raise ParseError(f"Avro record of {decoded.schema.describe()}, expected {expected}")
        return validate_envelope(decoded.record)
    return parse_json(decode_bytes(value))


def decode_bytes(value: bytes) -> str:
    """UTF-8 if valid, else the charset detected from the bytes; undecodable bytes are an error."""
    try:
        return value.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    best = from_bytes(value[: 1024 * 1024]).best()
    if best is None or best.encoding is None:
        raise ParseError("bytes are not valid UTF-8 and no charset could be detected")
    try:
        return value.decode(best.encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        raise ParseError(f"bytes are not valid UTF-8 nor {best.encoding}") from exc


def parse_json(text: str) -> RawArticle:
    try:
        envelope = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParseError(f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from exc
    except RecursionError as exc:
        raise ParseError("not JSON: nesting too deep") from exc
    return validate_envelope(envelope)


def validate_envelope(envelope: Any) -> RawArticle:
    """Type-check every field; require html or text with some content."""
    if not isinstance(envelope, dict):
        raise ParseError(f"envelope must be a JSON object, got {type(envelope).__name__}")
    fields: dict[str, Any] = {}
    for name in _STRING_FIELDS:
        value = envelope.get(name)
        if value is not None and not isinstance(value, str):
            raise ParseError(f"field {name!r} must be a string, got {type(value).__name__}")
        fields[name] = value
    for name in _TIME_FIELDS:
        fields[name] = parse_time(envelope.get(name), name)
    metadata = envelope.get("metadata") or {}
    if not isinstance(metadata, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()
    ):
        raise ParseError("field 'metadata' must be a map of string to string")
    unknown = sorted(set(envelope) - _KNOWN)
    if unknown:
        metadata = {**metadata, "unknown_fields": ",".join(unknown)[:200]}
    if not (fields["html"] or "").strip() and not (fields["text"] or "").strip():
        raise ParseError("missing body: neither 'html' nor 'text' has content")
    return RawArticle(metadata=metadata, **fields)


def parse_time(value: Any, name: str) -> datetime | None:
    """ISO 8601 strings, epoch seconds or epoch milliseconds (numbers), or Avro datetimes, in UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, bool):
        raise ParseError(f"field {name!r} must be a timestamp, got bool")
    try:
        if isinstance(value, int | float):
            seconds = value / 1000 if abs(value) > 1e11 else value
            return datetime.fromtimestamp(seconds, tz=UTC)
        if isinstance(value, str):
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except (ValueError, OverflowError, OSError) as exc:
        raise ParseError(f"field {name!r} is not a valid timestamp: {str(value)[:40]!r}") from exc
    raise ParseError(f"field {name!r} must be a timestamp, got {type(value).__name__}")


def envelope_json(raw: RawArticle) -> bytes:
    """A RawArticle back as a JSON envelope (for DLQ records of later stages and for ``produce``)."""
    record = {k: v for k, v in raw.__dict__.items() if v not in (None, {}, "")}
    for name in _TIME_FIELDS:
        if name in record:
            record[name] = record[name].isoformat()
    return json.dumps(record, ensure_ascii=False).encode("utf-8")
