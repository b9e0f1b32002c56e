"""``newsflow consume``: decode a topic's Avro messages to JSON lines."""

from __future__ import annotations

import argparse
import base64
import json
import sys
from datetime import datetime
from typing import Any

import structlog
from kafka.errors import KafkaError

from pipelines.cli.topic_reader import records_to_end
from pipelines.options import DEFAULT_TOPICS, add_common, resolve
from transforms import avro
from transforms.headers import as_dict
from transforms.settings import KafkaSettings

log = structlog.get_logger(__name__)


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "consume",
        help="Print a topic's Avro records as JSON lines.",
        description="Reads every partition from the beginning and exits at the end of the topic, "
        "unless --follow is given. Does not join or commit to any consumer group.",
    )
    parser.add_argument("--topic", default=DEFAULT_TOPICS["output_topic"], help="Topic to read.")
    parser.add_argument("--follow", action="store_true", help="Keep waiting for new records.")
    parser.add_argument("--limit", type=int, help="Stop after this many records.")
    parser.add_argument("--headers", action="store_true", help="Add each record's Kafka headers (_headers).")
    add_common(parser)
    parser.set_defaults(func=_run)


def to_json(value: Any) -> Any:
    """JSON-safe form of a decoded Avro record: times as ISO 8601, bytes as text or base64."""
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_json(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return "base64:" + base64.b64encode(value).decode()
    return value


def iter_records(settings: KafkaSettings, topic: str, follow: bool = False):
    """(partition, offset, schema name, record) from the beginning to the end (or forever)."""
    for rec, name, record in iter_decoded(settings, topic, follow):
        yield rec.partition, rec.offset, name, record


def iter_decoded(settings: KafkaSettings, topic: str, follow: bool = False):
    """(Kafka record, schema name, record) from the beginning to the end (or forever).

    A value no known schema decodes is yielded as schema ``undecodable`` with the reason, and logged, so
    one bad record never ends the read.
    """
    try:
        for rec in records_to_end(settings, topic, follow=follow):
            if not rec.value:
                yield rec, "tombstone", {}
                continue
            try:
                name, record = avro.decode(rec.value, topic=topic)
            except avro.AvroDecodeError as exc:
                log.warning("undecodable_record", topic=topic, partition=rec.partition, offset=rec.offset)
                name, record = "undecodable", {"error": str(exc), "bytes": len(rec.value)}
            yield rec, name, record
    except (LookupError, KafkaError) as exc:  # a missing topic or no broker: one clear line, no traceback
        raise SystemExit(f"newsflow consume: {exc}") from None


def _run(args: argparse.Namespace) -> int:
    settings = resolve(KafkaSettings, args)
    records = iter_decoded(settings, args.topic, args.follow)
    for count, (rec, name, record) in enumerate(records, start=1):
        line = {"_partition": rec.partition, "_offset": rec.offset, "_schema": name}
        if args.headers:
            line["_headers"] = as_dict(rec.headers)
        line.update(to_json(record))
        sys.stdout.write(json.dumps(line, ensure_ascii=False) + "\n")
        if args.limit and count >= args.limit:
            break
    sys.stdout.flush()
    return 0
