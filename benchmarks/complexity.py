"""CPU time against input size for the hostile shapes the complexity hunt found (pipelines/RELIABILITY.md,
"Hostile input"): each shape at n, 2n, 4n and 8n, median CPU seconds of ``--repeats`` runs in this process.

Linear work doubles with n; the ratio column is the last size's time over the first's (8 when linear, 64
when quadratic). Run it from two checkouts in one session to compare code (it imports its own checkout's).

    nice .venv/bin/python benchmarks/complexity.py [--repeats 3] [--only text_alternating,...]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipelines import logs  # noqa: E402
from transforms.boilerplate import extract_text  # noqa: E402
from transforms.boilerplate.html import parse_html, strip_non_content  # noqa: E402
from transforms.dedup import Deduplicator  # noqa: E402
from transforms.dedup.shingles import normalise  # noqa: E402
from transforms.normalize import normalize_text  # noqa: E402
from transforms.records import Article  # noqa: E402

PROSE = "The minister said the plan would pass on Tuesday."
TEMPLATE = (
    "Shares of Acme rose {} percent to {} dollars on Tuesday in New York trading, as investors weighed the "
    "company's quarterly results and the outlook for the rest of the year. Volume was {} shares against an "
    "average of {}."
)


def text_alternating(n: int) -> Callable[[], object]:
    """n lines, prose and a line without words alternating: one block of text per prose line."""
    text = "\n".join(PROSE if i % 2 == 0 else "*" for i in range(n))
    return lambda: extract_text(text, time_budget=1e9)


def marks_reversed(n: int) -> Callable[[], object]:
    """One letter under n combining marks in reverse canonical order, through parse's NFC and dedup's NFKC."""
    text = "Zalgo a" + "\u0301" * (n // 2) + "\u0323" * (n // 2) + " comes."
    return lambda: (normalize_text(text), normalise(text))


def template_articles(n: int) -> list[Article]:
    """n market reports differing only in their figures: every one shares most band keys with the others."""
    start = datetime(2026, 12, 1, tzinfo=UTC)
    return [
        Article(
            id=f"{i:032x}",
            body=TEMPLATE.format(i % 9 + 1, 10 + i % 89, 1000 + i, 5000 + 7 * i),
            url=f"https://example.com/markets/{i}",
            canonical_url=f"https://example.com/markets/{i}",
            fetched_at=start + timedelta(seconds=i),
        )
        for i in range(n)
    ]


def template_flood(n: int) -> Callable[[], object]:
    """n market reports through the streaming rule (memory index)."""
    articles = template_articles(n)

    def run() -> None:
        dedup = Deduplicator()
        for article in articles:
            dedup.check(article)

    return run


def nested_asides(n: int) -> Callable[[], object]:
    """A page of 20,000 words inside n nested asides, each holding most of the page (left as it is)."""
    html = (
        "<html><body>" + "<aside>" * n + "<p>" + "word " * 20_000 + "</p>" + "</aside>" * n + "</body></html>"
    )
    return lambda: strip_non_content(parse_html(html, max_depth=400))


SHAPES: dict[str, tuple[Callable[[int], Callable[[], object]], int]] = {
    "text_alternating": (text_alternating, 1_250),
    "marks_reversed": (marks_reversed, 5_000),
    "template_flood": (template_flood, 500),
    "nested_asides": (nested_asides, 25),
}


def cpu(call: Callable[[], object]) -> float:
    started = time.thread_time()
    call()
    return time.thread_time() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", default=",".join(SHAPES), help="comma-separated shapes")
    args = parser.parse_args(argv)
    logs.configure("INFO")  # not a debug line per duplicate of the flood
    print(f"code: {ROOT}")
    print("| shape | n | 2n | 4n | 8n | CPU s at n, 2n, 4n, 8n (median) | ratio 8n / n |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name in args.only.split(","):
        make, base = SHAPES[name]
        sizes = [base, 2 * base, 4 * base, 8 * base]
        times = []
        for n in sizes:
            call = make(n)
            times.append(statistics.median(cpu(call) for _ in range(args.repeats)))
        ratio = times[-1] / max(times[0], 1e-3)
        cells = " | ".join(f"{n:,}" for n in sizes)
        print(f"| {name} | {cells} | {', '.join(f'{t:.3f}' for t in times)} | {ratio:.1f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
