"""Read a newsflow topic with the official ``avro`` package and kafka-python, one JSON line per record.

Nothing from newsflow is imported: only its ``.avsc`` files are read. Records are in Avro single-object
encoding (``C3 01``, the writer schema's CRC-64-AVRO fingerprint as 8 little-endian bytes, the datum); the
fingerprint picks the schema, as Java's ``BinaryMessageDecoder`` does.

    pip install 'avro>=1.12' kafka-python
    python consume_articles.py --bootstrap-servers localhost:9092 --topic articles.clean --idle-seconds 10

One workaround, for avro 1.12's Python package: its ``Schema.fingerprint()`` keeps logical-type longs as
``{"type":"long"}`` in the canonical form where the specification (and Java) reduce them to ``"long"``,
so for schemas with timestamps it gives another fingerprint than every writer. :func:`fingerprint`
computes it from the schema without its ``logicalType`` attributes, which is what the specification's
canonical form keeps anyway; the schema used to decode keeps them, so timestamps come back as datetimes.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import avro.errors
import avro.io
import avro.schema
from kafka import KafkaConsumer, TopicPartition
from kafka.structs import OffsetAndMetadata

MAGIC = b"\xc3\x01"


def _without_logical_types(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _without_logical_types(v) for k, v in node.items() if k != "logicalType"}
    if isinstance(node, list):
        return [_without_logical_types(v) for v in node]
    return node


def fingerprint(schema_json: dict) -> bytes:
    """The 8 bytes single-object encoding carries for this schema (CRC-64-AVRO, little-endian)."""
    return avro.schema.parse(json.dumps(_without_logical_types(schema_json))).fingerprint("CRC-64-AVRO")


Schemas = dict[bytes, tuple[avro.schema.RecordSchema, avro.schema.RecordSchema]]


def load_schemas(directory: Path) -> Schemas:
    """Fingerprint -> (writer schema, reader schema) for every ``.avsc`` file of ``directory``, and for the
    earlier versions in ``directory/released`` and ``directory/earlier``: their records are resolved to the
    current schema."""
    current = {}
    for path in sorted(directory.glob("*.avsc")):
        schema = avro.schema.parse(path.read_text())
        current[schema.fullname] = (schema, json.loads(path.read_text()))
    if not current:
        raise SystemExit(f"no .avsc files in {directory}")
    found: Schemas = {}
    for path in sorted([*(directory / "released").glob("*.avsc"), *(directory / "earlier").glob("*.avsc")]):
        writer = avro.schema.parse(path.read_text())
        if writer.fullname in current:
            found[fingerprint(json.loads(path.read_text()))] = (writer, current[writer.fullname][0])
    for schema, schema_json in current.values():
        found[fingerprint(schema_json)] = (schema, schema)
    return found


def decode(value: bytes, schemas: Schemas) -> tuple[str, dict]:
    """(schema full name, record) of one single-object-encoded message."""
    if value[:2] != MAGIC or len(value) < 10:
        raise ValueError("not Avro single-object encoding")
    if value[2:10] not in schemas:
        raise ValueError(f"no schema has fingerprint {value[2:10].hex()}")
    writer, reader = schemas[value[2:10]]
    record = avro.io.DatumReader(writer, reader).read(avro.io.BinaryDecoder(io.BytesIO(value[10:])))
    return reader.fullname, record


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    raise TypeError(type(value).__name__)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bootstrap-servers", required=True)
    parser.add_argument("--topic", default="articles.clean")
    parser.add_argument("--schemas", type=Path, default=Path("schemas"), help="Folder of .avsc files.")
    parser.add_argument("--group-id", default="newsflow-python-example")
    parser.add_argument("--max-records", type=int, default=0, help="Stop after this many (0: no limit).")
    parser.add_argument("--idle-seconds", type=float, default=0, help="Stop after this long without records.")
    parser.add_argument("--fields", help="Print only these top-level fields (comma-separated).")
    args = parser.parse_args(argv)

    schemas = load_schemas(args.schemas)
    fields = args.fields.split(",") if args.fields else None
    consumer = KafkaConsumer(
        args.topic,
        bootstrap_servers=args.bootstrap_servers,
        group_id=args.group_id,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    seen, last_record = 0, time.monotonic()
    try:
        while not args.max_records or seen < args.max_records:
            batch = consumer.poll(timeout_ms=500)
            if not batch:
                if not consumer.assignment():
                    last_record = time.monotonic()  # still joining the group: not idle yet
                elif args.idle_seconds and time.monotonic() - last_record >= args.idle_seconds:
                    break
                continue
            last_record = time.monotonic()
            done: dict[TopicPartition, OffsetAndMetadata] = {}
            for record in (r for records in batch.values() for r in records):
                line: dict[str, Any] = {"topic": record.topic, "partition": record.partition}
                line["offset"] = record.offset
                line["headers"] = {k: v.decode("utf-8", "replace") for k, v in record.headers or []}
                try:
                    line["schema"], decoded = decode(record.value or b"", schemas)
                    line["record"] = {f: decoded.get(f) for f in fields} if fields else decoded
                except (ValueError, EOFError, avro.errors.AvroException) as exc:
                    line["error"] = f"{type(exc).__name__}: {exc}"
                sys.stdout.write(json.dumps(line, ensure_ascii=False, default=_jsonable) + "\n")
                done[TopicPartition(record.topic, record.partition)] = OffsetAndMetadata(
                    record.offset + 1, "", -1
                )
                seen += 1
                if args.max_records and seen >= args.max_records:
                    break
            consumer.commit(done)  # what was printed, not the rest of the batch
    finally:
        consumer.close()
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
