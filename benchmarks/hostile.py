"""Every hostile input we know, one at a time through the whole chain: its outcome and how long it took.

The inputs are benchmarks/chaos.py's (the ``kills`` scenario's hostile kinds, ``surrogates`` and
``attribute_bomb``); each goes through ``newsflow process``'s LocalChain (parse, clean, learned boilerplate,
dedup, NER) with the stage watchdog, as the stream runs it, with a fresh dedup index so that no case is
judged a copy of another. Prints a Markdown table (the one in pipelines/RELIABILITY.md) and, with
``--json-out``, the rows.

    nice -n 10 .venv/bin/python benchmarks/hostile.py --big-mb 50
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from chaos import Hostile, bomb_inputs, hostile_inputs, surrogate_inputs  # noqa: E402

from pipelines.chain import LocalChain, dedup_settings  # noqa: E402
from pipelines.options import Limits, Processing  # noqa: E402
from transforms.dedup import Deduplicator  # noqa: E402
from transforms.kafka_io import KafkaRecord  # noqa: E402


def describe(case: Hostile) -> str:
    size = len(case.value or b"")
    return f"{size / 1e6:.1f} MB" if size >= 100_000 else f"{size:,} B"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--big-mb", type=int, default=50, help="Size of the oversized message.")
    parser.add_argument("--doc-time-budget", type=float, default=Limits().doc_time_budget)
    parser.add_argument("--json-out")
    args = parser.parse_args(argv)
    limits = Limits(doc_time_budget=args.doc_time_budget)
    processing = Processing()
    chain = LocalChain(limits, processing)
    bombs = [c for c in bomb_inputs() if c.kind != "redos"]  # the ReDoS cases are among hostile_inputs
    cases = [*hostile_inputs(args.big_mb), *surrogate_inputs(), *bombs]
    rows = []
    print("| kind | size | outcome | reason | CPU s | wall s |")
    print("|---|---|---|---|---|---|")
    for offset, case in enumerate(cases):
        chain.deduplicator = Deduplicator(dedup_settings(processing), None)
        started, cpu = time.monotonic(), time.process_time()
        kind, output = chain.run(KafkaRecord("raw", 0, offset, None, case.value, 0))
        row = {
            "kind": case.kind,
            "size": describe(case),
            "outcome": f"DLQ ({output.stage})" if kind == "dead_letter" else kind,
            "reason": f"{output.error_type}: {output.message[:70]}" if kind == "dead_letter" else "",
            "cpu_seconds": round(time.process_time() - cpu, 2),
            "wall_seconds": round(time.monotonic() - started, 2),
        }
        if kind == "article" and output.metadata:
            notes = {k: v for k, v in output.metadata.items() if k in ("repaired_chars", "charset_repaired")}
            row["reason"] = ", ".join(f"{k}={v}" for k, v in notes.items())
        rows.append(row)
        reason = row["reason"].replace("|", "/")
        print(
            f"| {row['kind']} | {row['size']} | {row['outcome']} | {reason} | {row['cpu_seconds']} | "
            f"{row['wall_seconds']} |",
            flush=True,
        )
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(rows, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
