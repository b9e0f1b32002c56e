"""End-to-end streaming benchmark on a real local broker.

Produces N real articles (the benchmark's HTML pages, then Reuters stories rebuilt from CoNLL, each with
its own URL) to a running ``newsflow stream`` (default runner: the local micro-batch stream), after a
warm-up article has gone through, and prints articles per second and the p50/p99 produce-to-output latency
(Kafka CreateTime of the raw record to CreateTime of its output record). Each pipeline runs twice: all N
at once (throughput; latency then includes the wait behind the backlog), then N/2 paced at half the
throughput measured (latency without a backlog). The baseline is the pass-through pipeline (parse, then
write) on the same data, same session.

    .venv/bin/python benchmarks/e2e.py --articles 500
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from kafka import KafkaProducer

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipelines.cli.topic_reader import records_to_end  # noqa: E402
from pipelines.devkafka import broker  # noqa: E402
from pipelines.options import Topics  # noqa: E402
from transforms import avro  # noqa: E402
from transforms.entities.conll import stories  # noqa: E402
from transforms.settings import KafkaSettings  # noqa: E402

BENCH = ROOT / ".." / "shared" / "bench"
CONLL_DEV = BENCH / "ner" / "conllpp-2003" / "conllpp_dev.txt"


def articles(n: int) -> list[bytes]:
    pages = sorted((BENCH / "extraction" / "scrapinghub" / "html").glob("*.html.gz"))
    out = [
        json.dumps(
            {"url": f"https://bench.example/html/{i}", "html": gzip.decompress(p.read_bytes()).decode()}
        )
        for i, p in enumerate(pages)
    ]
    docs = stories(BENCH / "ner" / "conllpp-2003" / "conllpp_train.txt", min_words=80)
    out += [json.dumps({"url": f"https://bench.example/text/{i}", "text": d}) for i, d in enumerate(docs)]
    if n > len(out):
        raise SystemExit(f"only {len(out)} distinct articles available")
    return [o.encode() for o in out[:n]]


def run_once(label: str, bootstrap: str, values: list[bytes], extra: list[str], rate: float | None) -> dict:
    """One ``newsflow stream`` process on fresh topics: a warm-up article first (its output means the model
    is loaded and a batch has run), then ``values`` at ``rate`` per second, or all at once when None."""
    suffix = f"{label}-{'burst' if rate is None else 'paced'}-{int(time.time())}"
    topics = Topics(*(f"{t}.{suffix}" for t in Topics().all()))
    broker.ensure_topics(bootstrap, topics.all(), 4)
    settings = KafkaSettings(bootstrap_servers=bootstrap)
    cmd = [sys.executable, "-m", "pipelines.cli", "--log-format", "json", "stream"]
    cmd += ["--bootstrap-servers", bootstrap, "--group-id", suffix, "--idle-timeout", "15"]
    cmd += ["--input-topic", topics.input_topic, "--output-topic", topics.output_topic]
    cmd += ["--duplicates-topic", topics.duplicates_topic, "--dlq-topic", topics.dlq_topic]
    proc = subprocess.Popen(
        cmd + extra, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stderr), daemon=True)
    reader.start()
    producer = KafkaProducer(**settings.producer_kwargs())
    warm = json.dumps({"url": "https://bench.example/warm-up", "text": stories(CONLL_DEV)[0]}).encode()
    producer.send(topics.input_topic, value=warm, partition=0).get(timeout=30)
    while not any('"micro_batch"' in line or "run_summary" in line for line in lines):
        if proc.poll() is not None:
            raise SystemExit("".join(lines[-20:]))
        time.sleep(0.2)
    warm_batches = sum('"micro_batch"' in line for line in lines)
    sent: dict[tuple[int, int], int] = {}
    futures = []
    started = time.monotonic()
    for i, value in enumerate(values):
        if rate:
            time.sleep(max(0.0, started + i / rate - time.monotonic()))
        futures.append(producer.send(topics.input_topic, value=value, partition=i % 4))
    for future in futures:
        meta = future.get(timeout=60)
        sent[(meta.partition, meta.offset)] = meta.timestamp
    producer.close()
    proc.wait(timeout=3600)
    reader.join(timeout=5)
    out = {}
    outputs = (topics.output_topic, topics.duplicates_topic, topics.dlq_topic)
    for r in records_to_end(settings, outputs):
        pos = avro.decode(r.value)[1]["source_position"]
        out.setdefault((pos["partition"], pos["offset"]), r.timestamp)
    latencies = sorted(out[k] - sent[k] for k in sent if k in out)
    first_in, last_out = min(sent.values()), max(out[k] for k in sent if k in out)
    batches = [json.loads(line) for line in lines if '"micro_batch"' in line][warm_batches:]
    return {
        "pipeline": label,
        "load": "all at once" if rate is None else f"{rate:.1f}/s",
        "articles": len(values),
        "outputs": sum(k in out for k in sent),
        "articles_per_s": len(latencies) / max((last_out - first_in) / 1000, 1e-9),
        "p50_ms": statistics.median(latencies),
        "p99_ms": latencies[int(0.99 * (len(latencies) - 1))],
        "batches": len(batches),
        "batch_s": statistics.median(b["seconds"] for b in batches) if batches else float("nan"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--articles", type=int, default=500)
    args = parser.parse_args()
    values = articles(args.articles)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        port = broker.free_port()
        broker.up(port=port, data_dir=tmp, topics=[])
        try:
            bootstrap = f"127.0.0.1:{port}"
            for label, extra in (("passthrough", ["--passthrough", "true"]), ("full", [])):
                burst = run_once(label, bootstrap, values, extra, None)
                paced = burst["articles_per_s"] / 2  # half the capacity: latency without a backlog
                rows += [burst, run_once(label, bootstrap, values[: args.articles // 2], extra, paced)]
        finally:
            broker.down(tmp)
    head = f"{'pipeline':<12} {'input':>12} {'articles':>8} {'outputs':>8} {'art/s':>7} {'p50 ms':>8}"
    print(f"\n{head} {'p99 ms':>8} {'batches':>7} {'batch s':>8}")
    for r in rows:
        print(
            f"{r['pipeline']:<12} {r['load']:>12} {r['articles']:>8} {r['outputs']:>8} "
            f"{r['articles_per_s']:>7.1f} {r['p50_ms']:>8.0f} {r['p99_ms']:>8.0f} {r['batches']:>7} "
            f"{r['batch_s']:>8.2f}"
        )
    full, base = rows[2], rows[0]
    print(f"full / pass-through throughput: {full['articles_per_s'] / base['articles_per_s']:.2f}x")


if __name__ == "__main__":
    main()
