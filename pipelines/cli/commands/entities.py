"""``newsflow entities PATH...``: recognition, normalisation and linking on text files as they are."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pipelines.cli.flags import integer, seconds
from pipelines.failures import InputFileError
from transforms.errors import PipelineError
from transforms.records import to_dict
from transforms.text_repair import printable


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "entities",
        help="Print the named entities of text files as JSON (no cleaning).",
        description="Runs the entity stage on each file's text as it is and prints one JSON object per file.",
    )
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="UTF-8 text files")
    parser.add_argument("--title", help="a title to weigh into salience (same for every file)")
    parser.add_argument("--time-budget", type=seconds, default=10.0, help="seconds per file (default 10)")
    parser.add_argument("--indent", type=integer(0), default=None, help="pretty-print with this indent")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    for path in args.paths:  # before the model loads (seconds): a typo fails at once
        if path.is_dir() or not path.exists():  # a FIFO or /dev/stdin is read as any file is
            raise InputFileError(f"{path}: {'a directory' if path.is_dir() else 'no such file'}")
    from transforms.entities import EntityExtractor

    extractor = EntityExtractor().load()
    status = 0
    for path in args.paths:
        try:
            body = path.read_text(encoding="utf-8")
            entities = extractor.extract(body, args.title, time_budget=args.time_budget)
        except (OSError, UnicodeDecodeError, PipelineError) as exc:
            print(f"newsflow entities: {printable(f'{path}: {exc}')}", file=sys.stderr)
            status = 1 if isinstance(exc, PipelineError) else InputFileError.exit_code
            continue
        out = {"path": printable(str(path)), "entities": [to_dict(e) for e in entities]}
        print(json.dumps(out, ensure_ascii=False, indent=args.indent))
    return status
