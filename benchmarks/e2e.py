"""End-to-end streaming benchmark on a real local broker.

Produces N real articles (the benchmark's HTML pages, then Reuters stories rebuilt from CoNLL, each with
its own URL) to a running ``newsflow stream`` (default runner: the local micro-batch stream), after a
warm-up article has gone through, and prints articles per second and the p50/p99 produce-to-output latency
(Kafka CreateTime of the raw record to CreateTime of its output record). Each pipeline runs twice: all N
at once (throughput; latency then includes the wait behind the backlog), then N/2 paced at half the
throughput measured (latency without a backlog). The baseline is the pass-through pipeline (parse, then
write) on the same data, same session.

``--workers 1,2`` runs the full pipeline with each worker count on the same data and prints the burst
throughput ratio of each to the first, and each one's burst throughput per worker against ``newsflow
process`` (one process, no Kafka or Beam) on the same articles. ``--repeats R`` runs each burst R times and
reports the medians. CPU s/article is the CPU time of the stream and all its processes (fork server,
workers; start-up and model load included) per article: less sensitive to a busy machine than rates.
From the first record produced to the stream's exit, it is also split: ``parent ms`` is the stream
process's own CPU per article (its serial part: reading, learned boilerplate, dedup, encoding, writing,
committing), ``workers ms`` that of its other processes (the chain workers). With two cores the
2-worker burst cannot beat ``2 * workers / (workers + parent)`` times one worker (Amdahl), whatever the
machine's load.

    .venv/bin/python benchmarks/e2e.py --articles 1000 --workers 1,2 --repeats 3
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
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
TICKS = os.sysconf("SC_CLK_TCK")


def articles(n: int) -> list[bytes]:
    pages = sorted((BENCH / "extraction" / "scrapinghub" / "html").glob("*.html.gz"))
    out = [
        json.dumps(
            {"url": f"https://bench.example/html/{i}", "html": gzip.decompress(p.read_bytes()).decode()}
        )
        for i, p in enumerate(pages)
    ]
    docs = stories(BENCH / "ner" / "conllpp-2003" / "conllpp_train.txt", min_words=80)
    docs += stories(CONLL_DEV, min_words=80)[1:]  # the first is the warm-up article
    out += [json.dumps({"url": f"https://bench.example/text/{i}", "text": d}) for i, d in enumerate(docs)]
    if n > len(out):
        raise SystemExit(f"only {len(out)} distinct articles available")
    return [o.encode() for o in out[:n]]


def run_once(label: str, bootstrap: str, values: list[bytes], extra: list[str], rate: float | None) -> dict:
    """One ``newsflow stream`` process on fresh topics: a warm-up article first (its output means the model
    is loaded and a batch has run), then ``values`` at ``rate`` per second, or all at once when None."""
    name = re.sub(r"[^A-Za-z0-9._-]", "", label.replace(" ", "-"))
    suffix = f"{name}-{'burst' if rate is None else 'paced'}-{uuid.uuid4().hex[:8]}"
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
    watch = TreeCpu(proc.pid)
    started = time.monotonic()
    for i, value in enumerate(values):
        if rate:
            time.sleep(max(0.0, started + i / rate - time.monotonic()))
        futures.append(producer.send(topics.input_topic, value=value, partition=i % 4))
    for future in futures:
        meta = future.get(timeout=60)
        sent[(meta.partition, meta.offset)] = meta.timestamp
    producer.close()
    cpu_before = _children_cpu()
    watch.wait(proc)
    cpu = _children_cpu() - cpu_before
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
        "cpu_per_article": cpu / len(values),
        "parent_ms": 1000 * watch.parent / len(values),
        "workers_ms": 1000 * watch.others / len(values),
    }


class TreeCpu:
    """CPU seconds of a process and of its descendants from now on, sampled from /proc until it exits."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.first = self._sample()
        self.last = dict(self.first)

    def wait(self, proc: subprocess.Popen, every: float = 0.25) -> None:
        while proc.poll() is None:
            self.last.update(self._sample())
            time.sleep(every)
        proc.wait()

    @property
    def parent(self) -> float:
        return self.last.get(self.pid, 0.0) - self.first.get(self.pid, 0.0)

    @property
    def others(self) -> float:
        return sum(v - self.first.get(p, 0.0) for p, v in self.last.items() if p != self.pid)

    def _sample(self) -> dict[int, float]:
        pids, seen = [self.pid], {}
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                seen[pid] = (int(fields[11]) + int(fields[12])) / TICKS
                for task in Path(f"/proc/{pid}/task").iterdir():
                    pids += [int(c) for c in (task / "children").read_text().split()]
            except OSError:  # ended meanwhile
                continue
        return seen


def _children_cpu() -> float:
    """CPU seconds of the ended child processes and everything they waited for (the stream's whole tree)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def process_rate(values: list[bytes]) -> dict:
    """``newsflow process`` on the same articles, one process: articles/s from its first output to its last
    (the model load before the first is left out, as the stream's warm-up leaves it out)."""
    with tempfile.NamedTemporaryFile("wb", suffix=".jsonl") as inputs:
        inputs.write(b"\n".join(values) + b"\n")
        inputs.flush()
        cmd = [sys.executable, "-m", "pipelines.cli", "--log-format", "json", "process", inputs.name]
        cpu_before = _children_cpu()
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        stamps = [time.monotonic() for _ in proc.stdout]
        proc.wait()
        cpu = _children_cpu() - cpu_before
    return {
        "outputs": len(stamps),
        "articles_per_s": (len(stamps) - 1) / max(stamps[-1] - stamps[0], 1e-9),
        "cpu_per_article": cpu / len(values),
    }


def median_run(runs: list[dict]) -> dict:
    """The run with the median throughput (its own latencies and counts), its CPU per article the median."""
    ranked = sorted(runs, key=lambda r: r["articles_per_s"])
    row = dict(ranked[(len(ranked) - 1) // 2])
    row["cpu_per_article"] = statistics.median(r["cpu_per_article"] for r in runs)
    row["runs"] = [round(r["articles_per_s"], 1) for r in runs]
    return row


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--articles", type=int, default=500)
    parser.add_argument(
        "--workers", default="1", help="Comma-separated worker counts of the full pipeline (e.g. 1,2)."
    )
    parser.add_argument("--repeats", type=int, default=1, help="Burst runs per pipeline (medians reported).")
    args = parser.parse_args()
    counts = [int(w) for w in args.workers.split(",")]
    values = articles(args.articles)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        port = broker.free_port()
        broker.up(port=port, data_dir=tmp, topics=[])
        try:
            bootstrap = f"127.0.0.1:{port}"
            pipelines = [("passthrough", ["--passthrough", "true", "--workers", "1"])]
            pipelines += [(f"full w={w}", ["--workers", str(w)]) for w in counts]
            for label, extra in pipelines:
                runs = [run_once(label, bootstrap, values, extra, None) for _ in range(args.repeats)]
                burst = median_run(runs)
                paced = burst["articles_per_s"] / 2  # half the capacity: latency without a backlog
                rows += [burst, run_once(label, bootstrap, values[: args.articles // 2], extra, paced)]
        finally:
            broker.down(tmp)
    baseline = process_rate(values) if len(counts) > 1 else None
    head = f"{'pipeline':<12} {'input':>12} {'articles':>8} {'outputs':>8} {'art/s':>7} {'p50 ms':>8}"
    tail = f"{'p99 ms':>8} {'batches':>7} {'batch s':>8} {'CPU s/art':>9} {'parent ms':>9} {'workers ms':>10}"
    print(f"\n{head} {tail}  burst runs")
    for r in rows:
        print(
            f"{r['pipeline']:<12} {r['load']:>12} {r['articles']:>8} {r['outputs']:>8} "
            f"{r['articles_per_s']:>7.1f} {r['p50_ms']:>8.0f} {r['p99_ms']:>8.0f} {r['batches']:>7} "
            f"{r['batch_s']:>8.2f} {r['cpu_per_article']:>9.3f} {r['parent_ms']:>9.1f} {r['workers_ms']:>10.1f}"
            f"  {r.get('runs', '')}"
        )
    full, base = rows[2], rows[0]
    print(
        f"full w={counts[0]} / pass-through throughput: {full['articles_per_s'] / base['articles_per_s']:.2f}x"
    )
    if baseline is not None:
        print(
            f"newsflow process (one process, same {args.articles} articles): "
            f"{baseline['articles_per_s']:.1f}/s, CPU {baseline['cpu_per_article']:.3f} s/article"
        )
        first = rows[2]
        for w, burst in zip(counts, rows[2::2], strict=True):
            print(
                f"full w={w}: burst {burst['articles_per_s'] / first['articles_per_s']:.2f}x w={counts[0]}; "
                f"per worker {burst['articles_per_s'] / w / baseline['articles_per_s']:.2f}x newsflow process; "
                f"CPU per article {baseline['cpu_per_article'] / burst['cpu_per_article']:.2f}x as efficient"
            )
            if w > 1:
                bound = w * burst["workers_ms"] / (burst["workers_ms"] + burst["parent_ms"])
                print(f"  Amdahl bound of w={w} on {w} cores from its CPU split: {bound:.2f}x one worker")


if __name__ == "__main__":
    main()
