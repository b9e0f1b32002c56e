"""CPU of the local stream's dedup step through the changelog mirror, against a real local broker.

The dedup step of ``newsflow stream`` decides each article against the SQLite index and mirrors every
index write to the compacted changelog topic (``transforms/dedup/changelog.py``): in the stream process,
the serial part that N chain workers wait on. This times exactly that step, ``Deduplicator.decide``
through a ``ChangelogStore`` on a fresh state dir and a new changelog topic, for ``--articles`` distinct
synthetic articles (every one a survivor, so every one writes its index keys), flushed every
``--batch`` articles as the micro-batches flush; the fingerprints are made before the clock starts (the
stream's workers send their costly part). It prints milliseconds of CPU per article of the whole process
(the producer's network thread included) and of the deciding thread.

``--code A,B`` runs it with each checkout's ``transforms`` in turn, ``--repeats`` times, and prints the
medians: an A/B of two versions of the changelog on the same broker and machine.

    nice .venv/bin/python benchmarks/dedup_changelog.py --code /work/main,. --repeats 3
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def measure(bootstrap: str, articles: int, batch: int) -> dict[str, float]:
    """One run with the ``transforms`` on ``sys.path``: ms of CPU per article, process and thread."""
    from kafka import KafkaAdminClient

    from transforms.dedup import Deduplicator, SqliteStore
    from transforms.dedup.changelog import Changelog, ChangelogStore
    from transforms.dedup.restore import ensure_topic
    from transforms.records import Article, SourcePosition
    from transforms.settings import KafkaSettings

    rng = random.Random(7)
    words = [f"w{i}" for i in range(5000)]
    t0 = datetime(2026, 5, 1, tzinfo=UTC)
    arts = [
        Article(
            id=uuid.UUID(int=rng.getrandbits(128)).hex,
            body=" ".join(rng.choice(words) for _ in range(400)),
            canonical_url=f"https://bench.example/{i}",
            fetched_at=t0 + timedelta(seconds=i),
            source_position=SourcePosition("articles.raw", 0, i),
        )
        for i in range(articles)
    ]
    kafka = KafkaSettings(bootstrap_servers=bootstrap)
    topic = f"bench-{uuid.uuid4().hex[:8]}-dedup-changelog"
    admin = KafkaAdminClient(**kafka.client_kwargs())
    ensure_topic(admin, topic)
    admin.close()
    with tempfile.TemporaryDirectory() as tmp:
        store = ChangelogStore(SqliteStore(tmp), Changelog(kafka, topic))
        dedup = Deduplicator(store=store)
        fps = [(a, dedup.fingerprint(a, 1_700_000_000_000 + i * 1000)) for i, a in enumerate(arts)]
        store.put_many([(b"warm-up", b"x", 1)])  # the producer connected before the clock starts
        store.flush()
        cpu, thread = time.process_time(), time.thread_time()
        for i, (article, fp) in enumerate(fps):
            dedup.decide(article, fp)
            if i % batch == batch - 1:
                store.flush()
        store.flush()
        cpu, thread = time.process_time() - cpu, time.thread_time() - thread
        store.close()
    return {"process_ms": 1000 * cpu / articles, "thread_ms": 1000 * thread / articles}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=500, help="Articles per flush (a micro-batch).")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--code", default=".", help="Comma-separated checkouts to compare, run in turn.")
    parser.add_argument("--bootstrap", help="A running broker (default: a local one started for the run).")
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)  # a child: one measurement
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.bootstrap, args.articles, args.batch)))
        return
    sys.path.insert(0, str(ROOT))
    from pipelines.devkafka import broker

    codes = [Path(c).resolve() for c in args.code.split(",")]
    runs: dict[Path, list[dict[str, float]]] = {c: [] for c in codes}
    with tempfile.TemporaryDirectory() as tmp:
        bootstrap = args.bootstrap
        if bootstrap is None:
            port = broker.free_port()
            broker.up(port=port, data_dir=tmp, topics=[])
            bootstrap = f"127.0.0.1:{port}"
        try:
            for _ in range(args.repeats):
                for code in codes:
                    cmd = [sys.executable, str(Path(__file__).resolve()), "--one", "--bootstrap", bootstrap]
                    cmd += ["--articles", str(args.articles), "--batch", str(args.batch)]
                    env = {**os.environ, "PYTHONPATH": str(code)}
                    out = subprocess.run(cmd, env=env, cwd=code, capture_output=True, text=True, check=True)
                    runs[code].append(json.loads(out.stdout.strip().splitlines()[-1]))
                    print(code, runs[code][-1], flush=True)
        finally:
            if args.bootstrap is None:
                broker.down(tmp)
    print(f"medians of {args.repeats}, {args.articles} articles, ms of CPU per article:")
    for code, got in runs.items():
        process = statistics.median(r["process_ms"] for r in got)
        thread = statistics.median(r["thread_ms"] for r in got)
        print(f"  {code}: process {process:.3f}, deciding thread {thread:.3f}")


if __name__ == "__main__":
    main()
