"""``newsflow consume``: decode a topic's Avro messages to JSON lines."""

from __future__ import annotations

import argparse
import base64
import json
import sys
from datetime import datetime
from typing import Any

import structlog

from pipelines.cli.flags import integer
from pipelines.cli.topic_reader import records_to_end
from pipelines.options import DEFAULT_TOPICS, add_common, resolve
from pipelines.preflight import add_connect_timeout, check
from transforms import avro
from transforms.headers import as_dict
from transforms.settings import KafkaSettings

log = structlog.get_logger(__name__)


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "consume",
        help="Print a topic's Avro records as JSON lines.",
        description="Reads every partition from the beginning and exits at the end of the topic, "
        "unless --follow is given. Does not join or commit to any consumer group. Messages that are not "
        "newsflow Avro (the raw topic's JSON envelopes, say) are printed as they are, with _schema json "
        "or raw.",
    )
    parser.add_argument("--topic", default=DEFAULT_TOPICS["output_topic"], help="Topic to read.")
    parser.add_argument("--follow", action="store_true", help="Keep waiting for new records.")
    parser.add_argument("--limit", type=integer(1), help="Stop after this many records.")
    parser.add_argument("--headers", action="store_true", help="Add each record's Kafka headers (_headers).")
    add_connect_timeout(parser)
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
    one bad record never ends the read. A message that is not Avro single-object encoding at all (the raw
    topic's JSON envelopes) comes as it is: ``("json", object)`` if it is JSON, else ``("raw", {"value":
    text or base64})``, and the first of each kind is logged once.
    """
    told: set[str] = set()
    for rec in records_to_end(settings, topic, follow=follow):
        if not rec.value:
            yield rec, "tombstone", {}
            continue
        try:
            name, record = avro.decode(rec.value, topic=topic)
        except avro.AvroDecodeError as exc:
            if avro.is_avro(rec.value):
                log.warning("undecodable_record", topic=topic, partition=rec.partition, offset=rec.offset)
                name, record = "undecodable", {"error": str(exc), "bytes": len(rec.value)}
            else:
                name, record = not_avro(rec.value)
                if name not in told:
                    told.add(name)
                    log.warning(
                        "not_avro",
                        topic=topic,
                        position=f"{rec.partition}:{rec.offset}",
                        shown_as=name,
                        note="printed as it is: is this the topic you meant?",
                    )
        yield rec, name, record


def not_avro(value: bytes) -> tuple[str, dict[str, Any]]:
    """A message in another format, as it is: a JSON object, or the text (base64 if it is binary)."""
    try:
        parsed = json.loads(value)
    except ValueError:
        return "raw", {"value": to_json(value)}
    return "json", parsed if isinstance(parsed, dict) else {"value": parsed}


def _run(args: argparse.Namespace) -> int:
    settings = resolve(KafkaSettings, args)
    check(settings, read=[args.topic], timeout=args.connect_timeout)
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
