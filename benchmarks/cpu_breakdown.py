"""Where the one-worker stream's CPU goes, step by step, against ``newsflow process`` on the same articles.

Runs ``newsflow process`` and then ``newsflow stream --workers 1`` (on a real local broker, the articles
produced first) on the articles of ``e2e.py``, each in a child that wraps the chain's steps, dedup, the
Avro and JSON encoding, Kafka, the crash journal and the batch's pipeline with ``time.thread_time()`` and
times the garbage collections (``gc.callbacks``), and prints milliseconds of CPU per article per step, in
the batches (start-up and model load left out). Each step's own time is counted, less the timed steps it
calls, so the rows add up; what the runner itself costs (Beam's steps, coders, the glue between them) is
the batch's own time, outside every timed step.

    nice .venv/bin/python benchmarks/cpu_breakdown.py --articles 1000

The two runs follow each other, so on a shared machine compare each stream run with the ``process`` run
next to it, not with another session's.
"""

from __future__ import annotations

import argparse
import atexit
import collections
import functools
import gc
import importlib
import inspect
import json
import os
import runpy
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SPENT: collections.Counter[str] = collections.Counter()

STEPS = {  # module: wrapped callables, as ``Class.method`` or function names
    "pipelines.chain": ["ParseStep.__call__", "CleanStep.__call__", "EntityStep.__call__", "Stage.process"],
    "transforms.boilerplate.learned": ["LearnedBoilerplate.apply"],
    "transforms.dedup.deduplicator": ["Deduplicator.check", "Deduplicator.check_many"],
    "transforms.dedup.index": ["body_print"],
    "transforms.crash_journal": ["CrashJournal.begin", "CrashJournal.end"],
    "transforms.dedup.changelog": ["ChangelogStore.put_many", "ChangelogStore.flush"],
    "transforms.dedup.store": ["SqliteStore.put_many"],
    "transforms.kafka_io": [
        "ReadPartitions.process",
        "WriteToKafka.process",
        "WriteToKafka.finish_bundle",
        "CommitOffsets.process",
        "CommitOffsets.finish_bundle",
    ],
    "pipelines.chain_workers": ["ChainWork.__call__"],
    "pipelines.engine.local_stream": ["_run_batch"],
    "pipelines.stream": ["build"],
    "pipelines.cli.commands.process": ["to_dict", "to_json"],
}


_NESTED = threading.local()


def _timed(name: str, fn):
    """``fn`` with its own thread CPU added to ``SPENT[name]``: less that of the timed steps it calls (each
    is counted once, under its own name); a generator's only while it runs."""

    def timing(step):
        children = _NESTED.__dict__.setdefault("stack", [])
        children.append(0.0)
        started = time.thread_time()
        try:
            return step()
        finally:
            spent = time.thread_time() - started
            inner = children.pop()
            SPENT[name] += spent - inner
            if children:
                children[-1] += spent

    if inspect.isgeneratorfunction(fn):

        @functools.wraps(fn)
        def generator(*args, **kwargs):
            inner = fn(*args, **kwargs)
            while True:
                try:
                    value = timing(lambda: next(inner))
                except StopIteration as end:
                    return end.value
                yield value

        return generator

    @functools.wraps(fn)
    def function(*args, **kwargs):
        return timing(lambda: fn(*args, **kwargs))

    return function


def _wrap_steps() -> None:
    for module_name, names in STEPS.items():
        module = importlib.import_module(module_name)
        for name in names:
            owner, attribute = module, name
            if "." in name:
                cls, attribute = name.split(".")
                owner = getattr(module, cls)
            setattr(owner, attribute, _timed(name, getattr(owner, attribute)))
    process = importlib.import_module("pipelines.cli.commands.process")
    dumps = _timed("json.dumps", json.dumps)
    process.json = type("TimedJson", (), {"dumps": staticmethod(dumps)})
    chain = importlib.import_module("pipelines.chain")
    chain.LocalChain.run = _timed("LocalChain.run", chain.LocalChain.run)


def _time_collections() -> None:
    started: dict[int, float] = {}

    def collected(phase: str, info: dict) -> None:
        if phase == "start":
            started[threading.get_ident()] = time.thread_time()
        elif (began := started.pop(threading.get_ident(), None)) is not None:
            SPENT["gc"] += time.thread_time() - began

    gc.callbacks.append(collected)


def child(out: str, cli: list[str]) -> None:
    """Run the CLI in this process with its steps timed; write the times (seconds) to ``out`` at exit."""
    _wrap_steps()
    _time_collections()
    atexit.register(lambda: Path(out).write_text(json.dumps(SPENT)))
    sys.argv = ["newsflow", *cli]
    runpy.run_module("pipelines.cli", run_name="__main__", alter_sys=True)


def _run_child(out: Path, cli: list[str]) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--child", str(out), "--", "--log-format", "json", *cli]
    subprocess.run(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return json.loads(out.read_text())


def measure(values: list[bytes], work: Path) -> tuple[dict[str, float], dict[str, float]]:
    """(``process``'s times, the one-worker stream's), seconds per step over all of ``values``."""
    from kafka import KafkaProducer

    from pipelines.devkafka import broker
    from pipelines.options import Topics
    from transforms.settings import KafkaSettings

    inputs = work / "inputs.jsonl"
    inputs.write_bytes(b"\n".join(values) + b"\n")
    process = _run_child(work / "process.json", ["process", str(inputs)])
    data = work / "broker"
    port = broker.free_port()
    broker.up(port=port, data_dir=data, topics=[])
    try:
        bootstrap = f"127.0.0.1:{port}"
        suffix = uuid.uuid4().hex[:8]
        topics = Topics(*(f"{t}.{suffix}" for t in Topics().all()))
        broker.ensure_topics(bootstrap, topics.all(), 4)
        producer = KafkaProducer(**KafkaSettings(bootstrap_servers=bootstrap).producer_kwargs())
        for future in [
            producer.send(topics.input_topic, value=v, partition=i % 4) for i, v in enumerate(values)
        ]:
            future.get(timeout=60)
        producer.close()
        cli = ["stream", "--bootstrap-servers", bootstrap, "--group-id", suffix, "--idle-timeout", "3"]
        cli += ["--input-topic", topics.input_topic, "--output-topic", topics.output_topic]
        cli += ["--duplicates-topic", topics.duplicates_topic, "--dlq-topic", topics.dlq_topic]
        stream = _run_child(
            work / "stream.json", [*cli, "--workers", "1", "--state-dir", str(work / "state")]
        )
    finally:
        broker.down(data)
    return process, stream


ROWS = [  # (row, process's steps, the stream's steps): own CPU, each step in one row
    ("parse", ["ParseStep.__call__"], ["ParseStep.__call__"]),
    ("extraction (clean)", ["CleanStep.__call__"], ["CleanStep.__call__"]),
    ("learned boilerplate", ["LearnedBoilerplate.apply"], ["LearnedBoilerplate.apply"]),
    ("NER", ["EntityStep.__call__"], ["EntityStep.__call__"]),
    ("dedup: body print", ["body_print"], ["body_print"]),
    ("dedup: keys, index", ["Deduplicator.check"], ["Deduplicator.check_many", "SqliteStore.put_many"]),
    ("dedup changelog (produce)", [], ["ChangelogStore.put_many", "ChangelogStore.flush"]),
    ("output: JSON / Avro, record copies", ["to_dict", "to_json", "json.dumps"], ["ChainWork.__call__"]),
    ("crash journal", [], ["CrashJournal.begin", "CrashJournal.end"]),
    (
        "Kafka read, write, commit",
        [],
        ["ReadPartitions.process", "WriteToKafka.process", "WriteToKafka.finish_bundle"]
        + ["CommitOffsets.process", "CommitOffsets.finish_bundle"],
    ),
    ("micro-batch pipeline build", [], ["build"]),
    ("stage wrappers (retries, budget, watchdog)", ["LocalChain.run"], ["Stage.process"]),
    ("runner, coders, glue", [], ["_run_batch"]),
]


def rows(process: dict[str, float], stream: dict[str, float]) -> list[tuple[str, float, float]]:
    """(row, ``process`` s, stream s): :data:`ROWS`, their total and the garbage collections (counted in
    the rows too, in whatever step allocated)."""
    p, s = collections.Counter(process), collections.Counter(stream)
    table = [(name, sum(p[k] for k in mine), sum(s[k] for k in theirs)) for name, mine, theirs in ROWS]
    table.append(("total in the batches", sum(r[1] for r in table), sum(r[2] for r in table)))
    table.append(("of which garbage collection", p["gc"], s["gc"]))
    return table


def main() -> None:
    if "--child" in sys.argv:
        at = sys.argv.index("--child")
        child(sys.argv[at + 1], sys.argv[sys.argv.index("--") + 1 :])
        return
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--articles", type=int, default=1000)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from e2e import articles

    print(f"load average at start: {' '.join(f'{x:.1f}' for x in os.getloadavg())}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        process, stream = measure(articles(args.articles), Path(tmp))
    n = args.articles
    print(f"\n| ms CPU per article ({n} articles) | newsflow process | stream, 1 worker |")
    print("| --- | --- | --- |")
    for name, p, s in rows(process, stream):
        print(f"| {name} | {1000 * p / n:.2f} | {1000 * s / n:.2f} |")
    print(f"load average at end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
