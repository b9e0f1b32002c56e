"""``newsflow produce``: publish local files as raw-article envelopes to a topic."""

from __future__ import annotations

import argparse
import json

import structlog
from kafka import KafkaProducer

from pipelines.cli.inputs import iter_messages, plan_inputs, reason
from pipelines.failures import InputFileError
from pipelines.options import DEFAULT_TOPICS, add_common, resolve
from pipelines.preflight import add_connect_timeout, check
from transforms import avro
from transforms.headers import input_headers
from transforms.parse import ParseError, parse_json
from transforms.settings import KafkaSettings

log = structlog.get_logger(__name__)


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "produce",
        help="Publish JSONL envelopes, .html/.txt pages and WARC records to a Kafka topic.",
        description="Each JSONL line is published as it is (even if malformed: that is how you test the DLQ); "
        "each .html/.htm/.txt file becomes one envelope, each WARC response record one. Directories are "
        "walked (files of other kinds are skipped, with one summary line); .gz/.zst/.bz2 forms are read "
        "directly. Ends with the counts sent, skipped and failed on stdout, as JSON.",
    )
    parser.add_argument("paths", nargs="+", metavar="PATH")
    parser.add_argument("--topic", default=DEFAULT_TOPICS["input_topic"], help="Topic to publish to.")
    parser.add_argument("--source", help="Publisher/domain for .html/.txt files.")
    parser.add_argument(
        "--format",
        choices=("json", "avro"),
        default="json",
        help="Envelope encoding: JSON, or Avro single-object (valid envelopes only).",
    )
    add_connect_timeout(parser)
    add_common(parser)
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    settings = resolve(KafkaSettings, args)
    plan = plan_inputs(args.paths)  # a missing path fails before any connection
    check(settings, write=[args.topic], timeout=args.connect_timeout)
    producer = KafkaProducer(**settings.producer_kwargs())
    counts = {"sent": 0, "skipped": sum(plan.skipped.values()), "failed": 0}
    unreadable: list[str] = []
    delivery_errors: list[BaseException] = []

    def failed_file(path: str, error: BaseException) -> None:
        log.warning("file_unreadable", file=path, error=reason(error))
        unreadable.append(path)
        counts["failed"] += 1

    def delivered(_metadata: object) -> None:
        counts["sent"] += 1

    def undelivered(error: BaseException) -> None:
        counts["failed"] += 1
        delivery_errors.append(error)

    try:
        for value, position in iter_messages(plan, args.source, failed_file):
            key = f"{position.topic}:{position.offset}".encode()
            if args.format == "avro":
                try:
                    raw = parse_json(value.decode("utf-8", "replace"))
                except ParseError as exc:
                    log.warning(
                        "skipped_invalid_for_avro",
                        file=position.topic,
                        line=position.offset,
                        reason=exc.reason,
                    )
                    counts["skipped"] += 1
                    continue
                value = avro.encode("raw_article", raw.__dict__)
            future = producer.send(args.topic, key=key, value=value, headers=input_headers(value))
            future.add_callback(delivered).add_errback(undelivered)
        producer.flush()
    finally:
        producer.close()
        log.info("produced", topic=args.topic, **counts)
        print(json.dumps({"topic": args.topic, "messages": counts["sent"], **counts}), flush=True)
    if delivery_errors:
        raise delivery_errors[0]  # the CLI explains it (an ACL, a record too large...)
    if unreadable:
        raise InputFileError(f"{len(unreadable)} file(s) could not be read: {', '.join(unreadable[:5])}")
    return 0
