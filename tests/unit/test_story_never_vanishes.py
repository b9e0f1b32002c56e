"""A story never vanishes (issue 20, item 5): a copy is only ever dropped in favour of a delivered article.

The case from the issue: an 800k-character article whose NER overruns its CPU budget and is
dead-lettered at the entities stage, with an exact and a near copy behind it. Dedup runs after the
entities stage, so none of the copies is dropped as a duplicate of the dead-lettered one: each goes to
the DLQ itself (with its reason, replayable), and a later story is delivered as usual. Checked through
``newsflow process`` and through the local stream's chain (``PooledChain``, one worker) on the FnApiRunner.
"""

from __future__ import annotations

import json
import subprocess
import sys
from functools import cache
from pathlib import Path

from pipelines.options import Processing
from tests.beam_runs import run_local_chain
from tests.dedup_arrivals import ARRIVAL0_MS, bodies
from transforms.kafka_io import KafkaRecord
from transforms.settings import Limits

BUDGET = "1"  # CPU seconds; an 800k-character article needs far more for NER


@cache
def messages() -> list[dict]:
    text, i = "", 0
    while len(text) < 800_000:
        text += bodies()[i % len(bodies())] + "\n\n"
        i += 1
    text = text[:800_000]
    return [
        {"url": "https://wire.example/big", "text": text},
        {"url": "https://mirror.example/big", "text": text.replace(". ", ".  ")},  # exact copy
        {
            "url": "https://partner.example/big",
            "text": "Officials said on Monday. " + text + "\n\nSubscribe.",
        },
        {"url": "https://other.example/small", "text": bodies()[5]},
    ]


def check(outcomes: dict[str, tuple[str, dict]]) -> None:
    """``url -> (kind, record)``: each copy of the big story dead-lettered at the entities stage, nothing
    pointing at a dead letter, the later story delivered."""
    delivered = {record["id"] for kind, record in outcomes.values() if kind == "article"}
    for url in ("https://wire.example/big", "https://mirror.example/big", "https://partner.example/big"):
        kind, record = outcomes[url]
        assert kind == "dead_letter" and record["stage"] == "entities", (url, kind)
        assert record["error_type"] == "LimitExceeded"
    assert outcomes["https://other.example/small"][0] == "article"
    for kind, record in outcomes.values():
        if kind == "duplicate":
            assert record["duplicate_of"] in delivered


def test_newsflow_process_never_drops_copies_for_a_dead_lettered_survivor(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    path.write_text("".join(json.dumps(m) + "\n" for m in messages()), encoding="utf-8")
    cmd = [sys.executable, "-m", "pipelines.cli", "process", "--doc-time-budget", BUDGET]
    cmd += ["--state-dir", str(tmp_path / "state"), str(path)]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    lines = [json.loads(line) for line in run.stdout.splitlines()]
    by_url = {}
    for line, message in zip(lines, messages(), strict=True):
        by_url[message["url"]] = (line.pop("kind"), line)
    check(by_url)


def test_the_streams_chain_never_drops_copies_for_a_dead_lettered_survivor(tmp_path: Path) -> None:
    records = [
        KafkaRecord("articles.raw", i % 2, i, None, json.dumps(m).encode(), ARRIVAL0_MS + i * 1000)
        for i, m in enumerate(messages())
    ]
    limits = Limits(doc_time_budget=float(BUDGET))
    processing = Processing(state_dir=str(tmp_path), learn_boilerplate=False)
    (out,) = run_local_chain([records], limits, processing)
    url_at = {i: m["url"] for i, m in enumerate(messages())}
    outcomes = {a.url: ("article", {"id": a.id}) for a in out["articles"]}
    outcomes |= {d.url: ("duplicate", {"duplicate_of": d.duplicate_of}) for d in out["duplicates"]}
    for letter in out["dlq"]:
        outcomes[url_at[letter.source_position.offset]] = (
            "dead_letter",
            {"stage": letter.stage, "error_type": letter.error_type},
        )
    check(outcomes)
