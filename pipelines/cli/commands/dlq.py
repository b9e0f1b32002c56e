"""``newsflow dlq replay``: re-publish chosen dead letters' original bytes to the raw topic after a fix."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

import structlog
from kafka import KafkaProducer

from pipelines.cli.commands.consume import iter_records
from pipelines.cli.dlq import Selection, plan
from pipelines.cli.flags import integer
from pipelines.failures import BadUsage, UnexpectedFormat
from pipelines.options import DEFAULT_TOPICS, add_common, resolve
from pipelines.preflight import add_connect_timeout, check
from transforms.headers import input_headers
from transforms.original_store import OriginalStore
from transforms.settings import KafkaSettings

log = structlog.get_logger(__name__)
REPLAY_REQUEST_BYTES = 128 * 1024 * 1024


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("dlq", help="Work with the dead-letter topic (replay after a fix).")
    actions = parser.add_subparsers(dest="dlq_command", metavar="ACTION", required=True)
    replay = actions.add_parser(
        "replay",
        help="Re-publish selected dead letters' original messages (value, key, headers) to the raw topic.",
        description="Reads the DLQ from the beginning to its current end without joining or committing to "
        "any consumer group (the stream's committed offsets are never touched), selects letters by stage, "
        "error type, source position and failure time, and publishes each one's original message (value, "
        "key and headers, whatever stage failed) to --to-topic with a newsflow.replayed_from header. "
        "--dry-run prints the plan and sends nothing.",
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
    replay.add_argument("--source-partition", type=integer(0), help="Only letters read from this partition.")
    replay.add_argument("--from-offset", type=integer(0), help="Lowest source offset (inclusive).")
    replay.add_argument("--to-offset", type=integer(0), help="Highest source offset (inclusive).")
    replay.add_argument("--since", type=_time, help="Failed at or after this ISO 8601 time (UTC if no zone).")
    replay.add_argument("--until", type=_time, help="Failed before this ISO 8601 time.")
    replay.add_argument("--limit", type=integer(1), help="Replay at most this many letters.")
    replay.add_argument("--dry-run", action="store_true", help="Print what would be sent; send nothing.")
    add_connect_timeout(replay)
    replay.add_argument(
        "--state-dir",
        help="The stream's state dir, where originals too large for the DLQ topic are kept (dlq-originals).",
    )
    add_common(replay)
    replay.set_defaults(func=_replay)


def _time(value: str) -> datetime:
    """An ISO 8601 time, naive ones meaning UTC; anything else a usage error that says what is wanted."""
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not an ISO 8601 time: {value!r} (e.g. 2026-11-01T00:00Z)"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _check_ranges(args: argparse.Namespace) -> None:
    """A range that selects nothing by construction is a mistake, not a replay of nothing."""
    for low, high, what in ((args.from_offset, args.to_offset, "offset"), (args.since, args.until, "time")):
        if low is not None and high is not None and not low <= high:
            flags = "--from-offset and --to-offset" if what == "offset" else "--since and --until"
            raise BadUsage(f"{flags} select nothing: {low} is after {high}")


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


def dead_letters(
    records: Iterable[tuple[int, int, str, dict]], topic: str
) -> Iterator[tuple[int, int, dict]]:
    """(partition, offset, letter) of a DLQ's records; another kind of record means the wrong topic (the
    reader under ``records`` is then closed at once: its client would keep the process alive)."""
    try:
        for partition, offset, name, record in records:
            if name == "dead_letter":
                yield partition, offset, record
            elif name not in ("tombstone", "undecodable"):  # an undecodable one is logged and skipped
                raise UnexpectedFormat(
                    f"topic {topic!r} holds {name} records, not dead letters (first at {partition}:{offset}): "
                    "is --dlq-topic right?"
                )
    finally:
        getattr(records, "close", lambda: None)()


def _replay(args: argparse.Namespace) -> int:
    _check_ranges(args)
    settings = resolve(KafkaSettings, args)
    writes = [] if args.dry_run else [args.to_topic]
    check(settings, read=[args.dlq_topic], write=writes, timeout=args.connect_timeout)
    letters = dead_letters(iter_records(settings, args.dlq_topic), args.dlq_topic)
    # An original from the store can be larger than the DLQ took: the raw topic's limit is the broker's say.
    big = {"max_request_size": REPLAY_REQUEST_BYTES}
    producer = None if args.dry_run else KafkaProducer(**{**settings.producer_kwargs(), **big})
    store = OriginalStore(args.state_dir) if args.state_dir else None
    sent, skipped, futures = 0, 0, []
    for replay in plan(letters, selection_from(args), store):
        if args.limit is not None and sent >= args.limit:
            break
        sys.stdout.write(json.dumps(replay.describe(), ensure_ascii=False) + "\n")
        if replay.skip_reason:
            skipped += 1
            continue
        sent += 1
        if producer is not None:
            # The input's own headers when the letter kept them (or it was a tombstone: nothing to describe);
            # else what `produce` would have added.
            headers = (
                replay.headers
                if replay.original_headers or replay.original_is_null
                else [replay.header, *input_headers(replay.original)]
            )
            futures.append(producer.send(args.to_topic, key=replay.key, value=replay.value, headers=headers))
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
