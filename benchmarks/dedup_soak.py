"""Dedup soak: 200k synthetic-but-realistic articles over three weeks of event time; memory must flatten.

Articles are recombined real sentences (the Scrapinghub and CoNLL++ bodies of ``benchmarks/dedup.py``):
each takes 12-30 sentences at random, and a quarter are edited copies of an article from the previous two
days (new lede, boilerplate, truncation, on another partition). Timestamps advance about nine seconds per
article with jitter, so after seven days of event time (the default horizon) expiry starts removing as
much as arrives. RSS (``/proc/self/statm``) and the index size are sampled every ``--every`` articles.

Run: ``nice .venv/bin/python benchmarks/dedup_soak.py [--articles 200000] [--store memory|sqlite]``.
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from dedup import BOILERPLATE, load_corpus

from pipelines import logs
from transforms.dedup import Deduplicator, DedupSettings, MemoryStore, SqliteStore
from transforms.records import Article, SourcePosition, stable_id

T0 = datetime(2024, 1, 1, tzinfo=UTC)
PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE / 2**20


def articles(count: int, seed: int = 11):
    """The synthetic stream: (article, is_copy) in arrival order."""
    rng = random.Random(seed)
    sentences = [s for doc in load_corpus() for s in doc.sentences if len(s.split()) >= 6]
    recent: list[tuple[list[str], int]] = []
    seconds = 0.0
    for n in range(count):
        seconds += rng.uniform(4.0, 14.0)
        is_copy = bool(recent) and rng.random() < 0.25
        if is_copy:
            body, born = rng.choice(recent)
            kind = rng.randrange(3)
            if kind == 0:
                body = [rng.choice(sentences)] + body[1:]
            elif kind == 1:
                body = body + [rng.choice(BOILERPLATE)]
            else:
                body = body[: max(3, len(body) * 9 // 10)]
        else:
            body = rng.sample(sentences, rng.randint(12, 30))
            recent.append((body, n))
        if len(recent) > 20_000:
            recent = recent[-15_000:]
        url = f"https://site{rng.randrange(300)}.example/{n}"
        stamp = T0 + timedelta(seconds=seconds)
        yield (
            Article(
                id=stable_id(url, ""),
                body=" ".join(body),
                url=url,
                canonical_url=url,
                fetched_at=stamp,
                published_at=stamp,
                source_position=SourcePosition("articles.raw", n % 12, n // 12),
            ),
            is_copy,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=200_000)
    parser.add_argument("--every", type=int, default=10_000, help="Sample interval (articles).")
    parser.add_argument("--store", choices=("memory", "sqlite"), default="memory")
    args = parser.parse_args()
    logs.configure("INFO")
    settings = DedupSettings()
    with tempfile.TemporaryDirectory() as tmp:
        store = MemoryStore() if args.store == "memory" else SqliteStore(Path(tmp))
        dedup = Deduplicator(settings, store, expire_every=args.every)
        start = time.perf_counter()
        dropped = copies = caught = 0
        base = rss_mb()
        print(f"store {args.store}, {settings}; RSS before the stream {base:.0f} MB")
        print(
            f"{'articles':>9} {'event day':>9} {'RSS MB':>7} {'index keys':>10} {'index MB':>8} "
            f"{'B/retained':>10} {'dropped':>8} {'art/s':>6}"
        )
        series = []
        retained_now = 0
        for n, (article, is_copy) in enumerate(articles(args.articles), start=1):
            _, verdict = dedup.check(article)
            copies += is_copy
            if verdict:
                dropped += 1
                caught += is_copy
            if n % args.every == 0:
                keys, size = dedup.store.size()
                retained_now = keys / (2 + settings.bands)
                day = (article.fetched_at - T0).total_seconds() / 86400
                rate = n / (time.perf_counter() - start)
                rss = rss_mb()
                series.append((n, day, rss, keys))
                print(
                    f"{n:>9} {day:>9.1f} {rss:>7.0f} {keys:>10} {size / 2**20:>8.1f} "
                    f"{size / max(1, retained_now):>10.0f} {dropped:>8} {rate:>6.0f}",
                    flush=True,
                )
        dedup.close()
    after = [(rss, keys) for _, day, rss, keys in series if day >= settings.horizon_days + 1]
    if after:
        print(
            f"after the horizon (+1 day, {len(after)} samples): RSS {min(r for r, _ in after):.0f} to "
            f"{max(r for r, _ in after):.0f} MB, index keys {min(k for _, k in after)} to {max(k for _, k in after)}"
        )
    first_week = [rss for _, day, rss, _ in series if day < settings.horizon_days]
    if first_week:
        print(f"first week: RSS {base:.0f} -> {first_week[-1]:.0f} MB")
    print(f"copies caught {caught} of {copies} ({caught / max(1, copies):.4f}); dropped {dropped}")


if __name__ == "__main__":
    main()
