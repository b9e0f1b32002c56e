"""``newsflow process``: the per-article chain on local files, without Kafka or Beam, for debugging."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

from pipelines.cli.commands.consume import to_json
from pipelines.cli.inputs import iter_messages
from pipelines.options import Processing, add_arguments, resolve
from transforms.records import Article, to_dict
from transforms.settings import Limits


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "process",
        help="Run the per-article chain on files and print the output records.",
        description="Each JSONL line, .html or .txt file is one input. Prints one JSON line per input: the "
        "article, its duplicate verdict, or its dead letter (with the reason), and carries on after bad input.",
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
    from pipelines.chain import LocalChain  # Beam is imported only by the commands that run it
    from transforms.kafka_io import KafkaRecord

    chain = LocalChain(resolve(Limits, args), resolve(Processing, args))
    for value, position in iter_messages(args.paths, args.source):
        record = KafkaRecord(position.topic, position.partition, position.offset, None, value, 0)
        kind, result = chain.run(record)
        if args.format == "text":
            write_text(kind, result, sys.stdout)
        else:
            line = {"kind": kind, **to_json(to_dict(result))}
            sys.stdout.write(json.dumps(line, ensure_ascii=False) + "\n")
    sys.stdout.flush()
    return 0
