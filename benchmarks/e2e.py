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

With several worker counts it also prints the machine's ceiling (``--ceiling`` prints only that): N
independent ``newsflow process`` runs at once, each on an interleaved share of the articles, against one
alone on all of them, N the largest worker count. No stream code can scale past it on this machine. It
is given two ways: the rate ratio (moved by other load on a shared machine), and the CPU an article takes
with N at once against alone (cores slowing each other: shared caches, memory, clocks).

    .venv/bin/python benchmarks/e2e.py --articles 1000 --workers 1,2 --repeats 3 --trickle 11

The trickle (latency without a backlog): ``--trickle 11,half`` paces it at 11/s (the README's one-worker
row) and at half the burst rate measured. ``--trickle-only --code /work/main,.`` runs only the full
pipeline's trickles, at fixed rates, with each checkout's ``newsflow stream`` in turn, run for run, and
prints the median p50 and p99 and their ratio to the first checkout's; a very high rate (1000) is a burst
measured the same way. Each trickle run also says where its latency went: the wait before the record's
micro-batch was formed and the time from then to its output (``--trace DIR`` keeps the logs and prints
each batch's stages).

    benchmarks/e2e.py --trickle-only --workers 2 --trickle 11 --trickle-articles 250 --code /work/main,.
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
from datetime import datetime
from pathlib import Path

from kafka import KafkaProducer
from kafka.errors import KafkaError

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


def run_once(
    label: str,
    bootstrap: str,
    values: list[bytes],
    extra: list[str],
    rate: float | None,
    code: Path = ROOT,
    trace: Path | None = None,
) -> dict:
    """One ``newsflow stream`` process of the checkout ``code`` on fresh topics: a warm-up article first
    (its output means the model is loaded and a batch has run), then ``values`` at ``rate`` per second, or
    all at once when None. ``trace``: a directory to keep the stream's log in."""
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
        cmd + extra, cwd=code, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stderr), daemon=True)
    reader.start()
    producer = KafkaProducer(**settings.producer_kwargs())
    warm = json.dumps({"url": "https://bench.example/warm-up", "text": stories(CONLL_DEV)[0]}).encode()
    for attempt in range(10):  # new topics on a busy machine may not have their leaders yet
        try:
            producer.send(topics.input_topic, value=warm, partition=0).get(timeout=30)
            break
        except KafkaError:
            if attempt == 9:
                raise
            time.sleep(1)
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
    if trace is not None:
        (trace / f"{suffix}.log").write_text("".join(lines))
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
        **({} if rate is None else _where_latency_goes(sent, out, batches)),
    }


def _where_latency_goes(sent: dict, out: dict, batches: list[dict]) -> dict:
    """The trickle's latency split at its batch's forming (the stream's ``micro_batch`` lines name each
    batch's ranges and when they were looked up, ``formed_at``; older checkouts log no such time): the wait
    before the record's batch was formed (the previous batch, the idle poll) and the time from then to its
    output; medians and p99s in ms. Also each batch's timeline (``timeline``), seconds from its forming:
    its stages as the stream logs them, its first and last output, and its end (written and committed)."""
    formed, timeline = {}, []
    for b in batches:
        if "formed_at" not in b:
            return {}
        keys = []
        for r in b["ranges"]:
            partition, span = r.split(":", 1)
            start, stop = (int(x) for x in span.strip("[)").split(","))
            keys += [(int(partition), offset) for offset in range(start, stop)]
        at = 1000 * b["formed_at"]
        formed.update(dict.fromkeys(keys, at))
        outs = [out[k] - at for k in keys if k in out]
        ended = datetime.fromisoformat(b["timestamp"].replace("Z", "+00:00")).timestamp() * 1000 - at
        oldest = max((at - sent[k] for k in keys if k in sent), default=0.0)
        timeline.append(
            {
                "records": len(keys),
                "oldest_waited": oldest / 1000,
                **b.get("stages", {}),
                "first_out": min(outs, default=0.0) / 1000,
                "last_out": max(outs, default=0.0) / 1000,
                "end": ended / 1000,
            }
        )
    keys = [k for k in sent if k in out and k in formed]
    if not keys:
        return {}
    waits = sorted(formed[k] - sent[k] for k in keys)
    inside = sorted(out[k] - formed[k] for k in keys)
    return {
        "wait_p50_ms": statistics.median(waits),
        "wait_p99_ms": waits[int(0.99 * (len(waits) - 1))],
        "batch_p50_ms": statistics.median(inside),
        "batch_p99_ms": inside[int(0.99 * (len(inside) - 1))],
        "timeline": timeline,
    }


def print_timeline(row: dict) -> None:
    """A trickle run's batches, seconds from each one's forming (``--trace``)."""
    for t in row.get("timeline", []):
        print("   ", "  ".join(f"{k} {v:.2f}" if isinstance(v, float) else f"{k} {v}" for k, v in t.items()))


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


def process_stamps(values: list[bytes], out: list[tuple[float, float]]) -> None:
    """Run ``newsflow process`` on ``values``; append, as each output line arrives, the monotonic time and
    the process's CPU seconds so far (its model load, before the first, is then left out of both)."""
    with tempfile.NamedTemporaryFile("wb", suffix=".jsonl") as inputs:
        inputs.write(b"\n".join(values) + b"\n")
        inputs.flush()
        cmd = [sys.executable, "-m", "pipelines.cli", "--log-format", "json", "process", inputs.name]
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        stat = Path(f"/proc/{proc.pid}/stat")
        for _ in proc.stdout:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            out.append((time.monotonic(), (int(fields[11]) + int(fields[12])) / TICKS))
        proc.wait()


def ceiling(values: list[bytes], n: int = 2) -> dict:
    """What this machine gives ``n`` independent processes against one, on the same articles (no stream
    code can beat it): ``newsflow process`` on all of them alone, then ``n`` at once, each on an
    interleaved share. ``together``: the outputs of all while all of them run (from the last one's first
    output to the first one's last) per second. ``cpu``: how much more CPU an article takes when ``n``
    run at once (the cores slow each other: shared caches, memory, clocks), each process's CPU from its
    first output to its last; ``n / cpu`` is the ceiling a busy machine's other load does not move."""
    one: list[tuple[float, float]] = []
    process_stamps(values, one)
    shares: list[list[tuple[float, float]]] = [[] for _ in range(n)]
    runs = [threading.Thread(target=process_stamps, args=(values[i::n], shares[i])) for i in range(n)]
    for t in runs:
        t.start()
    for t in runs:
        t.join()
    start, stop = max(s[0][0] for s in shares), min(s[-1][0] for s in shares)
    together = sum(start <= t <= stop for s in shares for t, _ in s) / max(stop - start, 1e-9)
    alone = (len(one) - 1) / max(one[-1][0] - one[0][0], 1e-9)

    def cpu(stamps: list[tuple[float, float]]) -> float:
        return (stamps[-1][1] - stamps[0][1]) / max(len(stamps) - 1, 1)

    inflation = statistics.mean(cpu(s) for s in shares) / max(cpu(one), 1e-9)
    return {
        "processes": n,
        "alone": alone,
        "together": together,
        "ratio": together / alone,
        "cpu_alone_ms": 1000 * cpu(one),
        "cpu": inflation,
    }


def print_ceiling(c: dict, articles: int) -> None:
    n = c["processes"]
    print(
        f"machine ceiling: {n} `newsflow process` at once on {articles} articles {c['together']:.1f}/s "
        f"against one alone {c['alone']:.1f}/s: {c['ratio']:.2f}x; an article's CPU {c['cpu_alone_ms']:.1f} "
        f"ms alone, x{c['cpu']:.2f} with {n} at once: {n / c['cpu']:.2f}x "
        f"(load average {os.getloadavg()[0]:.1f})"
    )


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
    parser.add_argument(
        "--ceiling",
        action="store_true",
        help="Only the machine's ceiling: N `newsflow process` at once against one alone (N the largest "
        "--workers), on the same articles. The full run with several worker counts prints it too.",
    )
    trickle = parser.add_argument_group("trickle (latency without a backlog)")
    trickle.add_argument(
        "--trickle",
        default="half",
        help="Comma-separated trickle rates, articles/s; 'half' is half the pipeline's burst rate measured "
        "(e.g. 11,half: the README's 11/s row and half the capacity).",
    )
    trickle.add_argument(
        "--trickle-articles", type=int, help="Articles per trickle run (default: half of --articles)."
    )
    trickle.add_argument(
        "--trickle-only",
        action="store_true",
        help="Only the full pipeline's trickles at fixed rates: no burst, no pass-through, no `process`.",
    )
    trickle.add_argument(
        "--trickle-repeats", type=int, default=1, help="Runs per trickle (--trickle-only; medians reported)."
    )
    trickle.add_argument(
        "--code",
        default=str(ROOT),
        help="--trickle-only: comma-separated checkouts whose `newsflow stream` runs, in turn, run for run "
        "(e.g. /work/main,.): the first is the baseline of the ratios.",
    )
    trickle.add_argument(
        "--stream-args", default="", help="Extra flags for every full-pipeline stream (one string)."
    )
    trickle.add_argument(
        "--trace",
        type=Path,
        help="Keep each stream's log in this directory (JSON lines, to read the batches).",
    )
    args = parser.parse_args()
    counts = [int(w) for w in args.workers.split(",")]
    rates = args.trickle.split(",")
    trickle_n = args.trickle_articles or args.articles // 2
    if args.trace is not None:
        args.trace.mkdir(parents=True, exist_ok=True)
    print(f"load average at start: {' '.join(f'{x:.1f}' for x in os.getloadavg())}", flush=True)
    if args.ceiling:
        print_ceiling(ceiling(articles(args.articles), max(counts)), args.articles)
        return
    if args.trickle_only:
        if "half" in rates:
            parser.error("--trickle-only needs fixed rates (no 'half': no burst is measured)")
        codes = [Path(c).resolve() for c in args.code.split(",")]
        trickles(args, counts, [float(r) for r in rates], codes, articles(trickle_n))
        return
    values = articles(args.articles)
    rows, bursts = [], []
    with tempfile.TemporaryDirectory() as tmp:
        port = broker.free_port()
        broker.up(port=port, data_dir=tmp, topics=[])
        try:
            bootstrap = f"127.0.0.1:{port}"
            pipelines = [("passthrough", ["--passthrough", "true", "--workers", "1"])]
            pipelines += [(f"full w={w}", ["--workers", str(w), *args.stream_args.split()]) for w in counts]
            for label, extra in pipelines:
                runs = [
                    run_once(label, bootstrap, values, extra, None, trace=args.trace)
                    for _ in range(args.repeats)
                ]
                burst = median_run(runs)
                bursts.append(burst)
                rows.append(burst)
                for rate in rates:
                    paced = burst["articles_per_s"] / 2 if rate == "half" else float(rate)  # half: no backlog
                    rows.append(
                        run_once(label, bootstrap, values[:trickle_n], extra, paced, trace=args.trace)
                    )
        finally:
            broker.down(tmp)
    baseline = process_rate(values) if len(counts) > 1 else None
    machine = ceiling(values, max(counts)) if len(counts) > 1 else None
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
    print_latency_split(rows)
    full, base = bursts[1], bursts[0]
    print(
        f"full w={counts[0]} / pass-through throughput: {full['articles_per_s'] / base['articles_per_s']:.2f}x"
    )
    if baseline is not None:
        print(
            f"newsflow process (one process, same {args.articles} articles): "
            f"{baseline['articles_per_s']:.1f}/s, CPU {baseline['cpu_per_article']:.3f} s/article"
        )
        first = bursts[1]
        for w, burst in zip(counts, bursts[1:], strict=True):
            print(
                f"full w={w}: burst {burst['articles_per_s'] / first['articles_per_s']:.2f}x w={counts[0]}; "
                f"per worker {burst['articles_per_s'] / w / baseline['articles_per_s']:.2f}x newsflow process; "
                f"CPU per article {baseline['cpu_per_article'] / burst['cpu_per_article']:.2f}x as efficient"
            )
            if w > 1:
                bound = w * burst["workers_ms"] / (burst["workers_ms"] + burst["parent_ms"])
                print(f"  Amdahl bound of w={w} on {w} cores from its CPU split: {bound:.2f}x one worker")
    if machine is not None:
        print_ceiling(machine, args.articles)
        top = bursts[1 + counts.index(machine["processes"])]
        n = machine["processes"]
        print(
            f"  full w={n} burst against the {n} `process` at once (per worker against one of them): "
            f"{top['articles_per_s'] / machine['together']:.2f}x"
        )
    print(f"load average at end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


def trickles(
    args: argparse.Namespace, counts: list[int], rates: list[float], codes: list[Path], values
) -> None:
    """Each worker count at each rate, ``--trickle-repeats`` times, the checkouts in turn run for run (so a
    busy machine's changes of load fall on all of them alike); the median p50 and p99 of each, and their
    ratio to the first checkout's."""
    runs: dict[tuple[int, float, Path], list[dict]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        port = broker.free_port()
        broker.up(port=port, data_dir=tmp, topics=[])
        try:
            bootstrap = f"127.0.0.1:{port}"
            for w in counts:
                extra = ["--workers", str(w), *args.stream_args.split()]
                for rate in rates:
                    for _ in range(args.trickle_repeats):
                        for code in codes:
                            label = f"{code.name} w={w}"
                            run = run_once(label, bootstrap, values, extra, rate, code, args.trace)
                            runs.setdefault((w, rate, code), []).append(run)
                            print(_trickle_line(run), flush=True)
                            if args.trace is not None:
                                print_timeline(run)
        finally:
            broker.down(tmp)
    print(f"\nmedians of {args.trickle_repeats} run(s) each, {len(values)} articles per run")
    for (w, rate, code), group in runs.items():
        p50 = statistics.median(r["p50_ms"] for r in group)
        p99 = statistics.median(r["p99_ms"] for r in group)
        base = runs[(w, rate, codes[0])]
        ratio = p99 / statistics.median(r["p99_ms"] for r in base)
        rate_out = statistics.median(r["articles_per_s"] for r in group)
        rate_ratio = rate_out / statistics.median(r["articles_per_s"] for r in base)
        parent = statistics.median(r["parent_ms"] for r in group)
        others = statistics.median(r["workers_ms"] for r in group)
        print(
            f"{code.name:<16} w={w} {rate:>6.1f}/s  p50 {p50:>6.0f} ms  p99 {p99:>6.0f} ms  "
            f"p99 {ratio:.2f}x {codes[0].name}  p99s {[round(r['p99_ms']) for r in group]}  "
            f"art/s {rate_out:.1f} ({rate_ratio:.2f}x) {[round(r['articles_per_s'], 1) for r in group]}  "
            f"CPU ms/article parent {parent:.1f}, workers {others:.1f}"
        )


def _trickle_line(r: dict) -> str:
    split = ""
    if "wait_p50_ms" in r:
        split = (
            f"  wait before batch p50/p99 {r['wait_p50_ms']:.0f}/{r['wait_p99_ms']:.0f} ms, "
            f"in batch {r['batch_p50_ms']:.0f}/{r['batch_p99_ms']:.0f} ms"
        )
    return (
        f"{r['pipeline']:<16} {r['load']:>8} {r['outputs']}/{r['articles']} out  {r['articles_per_s']:.1f}/s  "
        f"p50 {r['p50_ms']:.0f} ms  p99 {r['p99_ms']:.0f} ms  {r['batches']} batches ({r['batch_s']:.2f} s)"
        f"  CPU ms/article: parent {r['parent_ms']:.1f}, workers {r['workers_ms']:.1f}" + split
    )


def print_latency_split(rows: list[dict]) -> None:
    """Where each trickle's latency went, for the checkouts that log when each batch was formed."""
    for r in rows:
        if "wait_p50_ms" in r:
            print(_trickle_line(r))


if __name__ == "__main__":
    main()
