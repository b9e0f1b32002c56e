"""``newsflow produce``: publish local files as raw-article envelopes to a topic."""

from __future__ import annotations

import argparse
import json

import structlog
from kafka import KafkaProducer

from pipelines.cli.inputs import iter_messages
from pipelines.options import DEFAULT_TOPICS, add_common, resolve
from transforms import avro
from transforms.headers import input_headers
from transforms.parse import ParseError, parse_json
from transforms.settings import KafkaSettings

log = structlog.get_logger(__name__)


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "produce",
        help="Publish JSONL envelopes, .html and .txt files to a Kafka topic.",
        description="Each JSONL line is published as it is (even if malformed: that is how you test the DLQ); "
        "each .html/.txt file becomes one envelope. Directories are walked; .gz files are read directly.",
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
    add_common(parser)
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    settings = resolve(KafkaSettings, args)
    producer = KafkaProducer(**settings.producer_kwargs())
    futures = []
    for value, position in iter_messages(args.paths, args.source):
        key = f"{position.topic}:{position.offset}".encode()
        if args.format == "avro":
            try:
                raw = parse_json(value.decode("utf-8", "replace"))
            except ParseError as exc:
                log.warning(
                    "skipped_invalid_for_avro", file=position.topic, line=position.offset, reason=exc.reason
                )
                continue
            value = avro.encode("raw_article", raw.__dict__)
        futures.append(producer.send(args.topic, key=key, value=value, headers=input_headers(value)))
    producer.flush()
    for future in futures:
        future.get(timeout=0)
    producer.close()
    log.info("produced", topic=args.topic, messages=len(futures))
    print(json.dumps({"topic": args.topic, "messages": len(futures)}))
    return 0
