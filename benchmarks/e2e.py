"""End-to-end streaming benchmark on a real local broker.

Produces N real articles (the benchmark's HTML pages, then Reuters stories rebuilt from CoNLL, each with
its own URL), streams them through ``newsflow stream`` on the DirectRunner, and prints articles per second
and the p50/p99 produce-to-output latency (Kafka CreateTime of the raw record to CreateTime of its output
record). The baseline is the pass-through pipeline (parse, then write) on the same data, same session.

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

from pipelines import broker  # noqa: E402
from pipelines.options import KafkaSettings, Topics  # noqa: E402
from pipelines.topic_reader import records_to_end  # noqa: E402
from transforms import avro  # noqa: E402
from transforms.entities.conll import stories  # noqa: E402

BENCH = ROOT / ".." / "shared" / "bench"


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


def run_once(label: str, bootstrap: str, values: list[bytes], extra: list[str]) -> dict:
    suffix = f"{label}-{int(time.time())}"
    topics = Topics(*(f"{t}.{suffix}" for t in Topics().all()))
    broker.ensure_topics(bootstrap, topics.all(), 4)
    settings = KafkaSettings(bootstrap_servers=bootstrap)
    cmd = [
        sys.executable,
        "-m",
        "pipelines.cli",
        "--log-format",
        "json",
        "stream",
        "--bootstrap-servers",
        bootstrap,
    ]
    cmd += ["--input-topic", topics.input_topic, "--output-topic", topics.output_topic, "--group-id", suffix]
    cmd += [
        "--duplicates-topic",
        topics.duplicates_topic,
        "--dlq-topic",
        topics.dlq_topic,
        "--idle-timeout",
        "15",
    ]
    proc = subprocess.Popen(
        cmd + extra, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stderr), daemon=True)
    reader.start()
    while not any("stream_start" in line for line in lines):  # pipeline is up: start the clock
        if proc.poll() is not None:
            raise SystemExit("".join(lines[-20:]))
        time.sleep(0.2)
    time.sleep(5)  # let the runner start its workers before the first record arrives
    producer = KafkaProducer(**settings.producer_kwargs())
    sent: dict[tuple[int, int], int] = {}
    for i, value in enumerate(values):
        meta = producer.send(topics.input_topic, value=value, partition=i % 4).get(timeout=30)
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
    first_in, last_out = min(sent.values()), max(out.values())
    return {
        "pipeline": label,
        "articles": len(values),
        "outputs": len(out),
        "articles_per_s": len(out) / max((last_out - first_in) / 1000, 1e-9),
        "p50_ms": statistics.median(latencies),
        "p99_ms": latencies[int(0.99 * (len(latencies) - 1))],
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--articles", type=int, default=500)
    args = parser.parse_args()
    values = articles(args.articles)
    with tempfile.TemporaryDirectory() as tmp:
        port = broker.free_port()
        broker.up(port=port, data_dir=tmp, topics=[])
        try:
            bootstrap = f"127.0.0.1:{port}"
            base = run_once("passthrough", bootstrap, values, ["--passthrough", "true"])
            full = run_once("full", bootstrap, values, ["--state-dir", str(Path(tmp) / "state")])
        finally:
            broker.down(tmp)
    print(f"\n{'pipeline':<12} {'articles':>8} {'outputs':>8} {'art/s':>8} {'p50 ms':>9} {'p99 ms':>9}")
    for r in (base, full):
        print(
            f"{r['pipeline']:<12} {r['articles']:>8} {r['outputs']:>8} {r['articles_per_s']:>8.1f} "
            f"{r['p50_ms']:>9.0f} {r['p99_ms']:>9.0f}"
        )
    print(f"full / pass-through throughput: {full['articles_per_s'] / base['articles_per_s']:.2f}x")


if __name__ == "__main__":
    main()
