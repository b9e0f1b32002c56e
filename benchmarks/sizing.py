"""Per-stage CPU cost of the chain, and the workers and partitions a daily volume needs.

Runs the pipeline's own per-article steps (the code ``pipelines/chain.py`` wraps in DoFns) over the
Scrapinghub benchmark pages (``../shared/bench/extraction/scrapinghub/html/*.html.gz``, real news pages
of many publishers), one thread, and measures CPU seconds (``time.process_time``) per stage, so other
load on the machine does not inflate the figures:

    parse (JSON envelope -> RawArticle)  clean (HTML -> body + metadata)  learned (per-source boilerplate)
    dedup (fingerprint + probe + insert) ner (EntityExtractor)            encode (Avro single-object)

Each pass starts with fresh dedup and boilerplate state; the figure per stage is the median over passes.
Then it sizes a deployment: for a daily volume, cores = volume/86400 x peak factor / (articles per second
per core of the whole chain) / target utilisation; workers of ``--cores-per-worker`` cores; partitions of
the raw topic >= the parallelism needed to catch up after an outage (``--outage-hours`` of backlog drained
in ``--catch-up-hours``) and >= the steady parallelism, rounded up to a power of two.

    nice .venv/bin/python benchmarks/sizing.py [--passes 3] [--limit N] [--json-out FILE]

Runner overhead (Fn API, serialisation between stages, Kafka client) is not in the stage figures: it is
covered by the target utilisation, which is why that is well below 100 %.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipelines import logs  # noqa: E402
from transforms import avro  # noqa: E402
from transforms.article import build_article  # noqa: E402
from transforms.boilerplate.learned import LearnedBoilerplate  # noqa: E402
from transforms.dedup import Deduplicator  # noqa: E402
from transforms.parse import parse  # noqa: E402
from transforms.records import SourcePosition, to_dict  # noqa: E402
from transforms.settings import Limits  # noqa: E402

PAGES = Path(__file__).resolve().parents[1] / ".." / "shared" / "bench" / "extraction" / "scrapinghub"
STAGES = ("parse", "clean", "learned", "dedup", "ner", "encode")
SECONDS_PER_DAY = 86_400


def envelopes(limit: int | None) -> list[bytes]:
    truth = json.loads((PAGES / "ground-truth.json").read_text())
    out = []
    for path in sorted((PAGES / "html").glob("*.html.gz"))[:limit]:
        page_id = path.name.split(".")[0]
        html = gzip.decompress(path.read_bytes()).decode("utf-8", "replace")
        out.append(json.dumps({"url": truth[page_id]["url"], "html": html}).encode())
    return out


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def one_pass(messages: list[bytes], extractor, limits: Limits) -> dict[str, float]:
    """CPU seconds per stage over all messages, with fresh per-source and dedup state."""
    spent = dict.fromkeys(STAGES, 0.0)
    learned, dedup = LearnedBoilerplate(), Deduplicator()
    for offset, value in enumerate(messages):
        t = time.process_time()
        parsed = parse(value, SourcePosition("bench", 0, offset), max_bytes=limits.max_message_bytes)
        spent["parse"] += (t1 := time.process_time()) - t
        try:
            article = build_article(parsed, limits)
        except Exception:  # noqa: BLE001 - a page without text is a dead letter in the pipeline: cheap
            spent["clean"] += time.process_time() - t1
            continue
        spent["clean"] += (t2 := time.process_time()) - t1
        article = learned.apply(article)
        spent["learned"] += (t3 := time.process_time()) - t2
        article, verdict = dedup.check(article)
        spent["dedup"] += (t4 := time.process_time()) - t3
        if verdict is None:
            entities = extractor.extract(article.body, article.title, time_budget=limits.doc_time_budget)
            article.entities = entities
        spent["ner"] += (t5 := time.process_time()) - t4
        avro.encode("article", to_dict(article))
        spent["encode"] += time.process_time() - t5
    return spent


def size(rate_per_core: float, per_day: int, args: argparse.Namespace) -> dict:
    mean = per_day / SECONDS_PER_DAY
    peak = mean * args.peak
    cores = peak / rate_per_core / args.utilisation
    workers = max(args.min_workers, math.ceil(cores / args.cores_per_worker))
    # catching up: the backlog of an outage of `outage_h` hours drained in `catch_up_h` hours, at peak
    catch_up_cores = cores * (1 + args.outage_hours / args.catch_up_hours)
    partitions = max(workers * args.cores_per_worker, math.ceil(catch_up_cores))
    partitions = 2 ** math.ceil(math.log2(partitions))  # a power of two divides evenly among 2^k readers
    return {
        "articles_per_day": per_day,
        "mean_per_s": round(mean, 2),
        "peak_per_s": round(peak, 2),
        "cores_at_peak": round(cores, 2),
        "workers": workers,
        "parallelism": workers * args.cores_per_worker,
        "catch_up_cores": round(catch_up_cores, 2),
        "partitions": partitions,
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--passes", type=int, default=3, help="Timed passes over the pages (median).")
    parser.add_argument("--limit", type=int, default=None, help="Only the first N pages.")
    parser.add_argument("--no-ner", action="store_true", help="Skip NER (sizes a chain without it).")
    parser.add_argument("--volume", type=int, action="append", help="Articles per day to size for.")
    parser.add_argument("--peak", type=float, default=3.0, help="Peak-hour rate over the daily mean.")
    parser.add_argument("--utilisation", type=float, default=0.5, help="Target CPU use at peak (0-1].")
    parser.add_argument("--cores-per-worker", type=int, default=4)
    parser.add_argument("--min-workers", type=int, default=2, help="At least this many, for failover.")
    parser.add_argument("--outage-hours", type=float, default=1.0, help="Backlog to absorb...")
    parser.add_argument("--catch-up-hours", type=float, default=1.0, help="...within this many hours.")
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args()
    logs.configure("WARNING", json=False)

    limits = Limits()
    messages = envelopes(args.limit)
    extractor = None
    rss_before = rss_mb()
    load_s = 0.0
    if not args.no_ner:
        from transforms.entities import EntityExtractor

        t = time.perf_counter()
        extractor = EntityExtractor().load()
        load_s = time.perf_counter() - t
    else:

        class _NoNer:
            def extract(self, *a, **k):
                return []

        extractor = _NoNer()
    rss_model = rss_mb() - rss_before

    one_pass(messages[:5], extractor, limits)  # warm-up: lazy imports and model caches
    wall = time.perf_counter()
    passes = [one_pass(messages, extractor, limits) for _ in range(args.passes)]
    wall = (time.perf_counter() - wall) / args.passes
    n = len(messages)
    stages = {}
    for stage in STAGES:
        cpu = statistics.median(p[stage] for p in passes)
        stages[stage] = {
            "cpu_ms_per_article": round(1000 * cpu / n, 3),
            "articles_per_s_per_core": round(n / cpu, 1) if cpu > 0 else None,
        }
    total_cpu = statistics.median(sum(p.values()) for p in passes)
    chain_rate = n / total_cpu
    report = {
        "pages": n,
        "passes": args.passes,
        "ner": not args.no_ner,
        "ner_model_load_s": round(load_s, 2),
        "ner_model_rss_mb": round(rss_model, 1),
        "stages": stages,
        "chain": {
            "cpu_ms_per_article": round(1000 * total_cpu / n, 3),
            "articles_per_s_per_core": round(chain_rate, 1),
            "wall_s_per_pass": round(wall, 2),
        },
        "model": {
            "peak_factor": args.peak,
            "target_utilisation": args.utilisation,
            "cores_per_worker": args.cores_per_worker,
            "outage_hours": args.outage_hours,
            "catch_up_hours": args.catch_up_hours,
        },
        "sizing": [size(chain_rate, v, args) for v in (args.volume or [1_000_000, 400_000])],
    }
    text = json.dumps(report, indent=2)
    print(text)
    if args.json_out:
        args.json_out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
