"""Avro at the edges: the schemas in ``schemas/``, single-object encoding on Kafka, container files on disk.

Kafka messages use Avro's single-object encoding (``C3 01`` + the schema's CRC-64-AVRO fingerprint,
little-endian, + the binary datum), so a consumer decodes them without a schema registry: the fingerprint
names the writer schema.
"""

from __future__ import annotations

import io
import json
import struct
from functools import cache
from pathlib import Path
from typing import Any

import fastavro
from fastavro.schema import fingerprint, parse_schema, to_parsing_canonical_form

SCHEMA_DIR = Path(__file__).resolve().parents[1] / "schemas"
SINGLE_OBJECT_MAGIC = b"\xc3\x01"
# Each file is self-contained (no cross-file named types), so consumers can load any one of them alone.
SCHEMA_FILES = {
    "raw_article": "raw_article.avsc",
    "article": "article.avsc",
    "duplicate": "duplicate.avsc",
    "dead_letter": "dead_letter.avsc",
}


class AvroDecodeError(ValueError):
    """Bytes that claim to be Avro but cannot be decoded with a known schema."""


@cache
def schemas() -> dict[str, dict]:
    """All schemas by short name, parsed once per process."""
    return {
        name: parse_schema(json.loads((SCHEMA_DIR / filename).read_text()), named_schemas={})
        for name, filename in SCHEMA_FILES.items()
    }


@cache
def _fingerprints() -> dict[bytes, str]:
    return {_fingerprint(name): name for name in schemas()}


@cache
def _fingerprint(name: str) -> bytes:
    canonical = to_parsing_canonical_form(schemas()[name])
    return struct.pack("<Q", int(fingerprint(canonical, "CRC-64-AVRO"), 16))


def encode(name: str, record: dict[str, Any]) -> bytes:
    """One record in Avro single-object encoding with the named schema."""
    buf = io.BytesIO()
    buf.write(SINGLE_OBJECT_MAGIC)
    buf.write(_fingerprint(name))
    fastavro.schemaless_writer(buf, schemas()[name], record)
    return buf.getvalue()


def is_single_object(data: bytes) -> bool:
    return data[:2] == SINGLE_OBJECT_MAGIC and len(data) >= 10


def decode(data: bytes) -> tuple[str, dict[str, Any]]:
    """Decode single-object-encoded bytes; returns the schema's short name and the record."""
    if not is_single_object(data):
        raise AvroDecodeError("not Avro single-object encoding (missing C3 01 marker)")
    name = _fingerprints().get(data[2:10])
    if name is None:
        raise AvroDecodeError(f"unknown Avro schema fingerprint {data[2:10].hex()}")
    try:
        record = fastavro.schemaless_reader(io.BytesIO(data[10:]), schemas()[name], None)
    except (EOFError, ValueError, IndexError, UnicodeDecodeError, struct.error) as exc:
        raise AvroDecodeError(f"corrupt Avro datum for {name}: {type(exc).__name__}") from exc
    return name, record
