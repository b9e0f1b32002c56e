"""Backfill throughput with 1 and with 2 DirectRunner worker processes on the extraction benchmark pages.

Input: the Scrapinghub benchmark pages (``../shared/bench/extraction/scrapinghub``), read in place, written
once into a JSONL file of envelopes (URL from the ground truth, a publication day spread over three days).
``--repeat N`` adds N-1 copies of every page under other URLs: realistic for archives (the same story
re-crawled) and enough work for the start-up of the worker processes to matter less; the copies go through
cleaning and are dropped by dedup.

Each configuration runs ``newsflow backfill --input ... --output DIR --workers W`` as a fresh process,
``--runs`` times, the two configurations interleaved so both see the same load of a shared machine; the
figure is input records per second over the pipeline's own run time (the summary's ``seconds``: from
building the pipeline to the last file written, worker start-up included), median of the runs. The
baseline is the 1-worker run in the same invocation; the ratio is 2 workers over 1. Each run also shows
the CPU time of the backfill and its workers, and so how many cores it kept busy, and how many cores other
processes kept busy meanwhile (from ``/proc/stat``): on a shared machine this tells a run that had to wait
for a core from one that was slow by itself, and the ratio of the run pair that found the machine quietest
is printed too. The models' user cache (``~/.cache/newsflow``: gazetteer, language model) is written first if
missing, as on any machine after its first backfill, so that no timed run pays for building it. The CPU critical path (CPU seconds of the main process plus those of the busiest worker)
depends little on what else the machine runs, and its ratio is what the wall-clock ratio becomes when both
cores are free.

Run: ``.venv/bin/python benchmarks/backfill.py [--repeat 4] [--runs 3] [--passthrough]``; other flags go to
``newsflow backfill`` as they are (e.g. ``--entities false``). ``--timeline`` adds one untimed run per worker
count that prints where its wall time went: each fused stage's start and length, with the CPU seconds the
main process and each worker process spent in it (the runner is patched for that run only, to log them).
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
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / ".." / "shared" / "bench" / "extraction" / "scrapinghub"
DAYS = ("2026-11-01", "2026-11-02", "2026-11-03")


def write_input(path: Path, repeat: int) -> int:
    """The benchmark pages as JSONL envelopes, ``repeat`` times each; returns the number of lines."""
    truth = json.loads((BENCH / "ground-truth.json").read_text())
    pages = sorted((BENCH / "html").glob("*.html.gz"))
    count = 0
    with open(path, "w") as out:
        for copy in range(repeat):
            for i, page in enumerate(pages):
                url = truth[page.name.split(".")[0]]["url"]
                envelope = {
                    "url": url if copy == 0 else f"{url}#copy{copy}",
                    "html": gzip.decompress(page.read_bytes()).decode("utf-8", "replace"),
                    "published_at": f"{DAYS[i % 3]}T08:00:00Z",
                }
                out.write(json.dumps(envelope) + "\n")
                count += 1
    return count


def busy_seconds() -> float:
    """CPU seconds all processes of the machine have used since boot (``/proc/stat``: all but idle and
    iowait; steal counts as busy, since a core taken by the host is not free for us either)."""
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def backfill_argv(input_path: Path, output: Path, workers: int, extra: list[str], level: str) -> list[str]:
    """``newsflow`` arguments of one benchmark backfill, JSON logs at ``level``."""
    argv = ["--log-format", "json", "--log-level", level, "backfill", "--input", str(input_path)]
    return argv + ["--output", str(output), "--workers", str(workers), *extra]


def run_once(input_path: Path, output: Path, workers: int, extra: list[str]) -> dict:
    """One backfill in a fresh process; returns its run summary (counters and seconds)."""
    cmd = [sys.executable, "-m", "pipelines.cli", *backfill_argv(input_path, output, workers, extra, "INFO")]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    machine = busy_seconds()
    started = time.monotonic()
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    wall = time.monotonic() - started
    machine = busy_seconds() - machine
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the CLI and its reaped worker processes
    if done.returncode != 0:
        raise SystemExit(f"backfill failed ({done.returncode}):\n{done.stderr[-3000:]}")
    events = {}
    decoder = json.JSONDecoder()
    for line in (done.stdout + done.stderr).splitlines():
        if line.startswith("{") and '"event"' in line:
            try:  # the first object: a worker's line can land in the middle of another process's line
                event, _ = decoder.raw_decode(line)
            except ValueError:
                continue
            if isinstance(event, dict) and "event" in event:
                events[event["event"]] = event
    if "run_summary" not in events:
        raise SystemExit("no run_summary line in the backfill's output")
    summary = events["run_summary"]
    summary["wall"] = wall
    summary["cpu"] = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    summary["others"] = max(machine - summary["cpu"], 0.0) / wall  # cores other processes kept busy
    workers = events.get("backfill_workers", {})
    summary["worker_cpu"] = workers.get("cpu_s", [])
    summary["critical_cpu"] = workers.get("main_cpu_s", 0.0) + max(summary["worker_cpu"], default=0.0)
    return summary


def descendants_cpu() -> dict[int, float]:
    """CPU seconds of each Beam worker process under this one (``/proc``; the shells between excluded):
    started by Beam, or forked by the fork server (``pipelines/engine/worker_forks.py``; not the server
    itself)."""
    parents, cpu, workers, servers = {}, {}, set(), set()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        parents[int(pid)] = int(fields[1])
        cpu[int(pid)] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        if command.startswith(sys.executable.encode()) and b"sdk_worker_main" in command:
            workers.add(int(pid))
        elif b"pipelines.engine.worker_forks" in command:
            servers.add(int(pid))
    workers |= {pid for pid in servers if parents[pid] in servers}  # forked by the fork server
    ours, frontier = set(), {os.getpid()}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - ours
        ours |= frontier
    return {pid: cpu[pid] for pid in sorted(ours & workers)}


def traced_backfill(events_path: str, argv: list[str]) -> None:
    """``newsflow`` in this process, the FnApiRunner patched to log each stage's start and end (time, main
    process CPU, worker processes' CPU) and the closing of its workers into ``events_path``."""
    from apache_beam.runners.portability.fn_api_runner import fn_runner, worker_handlers

    from pipelines.cli import main as cli

    started, events = time.monotonic(), []

    def mark(what: str) -> None:
        events.append((time.monotonic() - started, time.process_time(), descendants_cpu(), what))

    def traced(method, label):
        def run(self, *args, **kwargs):
            mark(f"start {label(self, *args)}")
            try:
                return method(self, *args, **kwargs)
            finally:
                mark(f"end {label(self, *args)}")

        return run

    runner, manager = fn_runner.FnApiRunner, worker_handlers.WorkerHandlerManager
    runner._execute_bundle = traced(runner._execute_bundle, lambda _, __, bundle, *a: bundle.stage.name)
    manager.close_all = traced(manager.close_all, lambda *_: "closing the workers")
    mark("start pipeline")
    try:
        cli(argv)
    finally:
        Path(events_path).write_text(json.dumps(events))


def stage_label(name: str) -> str:
    """A fused stage's name shortened to its first and last transforms."""
    steps = re.findall(r"ref_AppliedPTransform_([\w-]+?)_\d+", name) or re.findall(r"([\w-]+/[\w/-]+)", name)
    return " .. ".join(dict.fromkeys([*steps[:2], *steps[-1:]])) or name[:60]


def print_timeline(input_path: Path, output: Path, workers: int, extra: list[str]) -> None:
    """One traced backfill: each stage's start, wall seconds, and CPU seconds of the main process and each
    worker in it (the stages run one after another; a gap between stages is the main process's own work)."""
    events_path = output.with_suffix(".timeline.json")
    argv = backfill_argv(input_path, output, workers, extra, "WARNING")
    code = f"import sys; sys.path.insert(0, 'benchmarks'); import backfill; backfill.traced_backfill(*{(str(events_path), argv)!r})"
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, cwd=ROOT)
    events = json.loads(events_path.read_text())
    print(f"timeline, workers={workers} (seconds from the start of the run; CPU seconds in each stage):")
    print(f"  {'start':>6} {'wall':>5} {'main':>5}  workers      stage")
    opened: dict[str, tuple] = {}
    for at, main_cpu, worker_cpu, what in events:
        kind, _, name = what.partition(" ")
        if kind == "start":
            opened[name] = (at, main_cpu, worker_cpu)
            continue
        if name not in opened:
            continue
        at0, main0, workers0 = opened.pop(name)
        spent = " ".join(f"{cpu - workers0.get(pid, 0.0):5.2f}" for pid, cpu in worker_cpu.items())
        print(f"  {at0:6.2f} {at - at0:5.2f} {main_cpu - main0:5.2f}  {spent or '-':12} {stage_label(name)}")


def articles_tree(out: Path) -> tuple[tuple[str, bytes], ...]:
    return tuple(
        (p.relative_to(out).as_posix(), p.read_bytes()) for p in sorted(out.glob("articles/*/*.avro"))
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=4, help="Copies of every page (1 = each page once).")
    parser.add_argument("--runs", type=int, default=3, help="Runs per configuration (the median is shown).")
    parser.add_argument("--passthrough", action="store_true", help="Parse and write only (no cleaning).")
    parser.add_argument(
        "--timeline", action="store_true", help="Also print a per-stage timeline per worker count."
    )
    args, chain_flags = parser.parse_known_args()  # any other flag goes to newsflow backfill as it is
    extra = (["--passthrough", "true"] if args.passthrough else []) + chain_flags
    # The models' user-cache files, as on any machine after its first backfill, so no timed run builds them.
    prime = (
        "from transforms.boilerplate.language_model import identifier; identifier(); "
        "from transforms.entities.gazetteer import gazetteer; gazetteer()"
    )
    subprocess.run([sys.executable, "-c", prime], check=True, capture_output=True, cwd=ROOT)
    with tempfile.TemporaryDirectory(prefix="newsflow-bench-backfill-") as tmp:
        input_path = Path(tmp) / "pages.jsonl"
        records = write_input(input_path, args.repeat)
        chain = "pass-through" if args.passthrough else "clean, learned boilerplate, dedup, entities"
        print(
            f"input: {records} records ({records // args.repeat} pages x {args.repeat}); chain: {chain}; "
            f"flags: {' '.join(extra) or 'none'}"
        )
        seconds: dict[int, list[float]] = {1: [], 2: []}
        critical: dict[int, list[float]] = {1: [], 2: []}
        others: dict[int, list[float]] = {1: [], 2: []}
        for run in range(args.runs):  # interleaved, so both configurations see the same machine load
            for workers in (1, 2):
                summary = run_once(input_path, Path(tmp) / f"out-{workers}-{run}", workers, extra)
                seconds[workers].append(summary["seconds"])
                critical[workers].append(summary["critical_cpu"])
                others[workers].append(summary["others"])
                print(
                    f"  run {run + 1} workers={workers}: {summary['seconds']:.1f} s pipeline, "
                    f"{summary['wall']:.1f} s wall, {summary['cpu']:.1f} s CPU "
                    f"({summary['cpu'] / summary['wall']:.2f} cores busy; per worker {summary['worker_cpu']} s; "
                    f"other processes {summary['others']:.2f} cores), "
                    f"{summary.get('files.articles_written', 0)} articles written"
                )
        trees = {articles_tree(out) for out in Path(tmp).glob("out-*")}
        print(f"article files byte-identical across all runs and worker counts: {len(trees) == 1}")
        rates = {w: records / statistics.median(s) for w, s in seconds.items()}
        for workers, rate in rates.items():
            print(
                f"workers={workers}: median {statistics.median(seconds[workers]):.1f} s, {rate:.2f} records/s"
            )
        print(f"ratio 2 workers / 1 worker (baseline): {rates[2] / rates[1]:.2f}x")
        quiet = min(range(args.runs), key=lambda r: max(others[1][r], others[2][r]))
        print(
            f"ratio of the quietest run pair (run {quiet + 1}; other processes at most "
            f"{max(others[1][quiet], others[2][quiet]):.2f} cores): {seconds[1][quiet] / seconds[2][quiet]:.2f}x"
        )
        pairs = [seconds[1][r] / seconds[2][r] for r in range(args.runs)]
        print(
            f"per run pair: {' '.join(f'{p:.2f}x' for p in pairs)} (median {statistics.median(pairs):.2f}x)"
        )
        cpu_ratio = statistics.median(critical[1]) / statistics.median(critical[2])
        print(
            f"CPU critical-path ratio (main process + busiest worker, CPU seconds; what the wall ratio "
            f"would be with both cores free): {cpu_ratio:.2f}x"
        )
        for workers in (1, 2) if args.timeline else ():
            print_timeline(input_path, Path(tmp) / f"timeline-{workers}", workers, extra)
    return 0


if __name__ == "__main__":
    sys.exit(main())
