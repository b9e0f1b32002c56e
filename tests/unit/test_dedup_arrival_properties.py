"""Dedup under real arrival order (issue 16), as properties over generated scenarios
(tests/dedup_arrivals.py): clusters of 1-50 exact or near copies, random delivery order, random
``published_at`` (some missing), random partitions, micro-batch boundaries, restarts and a crash in the
middle of a batch. Checked on the pure rule, ``newsflow process``'s chain, the local stream's dedup step
(``InArrivalOrder``, as the pooled chain runs it) and ``Deduplicate(mode="stream")`` on the FnApiRunner."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, settings

from pipelines.chain import LocalChain
from pipelines.options import Processing
from tests.beam_runs import run_in_process
from tests.dedup_arrivals import T0, Copy, Scenario, bodies, check, scenarios
from tests.local_dedup import decide_micro_batch
from transforms.dedup import Deduplicate, Deduplicator, DedupSettings, SqliteStore
from transforms.kafka_io import KafkaRecord
from transforms.settings import Limits


def examples(n: int, *, shrink: bool = True) -> settings:
    """``n`` examples; no shrinking for the Beam runs (a run takes seconds, shrinking would take many)."""
    phases = tuple(Phase) if shrink else (Phase.explicit, Phase.reuse, Phase.generate)
    return settings(
        max_examples=n, deadline=None, database=None, suppress_health_check=list(HealthCheck), phases=phases
    )


@contextmanager
def state_dir() -> Iterator[str]:
    path = tempfile.mkdtemp(prefix="dedup-props-")
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def kill_midway(path: str, batch: list[Copy], decided: int, survivors: set, verdicts: dict) -> None:
    """A run killed after deciding ``decided`` of the batch (in its arrival order): its index writes are
    committed, and what it decided may already have reached the output topics."""
    dedup = Deduplicator(DedupSettings(), SqliteStore(path))
    results = dedup.check_many((c.article(), c.arrival_ms) for c in batch)
    for _, (article, found) in zip(range(decided), results, strict=False):
        if found is None:
            survivors.add(article.id)
        else:
            verdicts[found.id] = found.duplicate_of
    dedup.store.close()  # what SIGKILL leaves: every committed write, nothing else


@given(scenarios())
@examples(30)
def test_the_pure_rule_keeps_one_copy_per_story_whatever_the_arrival_order(scenario: Scenario) -> None:
    survivors: set[str] = set()
    verdicts: dict[str, str] = {}
    with state_dir() as path:
        dedup = Deduplicator(DedupSettings(), SqliteStore(path))
        for b, batch in enumerate(scenario.batches):
            if b in scenario.restarts:
                dedup.close()
                dedup = Deduplicator(DedupSettings(), SqliteStore(path))
            if scenario.crash and scenario.crash[0] == b:
                dedup.close()
                before = set(survivors)
                kill_midway(path, batch, scenario.crash[1], survivors, verdicts)
                crashed_survivors = survivors - before
                dedup = Deduplicator(DedupSettings(), SqliteStore(path))
            else:
                crashed_survivors = set()
            replayed = list(dedup.check_many((c.article(), c.arrival_ms) for c in batch))
            for article, found in replayed:
                if found is None:
                    survivors.add(article.id)
                else:
                    verdicts[found.id] = found.duplicate_of
            # A replay keeps every copy the killed run had already let through.
            assert crashed_survivors <= {a.id for a, found in replayed if found is None}
        dedup.close()
    check(scenario, survivors, verdicts)


@given(scenarios(max_copies=20, max_clusters=2))
@examples(8)
def test_newsflow_process_keeps_one_copy_per_story_across_restarts(scenario: Scenario) -> None:
    """``newsflow process`` decides one input at a time: a restart re-reads the batch in flight."""
    by_url = {c.url: c for c in scenario.arrivals}
    survivors: set[str] = set()
    verdicts: dict[str, str] = {}
    chain_ids: dict[str, str] = {}  # the chain's article id -> the copy's id

    def run(chain: LocalChain, copies: list[Copy]) -> None:
        for copy in copies:
            record = KafkaRecord("in.jsonl", 0, copy.offset, None, copy.envelope(), copy.arrival_ms)
            kind, result = chain.run(record)
            assert kind in ("article", "duplicate"), result
            chain_ids[result.id] = by_url[result.url].id
            if kind == "article":
                survivors.add(by_url[result.url].id)
            else:
                verdicts[by_url[result.url].id] = result.duplicate_of

    processing = Processing(entities=False, learn_boilerplate=False)
    with state_dir() as path:
        processing.state_dir = path
        chain = LocalChain(Limits(), processing)
        for b, batch in enumerate(scenario.batches):
            ordered = sorted(batch, key=lambda c: scenario.arrivals.index(c))  # one input at a time
            if b in scenario.restarts or (scenario.crash and scenario.crash[0] == b):
                chain.deduplicator.close()
                if scenario.crash and scenario.crash[0] == b:
                    run(LocalChain(Limits(), processing), ordered[: scenario.crash[1]])
                chain = LocalChain(Limits(), processing)
            run(chain, ordered)
        chain.deduplicator.close()
    check(scenario, survivors, {d: chain_ids[t] for d, t in verdicts.items()})


def beam_batch(copies: list[Copy], **dedup: object) -> tuple[list, list]:
    """One bounded run of ``Deduplicate`` on the FnApiRunner, elements stamped with their Kafka time."""
    stamped = [(c.article(), c.arrival_ms / 1000) for c in copies]
    out = run_in_process(stamped, Deduplicate(DedupSettings(), **dedup), ["articles", "duplicates"])
    return [a.id for a in out["articles"]], [(d.id, d.duplicate_of) for d in out["duplicates"]]


@given(scenarios(max_copies=30, max_clusters=2))
@examples(20)
def test_the_local_streams_dedup_step_keeps_one_copy_per_story(scenario: Scenario) -> None:
    """Micro-batches of the local stream: ``InArrivalOrder`` against SQLite, as the pooled chain's
    ``_Decide`` runs it, a new one for each batch (in the order delivered)."""
    survivors: set[str] = set()
    verdicts: dict[str, str] = {}
    with state_dir() as path:
        for b, batch in enumerate(scenario.batches):
            if scenario.crash and scenario.crash[0] == b:
                kill_midway(path, batch, scenario.crash[1], survivors, verdicts)
            kept, dropped = decide_micro_batch([(c.article(), c.arrival_ms) for c in batch], path)
            survivors.update(a.id for a in kept)
            verdicts.update((d.id, d.duplicate_of) for d in dropped)
    check(scenario, survivors, verdicts)


@given(scenarios(max_copies=15, max_clusters=2))
@examples(4, shrink=False)
def test_the_sharded_stream_in_runner_state_keeps_one_copy_per_story(scenario: Scenario) -> None:
    """``Deduplicate(mode="stream")``: keyed by index key in runner state, one run over every arrival.
    Near copies may chain (README, "Chains"); every chain ends at a delivered copy."""
    kept, dropped = beam_batch(scenario.arrivals, mode="stream")
    check(scenario, set(kept), dict(dropped), max_chain=50)


def test_twenty_identical_copies_in_random_order_through_newsflow_process_leave_one(tmp_path: Path) -> None:
    """The issue's case: one body, 20 URLs, ``published_at`` a minute apart, fed in a random order."""
    copies = [
        {
            "url": f"https://site{i}.example/story",
            "text": bodies()[0],
            "published_at": (T0 + timedelta(minutes=i)).isoformat(),
        }
        for i in range(20)
    ]
    random.Random(16).shuffle(copies)
    path = tmp_path / "copies.jsonl"
    path.write_text("".join(json.dumps(c) + "\n" for c in copies), encoding="utf-8")
    cmd = [sys.executable, "-m", "pipelines.cli", "process", "--entities", "false", str(path)]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    lines = [json.loads(line) for line in run.stdout.splitlines()]
    kept = [line for line in lines if line["kind"] == "article"]
    assert [k["url"] for k in kept] == [copies[0]["url"]]  # the first delivered, whatever its date
    assert {line["duplicate_of"] for line in lines if line["kind"] == "duplicate"} == {kept[0]["id"]}
    assert len(lines) == 20
