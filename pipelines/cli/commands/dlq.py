"""``newsflow dlq replay``: re-publish chosen dead letters' original bytes to the raw topic after a fix."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime

import structlog
from kafka import KafkaProducer

from pipelines.cli.commands.consume import iter_records
from pipelines.cli.dlq import Selection, plan
from pipelines.options import DEFAULT_TOPICS, add_common, resolve
from transforms.headers import input_headers
from transforms.settings import KafkaSettings

log = structlog.get_logger(__name__)


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("dlq", help="Work with the dead-letter topic (replay after a fix).")
    actions = parser.add_subparsers(dest="dlq_command", metavar="ACTION", required=True)
    replay = actions.add_parser(
        "replay",
        help="Re-publish selected dead letters' original bytes to the raw topic.",
        description="Reads the DLQ from the beginning to its current end without joining or committing to "
        "any consumer group (the stream's committed offsets are never touched), selects letters by stage, "
        "error type, source position and failure time, and publishes each one's original bytes to "
        "--to-topic with a newsflow.replayed_from header. --dry-run prints the plan and sends nothing.",
    )
    replay.add_argument("--dlq-topic", default=DEFAULT_TOPICS["dlq_topic"], help="Dead-letter topic to read.")
    replay.add_argument("--to-topic", default=DEFAULT_TOPICS["input_topic"], help="Topic to re-publish to.")
    replay.add_argument("--stage", action="append", default=[], help="Only this stage (repeatable).")
    replay.add_argument(
        "--error-type",
        action="append",
        default=[],
        help="Only this error type, e.g. ParseError (repeatable).",
    )
    replay.add_argument("--source-topic", help="Only letters read from this topic.")
    replay.add_argument("--source-partition", type=int, help="Only letters read from this partition.")
    replay.add_argument("--from-offset", type=int, help="Lowest source offset (inclusive).")
    replay.add_argument("--to-offset", type=int, help="Highest source offset (inclusive).")
    replay.add_argument("--since", type=_time, help="Failed at or after this ISO 8601 time (UTC if no zone).")
    replay.add_argument("--until", type=_time, help="Failed before this ISO 8601 time.")
    replay.add_argument("--limit", type=int, help="Replay at most this many letters.")
    replay.add_argument("--dry-run", action="store_true", help="Print what would be sent; send nothing.")
    add_common(replay)
    replay.set_defaults(func=_replay)


def _time(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def selection_from(args: argparse.Namespace) -> Selection:
    return Selection(
        stages=frozenset(args.stage),
        error_types=frozenset(args.error_type),
        source_topic=args.source_topic,
        source_partition=args.source_partition,
        from_offset=args.from_offset,
        to_offset=args.to_offset,
        since=args.since,
        until=args.until,
    )


def _replay(args: argparse.Namespace) -> int:
    settings = resolve(KafkaSettings, args)
    letters = (
        (partition, offset, record)
        for partition, offset, name, record in iter_records(settings, args.dlq_topic)
        if name == "dead_letter"
    )
    producer = None if args.dry_run else KafkaProducer(**settings.producer_kwargs())
    sent, skipped, futures = 0, 0, []
    for replay in plan(letters, selection_from(args)):
        if args.limit is not None and sent >= args.limit:
            break
        sys.stdout.write(json.dumps(replay.describe(), ensure_ascii=False) + "\n")
        if replay.skip_reason:
            skipped += 1
            continue
        sent += 1
        if producer is not None:
            headers = [replay.header, *input_headers(replay.original)]
            futures.append(producer.send(args.to_topic, value=replay.original, headers=headers))
    if producer is not None:
        producer.flush()
        for future in futures:
            future.get(timeout=0)  # a delivery error fails the command, non-zero
        producer.close()
    summary = {"dry_run": args.dry_run, "to_topic": args.to_topic, "selected": sent, "skipped": skipped}
    summary["sent"] = 0 if args.dry_run else sent
    log.info("dlq_replay", **summary)
    sys.stdout.write(json.dumps({"summary": summary}) + "\n")
    sys.stdout.flush()
    return 0
