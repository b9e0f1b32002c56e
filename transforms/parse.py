"""Parse and validate one raw Kafka message into a :class:`RawArticle`.

A message is either a UTF-8 JSON envelope or an Avro single-object record of ``schemas/raw_article.avsc``;
the two are told apart by content (the Avro ``C3 01`` marker). Every failure raises :class:`ParseError`
with a precise reason, which becomes the dead letter's message.
"""

from __future__ import annotations

import contextlib
import json
import re
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from apache_beam.metrics import Metrics
from charset_normalizer import from_bytes

from transforms import avro
from transforms.errors import LimitExceeded, ParseError
from transforms.normalize import normalize_raw
from transforms.records import Origin, RawArticle, SourcePosition
from transforms.text_repair import (
    Repairs,
    decode_json_text,
    detect_charset,
    is_mostly_legacy,
    repair_string,
)

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
_STRING_FIELDS = ("url", "source", "html", "text", "language")
_TIME_FIELDS = ("fetched_at", "published_at")
_KNOWN = set(_STRING_FIELDS) | set(_TIME_FIELDS) | {"metadata"}


@dataclass
class Parsed:
    """A parsed, normalised envelope and where it was read."""

    raw: RawArticle
    position: SourcePosition | None
    origin: Origin | None = None  # the message as read, for dead letters of any later stage


def parse(
    value: bytes | None, position: SourcePosition | None, *, max_bytes: int = DEFAULT_MAX_BYTES
) -> Parsed:
    """Parse and validate the message bytes, then normalise its text fields."""
    topic = position.topic if position else None
    return Parsed(normalize_raw(parse_message(value, max_bytes=max_bytes, topic=topic)), position)


def too_large(size: int, max_bytes: int) -> LimitExceeded:
    """The dead-letter reason of a message over the size limit, the same whether Kafka delivered it whole
    or a file reader stopped holding it at the limit (:mod:`transforms.file_io`)."""
    return LimitExceeded(f"message is {size} bytes, limit is {max_bytes}", stage="parse")


def parse_message(
    value: bytes | None, *, max_bytes: int = DEFAULT_MAX_BYTES, topic: str | None = None
) -> RawArticle:
    """Bytes of one message -> validated RawArticle, or ParseError/LimitExceeded with the reason."""
    if value is None or len(value) == 0:
        raise ParseError("empty message (tombstone or no value)")
    if len(value) > max_bytes:
        raise too_large(len(value), max_bytes)
    if avro.is_avro(value):
        try:
            decoded = avro.decode_message(value, topic=topic)
        except avro.AvroDecodeError as exc:
            raise ParseError(str(exc)) from exc
        if decoded.schema.name != "raw_article":
            expected = avro.known_schemas()["raw_article"].describe()
            raise ParseError(f"Avro record of {decoded.schema.describe()}, expected {expected}")
        return validate_envelope(decoded.record)
    return parse_json_bytes(value)


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


def parse_json_bytes(value: bytes) -> RawArticle:
    """A JSON envelope from bytes, decoded per field (see :mod:`transforms.text_repair`): stray invalid bytes
    are repaired where they are; a message in one legacy charset is decoded with the detected charset and
    flagged."""
    text, escaped = decode_json_text(value)
    try:
        envelope = _loads(text)
    except ParseError:
        if not escaped:
            raise
        envelope = None
    charset = None
    if escaped and (envelope is None or is_mostly_legacy(_strings(envelope))):
        legacy = _decode_legacy(value)
        if legacy is not None:
            with contextlib.suppress(ParseError):  # then the stray bytes are repaired in place
                envelope, charset, escaped = _loads(legacy[0]), legacy[1], False
        if envelope is None:
            raise ParseError("not JSON: bytes are not valid UTF-8 and no detected charset makes them JSON")
    return validate_envelope(envelope, escaped=escaped, charset=charset)


def _decode_legacy(value: bytes) -> tuple[str, str] | None:
    """The whole message in its detected charset (strictly), or None."""
    encoding = detect_charset(value)
    if encoding is None or encoding.replace("-", "_") in ("utf_8", "ascii"):
        return None
    try:
        return value.decode(encoding), encoding
    except (UnicodeDecodeError, LookupError):
        return None


def _strings(envelope: Any) -> list[str]:
    if not isinstance(envelope, dict):
        return []
    found = [v for v in envelope.values() if isinstance(v, str)]
    metadata = envelope.get("metadata")
    if isinstance(metadata, dict):
        found += [s for kv in metadata.items() for s in kv if isinstance(s, str)]
    return found


def _loads(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParseError(f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from exc
    except RecursionError as exc:
        raise ParseError("not JSON: nesting too deep") from exc
    except ValueError as exc:  # Python's int() refuses more than sys.get_int_max_str_digits() digits
        raise ParseError(f"not JSON: a number of more than {sys.get_int_max_str_digits()} digits") from exc


def parse_json(text: str) -> RawArticle:
    """A JSON envelope from text (``newsflow produce``); lone surrogates are repaired like in bytes."""
    return validate_envelope(_loads(text))


def validate_envelope(envelope: Any, *, escaped: bool = False, charset: str | None = None) -> RawArticle:
    """Type-check every field and make every string valid Unicode; require html or text with some content.

    ``escaped``: invalid bytes are in the strings as surrogateescape stand-ins, to be repaired per field.
    ``charset``: the message was decoded with this detected charset (noted as ``charset_repaired``).
    """
    if not isinstance(envelope, dict):
        raise ParseError(f"envelope must be a JSON object, got {type(envelope).__name__}")
    repairs = Repairs(charset=charset)
    fields: dict[str, Any] = {}
    for name in _STRING_FIELDS:
        value = envelope.get(name)
        if value is not None and not isinstance(value, str):
            raise ParseError(f"field {name!r} must be a string, got {type(value).__name__}")
        fields[name] = None if value is None else repair_string(value, name, repairs, escaped=escaped)
    for name in _TIME_FIELDS:
        fields[name] = parse_time(envelope.get(name), name)
    metadata = envelope.get("metadata") or {}
    if not isinstance(metadata, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()
    ):
        raise ParseError("field 'metadata' must be a map of string to string")
    metadata = {
        repair_string(k, "metadata", repairs, escaped=escaped): repair_string(
            v, "metadata", repairs, escaped=escaped
        )
        for k, v in metadata.items()
    }
    unknown = sorted(set(envelope) - _KNOWN)
    if unknown:
        names = ",".join(unknown)[:200]
        metadata = {
            **metadata,
            "unknown_fields": repair_string(names, "unknown_fields", repairs, escaped=escaped),
        }
    if repairs.total or repairs.charset:
        metadata = {**metadata, **repairs.metadata()}
        Metrics.counter("newsflow", "parse.repaired_chars").inc(repairs.total)
        if repairs.charset:
            Metrics.counter("newsflow", "parse.charset_repaired").inc()
    if not (fields["html"] or "").strip() and not (fields["text"] or "").strip():
        raise ParseError("missing body: neither 'html' nor 'text' has content")
    return RawArticle(metadata=metadata, **fields)


def parse_time(value: Any, name: str) -> datetime | None:
    """ISO 8601 / RFC 3339 strings, epoch seconds or epoch milliseconds (numbers), or Avro datetimes, in UTC.

    The result is converted to UTC here: an instant whose UTC date is outside years 1-9999 ("0001-01-01T00:00
    +14:00") would encode as a ``timestamp-millis`` that Python's Avro readers cannot decode, so it is an
    invalid timestamp. RFC 3339's lowercase ``t``/``z`` are accepted and a leap second (``:60``) is read as
    ``:59``, as Java's ``Instant.parse`` reads it.
    """
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ParseError(f"field {name!r} must be a timestamp, got bool")
    try:
        if isinstance(value, datetime):
            return _utc(value)
        if isinstance(value, int | float):
            seconds = value / 1000 if abs(value) > 1e11 else value
            return datetime.fromtimestamp(seconds, tz=UTC)
        if isinstance(value, str):
            text = _LEAP_SECOND.sub(r"\g<1>59", value.strip().upper().replace("Z", "+00:00"))
            return _utc(datetime.fromisoformat(text))
    except (ValueError, OverflowError, OSError) as exc:
        raise ParseError(f"field {name!r} is not a valid timestamp: {str(value)[:40]!r}") from exc
    raise ParseError(f"field {name!r} must be a timestamp, got {type(value).__name__}")


_LEAP_SECOND = re.compile(r"(T\d\d:?\d\d:?)60(?=\D|$)")


def _utc(moment: datetime) -> datetime:
    """The same instant in UTC (naive means UTC); OverflowError when its UTC date is outside years 1-9999."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def envelope_json(raw: RawArticle) -> bytes:
    """A RawArticle back as a JSON envelope (for DLQ records of later stages and for ``produce``)."""
    record = {k: v for k, v in raw.__dict__.items() if v not in (None, {}, "")}
    for name in _TIME_FIELDS:
        if name in record:
            record[name] = record[name].isoformat()
    return json.dumps(record, ensure_ascii=False).encode("utf-8")
