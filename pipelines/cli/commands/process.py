"""``newsflow process``: the per-article chain on local files, without Kafka or Beam, for debugging."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any, TextIO

from pipelines.cli.commands.consume import to_json
from pipelines.cli.inputs import iter_messages, plan_inputs
from pipelines.options import Processing, add_arguments, resolve
from transforms.file_io import Oversized, source_name
from transforms.records import Article, SourcePosition, to_dict
from transforms.settings import Limits


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "process",
        help="Run the per-article chain on files and print the output records.",
        description="Each JSONL line, .html/.htm/.txt file or WARC record is one input (.gz, .zst and .bz2 "
        "forms are read directly; directories are walked, and files of other kinds skipped with one summary "
        "line). Prints one JSON line per input: the article, its duplicate verdict, or its dead letter (with "
        "the reason); a file that cannot be read becomes a dead letter too, and the rest goes on.",
    )
    parser.add_argument("paths", nargs="+", metavar="PATH")
    parser.add_argument("--source", help="Publisher/domain for .html/.txt files.")
    parser.add_argument(
        "--format", choices=("json", "text"), default="json", help="JSON lines, or readable text."
    )
    add_arguments(parser, Processing, "Processing")
    add_arguments(parser, Limits, "Limits")
    parser.set_defaults(func=_run)


def write_text(kind: str, record: Any, out: TextIO) -> None:
    """A readable rendering: title, body paragraphs, captions and credits of an article."""
    if kind != "article":
        out.write(f"[{kind}] {json.dumps(to_json(to_dict(record)), ensure_ascii=False)}\n\n")
        return
    article: Article = record
    if article.title:
        out.write(f"# {article.title}\n\n")
    out.write(article.body + "\n\n")
    for caption in article.captions:
        out.write(
            f"[caption] {caption.text}" + (f" | credit: {caption.credit}" if caption.credit else "") + "\n"
        )
    for credit in article.credits:
        out.write(f"[credit] {credit}\n")
    out.write("\n")


def _run(args: argparse.Namespace) -> int:
    limits, processing = resolve(Limits, args), resolve(Processing, args)
    plan = plan_inputs(args.paths)  # a missing path fails here, before the model loads
    from pipelines.chain import LocalChain  # Beam is imported only by the commands that run it
    from transforms.deadletter import dead_letter
    from transforms.kafka_io import KafkaRecord

    def emit(kind: str, result: Any) -> None:
        if args.format == "text":
            write_text(kind, result, sys.stdout)
        else:
            sys.stdout.write(
                json.dumps({"kind": kind, **to_json(to_dict(result))}, ensure_ascii=False) + "\n"
            )

    def unreadable(path: str, error: BaseException) -> None:
        emit("dead_letter", dead_letter(b"", error, SourcePosition(source_name(path), 0, 0), stage="read"))

    def oversized(record: Oversized) -> None:
        emit("dead_letter", record.dead_letter())

    chain = LocalChain(limits, processing)
    messages = iter_messages(
        plan,
        args.source,
        unreadable,
        oversized=oversized,
        limit=limits.max_message_bytes,
        store_dir=processing.state_dir,
    )
    for value, position in messages:
        # Read now: the arrival time, as a broker would stamp it (dedup's horizon counts from it).
        arrived_ms = time.time_ns() // 1_000_000
        record = KafkaRecord(position.topic, position.partition, position.offset, None, value, arrived_ms)
        emit(*chain.run(record))
    sys.stdout.flush()
    return 0
