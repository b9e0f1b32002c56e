"""Avro at the edges: the schemas in ``schemas/``, single-object encoding on Kafka, container files on disk.

Kafka messages use Avro's single-object encoding: ``C3 01``, the writer schema's CRC-64-AVRO fingerprint of
its Parsing Canonical Form as 8 little-endian bytes, then the binary datum. A consumer decodes them without
a schema registry (Java's ``BinaryMessageDecoder``, or any client that implements the spec): the
fingerprint names the writer schema.

Readers also know every earlier version of each schema: as last released (``schemas/released/``) and as
builds of ``main`` between releases wrote it (``schemas/earlier/``). A record written with one of those, by
an older newsflow or a producer that has not upgraded, is resolved to the current schema (new fields get
their defaults), the way Java's ``BinaryMessageDecoder.addSchema`` does.

newsflow 0.1 wrote the 8 fingerprint bytes in reverse (big-endian) order. Every reading path still accepts
them, and says so once per topic (``avro_legacy_fingerprint``), so data written before an upgrade is read.

The wire format is a seam: :class:`WireFormat` is what the writer uses and what readers try in turn
(:data:`READ_FORMATS`), each told apart by its leading bytes. A second format (e.g. Confluent's
``00`` + 4-byte registry id) is one more class there, with no change to the callers.
"""

from __future__ import annotations

import io
import json
import struct
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Protocol

import fastavro
import structlog
from apache_beam.metrics import Metrics
from fastavro.read import SchemaResolutionError
from fastavro.schema import parse_schema, to_parsing_canonical_form

log = structlog.get_logger(__name__)

SCHEMA_DIR = Path(__file__).resolve().parents[1] / "schemas"
RELEASED_DIR = SCHEMA_DIR / "released"
EARLIER_DIR = SCHEMA_DIR / "earlier"  # <short name>-<fingerprint bytes as hex>.avsc (its README)
SINGLE_OBJECT_MAGIC = b"\xc3\x01"
SINGLE_OBJECT_HEADER = 10  # the marker and the 8-byte fingerprint
CONTENT_TYPE = "avro/binary"  # the media type the Avro specification names for binary-encoded Avro
# Each file is self-contained (no cross-file named types), so consumers can load any one of them alone.
SCHEMA_FILES = {
    "raw_article": "raw_article.avsc",
    "article": "article.avsc",
    "duplicate": "duplicate.avsc",
    "dead_letter": "dead_letter.avsc",
}

_CRC64_EMPTY = 0xC15D213AA4D7A795  # the CRC-64-AVRO polynomial, and the fingerprint of no bytes


def _crc64_table() -> tuple[int, ...]:
    table = []
    for i in range(256):
        fp = i
        for _ in range(8):
            fp = (fp >> 1) ^ (_CRC64_EMPTY & -(fp & 1))
        table.append(fp)
    return tuple(table)


_CRC64_TABLE = _crc64_table()


def crc64_avro(data: bytes) -> int:
    """The Avro specification's CRC-64-AVRO of ``data``, as an unsigned 64-bit integer."""
    fp = _CRC64_EMPTY
    for byte in data:
        fp = (fp >> 8) ^ _CRC64_TABLE[(fp ^ byte) & 0xFF]
    return fp


def as_java_long(fingerprint: int) -> int:
    """The fingerprint as Java's ``SchemaNormalization.parsingFingerprint64`` returns it (a signed long)."""
    return fingerprint - (1 << 64) if fingerprint >= 1 << 63 else fingerprint


class AvroDecodeError(ValueError):
    """Bytes that claim to be Avro but cannot be decoded with a known schema."""


@dataclass(frozen=True)
class KnownSchema:
    """One of our schemas with what identifies it on the wire."""

    name: str  # short name, e.g. "article"
    full_name: str  # the Avro full name, e.g. "newsflow.Article"
    parsed: dict
    fingerprint: int  # CRC-64-AVRO of the Parsing Canonical Form, unsigned

    @property
    def fingerprint_bytes(self) -> bytes:
        """The 8 bytes single-object encoding carries: little-endian, as the specification says."""
        return struct.pack("<Q", self.fingerprint)

    @property
    def legacy_fingerprint_bytes(self) -> bytes:
        """What newsflow 0.1 wrote instead: the same fingerprint, big-endian."""
        return struct.pack(">Q", self.fingerprint)

    def describe(self) -> str:
        return f"{self.full_name} {self.fingerprint_bytes.hex()}"


def _load(path: Path, name: str) -> KnownSchema:
    parsed = parse_schema(json.loads(path.read_text()), named_schemas={})
    canonical = to_parsing_canonical_form(parsed)
    return KnownSchema(name, parsed["name"], parsed, crc64_avro(canonical.encode("utf-8")))


@cache
def known_schemas() -> dict[str, KnownSchema]:
    """All schemas by short name, parsed once per process."""
    return {name: _load(SCHEMA_DIR / filename, name) for name, filename in SCHEMA_FILES.items()}


@cache
def released_schemas() -> dict[str, KnownSchema]:
    """The released version of each schema that differs from the current one (``schemas/released/``)."""
    released = {}
    for name, filename in SCHEMA_FILES.items():
        path = RELEASED_DIR / filename
        if path.is_file():
            old = _load(path, name)
            if old.fingerprint != known_schemas()[name].fingerprint:
                released[name] = old
    return released


@cache
def earlier_schemas() -> tuple[KnownSchema, ...]:
    """The versions builds of main wrote between releases, neither current nor released
    (``schemas/earlier/``): records of theirs may still be on a topic."""
    return tuple(_load(path, path.stem.rsplit("-", 1)[0]) for path in sorted(EARLIER_DIR.glob("*.avsc")))


def schemas() -> dict[str, dict]:
    """All parsed schemas by short name."""
    return {name: known.parsed for name, known in known_schemas().items()}


def known_list() -> str:
    """The schemas this newsflow reads, as an error message lists them."""
    current = [k.describe() for k in known_schemas().values()]
    released = [f"{k.describe()} (released)" for k in released_schemas().values()]
    return ", ".join(current + released + [f"{k.describe()} (earlier)" for k in earlier_schemas()])


@dataclass(frozen=True)
class Decoded:
    """A decoded message: which schema, the record, and whether it carried a newsflow 0.1 fingerprint."""

    schema: KnownSchema
    record: dict[str, Any]
    legacy: bool = False


class WireFormat(Protocol):
    """How a record and its writer schema are put into one Kafka message value."""

    def claims(self, data: bytes) -> bool:
        """Whether ``data`` is in this format (by its leading bytes; no other format may claim them)."""
        ...

    def encode(self, schema: KnownSchema, record: dict[str, Any]) -> bytes: ...

    def decode(self, data: bytes) -> Decoded:
        """The record, or :class:`AvroDecodeError` naming the fingerprint and what went wrong."""
        ...

    def headers(self, schema: KnownSchema) -> list[tuple[str, bytes]]:
        """Kafka headers that let a consumer route the message without decoding it."""
        ...


class SingleObjectEncoding:
    """Avro single-object encoding (specification 1.8+), read and written by every Avro library."""

    def claims(self, data: bytes) -> bool:
        # A message that starts with C3 01 is not UTF-8 (C3 needs a continuation byte), so never JSON.
        return data[:2] == SINGLE_OBJECT_MAGIC

    def encode(self, schema: KnownSchema, record: dict[str, Any]) -> bytes:
        buf = io.BytesIO()
        buf.write(SINGLE_OBJECT_MAGIC)
        buf.write(schema.fingerprint_bytes)
        fastavro.schemaless_writer(buf, schema.parsed, record)
        return buf.getvalue()

    def decode(self, data: bytes) -> Decoded:
        if not self.claims(data):
            raise AvroDecodeError("not Avro single-object encoding (missing C3 01 marker)")
        if len(data) < SINGLE_OBJECT_HEADER:
            raise AvroDecodeError(
                f"Avro single-object header cut short: {len(data)} bytes, the header alone is "
                f"{SINGLE_OBJECT_HEADER} (C3 01 and an 8-byte fingerprint)"
            )
        writer, legacy = _by_fingerprint().get(data[2:10], (None, False))
        if writer is None:
            unsigned = struct.unpack("<Q", data[2:10])[0]
            raise AvroDecodeError(
                f"unknown Avro schema fingerprint {data[2:10].hex()} (CRC-64-AVRO {as_java_long(unsigned)} "
                f"as Java prints it); this newsflow knows {known_list()}"
            )
        reader = known_schemas()[writer.name]
        return Decoded(reader, _read_datum(data, writer, reader), legacy)

    def headers(self, schema: KnownSchema) -> list[tuple[str, bytes]]:
        return [
            ("content-type", CONTENT_TYPE.encode()),
            ("newsflow.schema", schema.full_name.encode()),
            ("newsflow.schema.fingerprint", schema.fingerprint_bytes.hex().encode()),
        ]


def _read_datum(data: bytes, writer: KnownSchema, reader: KnownSchema) -> dict[str, Any]:
    """The datum after the header, written with ``writer`` and resolved to ``reader`` (when they differ)."""
    where = f"{writer.full_name} (fingerprint {writer.fingerprint_bytes.hex()})"
    if len(data) == SINGLE_OBJECT_HEADER:
        raise AvroDecodeError(f"Avro datum missing: the message ends after the header for {where}")
    buf = io.BytesIO(data)
    buf.seek(SINGLE_OBJECT_HEADER)
    try:
        resolve_to = None if writer is reader else reader.parsed
        record = fastavro.schemaless_reader(buf, writer.parsed, resolve_to)
    except EOFError as exc:
        raise AvroDecodeError(
            f"Avro datum cut short: {len(data) - SINGLE_OBJECT_HEADER} bytes after the header do not hold "
            f"a whole {where}"
        ) from exc
    except IndexError as exc:
        raise AvroDecodeError(
            f"Avro datum does not match its schema {where}: a union branch or enum symbol out of range"
        ) from exc
    except (
        ValueError,
        KeyError,
        UnicodeDecodeError,
        struct.error,
        OverflowError,
        SchemaResolutionError,
    ) as exc:
        detail = str(exc)[:120]
        raise AvroDecodeError(
            f"Avro datum does not match its schema {where}: {type(exc).__name__}: {detail}"
        ) from exc
    left = len(data) - buf.tell()
    if left:
        raise AvroDecodeError(
            f"Avro datum does not match its schema {where}: {left} bytes left after the record's end"
        )
    return record


@cache
def _by_fingerprint() -> dict[bytes, tuple[KnownSchema, bool]]:
    """Fingerprint bytes -> (writer schema, legacy byte order). Current schemas win over released ones,
    released over earlier ones, and the standard byte order over the legacy one, should two of them ever
    share 8 bytes."""
    writers = [*earlier_schemas(), *released_schemas().values(), *known_schemas().values()]
    found: dict[bytes, tuple[KnownSchema, bool]] = {}
    for writer in writers:
        found[writer.legacy_fingerprint_bytes] = (writer, True)
    for writer in writers:
        found[writer.fingerprint_bytes] = (writer, False)
    return found


SINGLE_OBJECT = SingleObjectEncoding()
WRITE_FORMAT: WireFormat = SINGLE_OBJECT
READ_FORMATS: tuple[WireFormat, ...] = (SINGLE_OBJECT,)

_legacy_lock = threading.Lock()
_legacy_topics: set[str] = set()


def encode(name: str, record: dict[str, Any]) -> bytes:
    """One record with the named schema, in the wire format newsflow writes."""
    return WRITE_FORMAT.encode(known_schemas()[name], record)


def headers(name: str) -> list[tuple[str, bytes]]:
    """The Kafka headers that go with a record of the named schema."""
    return WRITE_FORMAT.headers(known_schemas()[name])


def is_avro(data: bytes) -> bool:
    """Whether a read format claims these bytes (then they decode as Avro or fail as Avro, never as JSON)."""
    return any(fmt.claims(data) for fmt in READ_FORMATS)


def decode_message(data: bytes, *, topic: str | None = None) -> Decoded:
    """Decode a message in any read format; a legacy fingerprint is logged once per topic and counted."""
    for fmt in READ_FORMATS:
        if fmt.claims(data):
            decoded = fmt.decode(data)
            if decoded.legacy:
                _note_legacy(topic, decoded.schema)
            return decoded
    raise AvroDecodeError("not Avro: no known wire format (single-object encoding starts with C3 01)")


def decode(data: bytes, *, topic: str | None = None) -> tuple[str, dict[str, Any]]:
    """Decode a message; returns the schema's short name and the record."""
    decoded = decode_message(data, topic=topic)
    return decoded.schema.name, decoded.record


def _note_legacy(topic: str | None, schema: KnownSchema) -> None:
    Metrics.counter("newsflow", "avro.legacy_fingerprint").inc()
    key = topic or "?"
    with _legacy_lock:
        if key in _legacy_topics:
            return
        _legacy_topics.add(key)
    log.warning(
        "avro_legacy_fingerprint",
        topic=topic,
        schema=schema.full_name,
        note="fingerprint bytes in newsflow 0.1's reversed order: read as before; current writers use "
        "the standard little-endian order (logged once per topic)",
    )
