"""How long a wiped state dir takes to come back: restore of N dedup index entries from a real broker.

Starts a local broker in a temporary dir, creates a changelog topic as ``newsflow stream`` does (compacted,
one partition), and fills it with N index keys (default 1,000,000: the index of about 62,000 retained
articles at 16 keys each, a few days of a busy feed) in the layout the stream writes: ``b``/``h``/``u`` keys
of 16 bytes, each with a blob of one to three real entries (:func:`transforms.dedup.index.pack`), so
records are the size the soak measured (about 55 bytes of key and blob per key). Then, ``--runs`` times,
restores it into a fresh state dir with :func:`transforms.dedup.restore.restore` (what the stream runs
before its first batch) and checks every key arrived.

Baseline, same session and same consumer settings: reading the topic to its end without writing SQLite
(kafka-python's consume rate), so the ratio says what the index writes add.

    nice .venv/bin/python benchmarks/dedup_restore.py               # 1M entries, 3 runs: ~4 CPU-minutes
    nice .venv/bin/python benchmarks/dedup_restore.py --entries 100000 --runs 2
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipelines.devkafka import broker  # noqa: E402
from transforms.dedup.changelog import encode  # noqa: E402
from transforms.dedup.index import Entry, pack  # noqa: E402
from transforms.dedup.restore import ensure_topic, restore  # noqa: E402
from transforms.dedup.store import SqliteStore  # noqa: E402
from transforms.settings import KafkaSettings  # noqa: E402

TOPIC = "bench-dedup-changelog"


def record(rng: random.Random, i: int, now_s: int) -> tuple[bytes, bytes]:
    """One index key and its changelog value: mostly one entry, sometimes two or three (busy buckets)."""
    kind = "b" if i % 16 >= 2 else ("h" if i % 16 == 1 else "u")
    key = kind.encode() + rng.randbytes(15)
    entries = []
    for _ in range(rng.choices((1, 2, 3), weights=(85, 12, 3))[0]):
        arrival_ms = (now_s - rng.randrange(7 * 86400)) * 1000
        arrival = arrival_ms.to_bytes(6, "big") + rng.randbytes(10)
        sketch = b"" if kind == "h" else rng.randbytes(16)
        entries.append(Entry(arrival, sketch, b"\x00" + rng.randbytes(16)))
    entries.sort(key=lambda e: e.rank)
    newest = max(int.from_bytes(e.arrival[:6], "big") // 1000 for e in entries)
    return key, encode(pack(entries), newest)


def fill(settings: KafkaSettings, n: int) -> tuple[float, int]:
    """Produce ``n`` keys to the changelog; seconds taken and bytes of keys plus values."""
    rng = random.Random(20)
    now_s = int(time.time())
    producer = KafkaProducer(**{**settings.producer_kwargs(), "linger_ms": 50, "batch_size": 1 << 20})
    started, size = time.monotonic(), 0
    for i in range(n):
        key, value = record(rng, i, now_s)
        size += len(key) + len(value)
        producer.send(TOPIC, key=key, value=value)
    producer.flush(timeout=600)
    producer.close()
    return time.monotonic() - started, size


def consume_only(settings: KafkaSettings) -> tuple[float, float, int]:
    """The baseline: the same read as a restore (same consumer settings), no SQLite; wall and CPU seconds."""
    started, cpu = time.monotonic(), time.process_time()
    consumer = KafkaConsumer(**{**settings.consumer_kwargs(None), "max_poll_records": 5000})
    tp = TopicPartition(TOPIC, 0)
    consumer.assign([tp])
    consumer.seek_to_beginning(tp)
    end = consumer.end_offsets([tp])[tp]
    count = 0
    while consumer.position(tp) < end:
        for records in consumer.poll(timeout_ms=1000).values():
            count += len(records)
    consumer.close(autocommit=False)
    return time.monotonic() - started, time.process_time() - cpu, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=1_000_000, help="index keys on the changelog")
    parser.add_argument(
        "--runs", type=int, default=3, help="restores (and baseline reads) to take the median of"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="newsflow-restore-bench-") as tmp:
        port = broker.free_port()
        broker.up(port=port, data_dir=Path(tmp) / "kafka", topics=[])
        try:
            settings = KafkaSettings(bootstrap_servers=f"127.0.0.1:{port}")
            admin = KafkaAdminClient(bootstrap_servers=settings.bootstrap_servers)
            ensure_topic(admin, TOPIC)
            admin.close()
            fill_s, size = fill(settings, args.entries)
            print(f"filled {args.entries:,} keys ({size / 1e6:.1f} MB) in {fill_s:.1f} s", flush=True)
            restores, baselines = [], []
            for run in range(args.runs):
                base_s, base_cpu, seen = consume_only(settings)
                assert seen == args.entries, seen
                store = SqliteStore(Path(tmp) / f"state-{run}")
                cpu = time.process_time()
                done = restore(settings, TOPIC, store, progress_every_s=10.0)
                cpu = time.process_time() - cpu
                keys = store.size()[0]
                store.close()
                assert done.records == args.entries and keys == args.entries, (done, keys)
                restores.append((done.seconds, cpu))
                baselines.append((base_s, base_cpu))
                print(
                    f"run {run + 1}: restore {done.seconds:.1f} s ({cpu:.1f} CPU-s), "
                    f"consume only {base_s:.1f} s ({base_cpu:.1f} CPU-s)",
                    flush=True,
                )
        finally:
            broker.down(Path(tmp) / "kafka")
    (restore_s, restore_cpu), (base_s, base_cpu) = (
        tuple(statistics.median(x) for x in zip(*runs, strict=True)) for runs in (restores, baselines)
    )
    n = args.entries
    rows = [
        ("restore into a fresh state dir (consume + SQLite)", restore_s, restore_cpu),
        ("baseline: consume only, same consumer settings", base_s, base_cpu),
    ]
    print(
        f"\n| {n:,} index entries ({size / 1e6:.1f} MB), median of {args.runs} | wall | CPU | keys per CPU-s |"
    )
    print("|---|---|---|---|")
    for label, wall, cpu in rows:
        print(f"| {label} | {wall:.1f} s | {cpu:.1f} s | {n / cpu:,.0f} |")
    print(f"| ratio restore / consume only | {restore_s / base_s:.2f}x | {restore_cpu / base_cpu:.2f}x | |")


if __name__ == "__main__":
    main()
