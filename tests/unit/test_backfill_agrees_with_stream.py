"""The backfill and the stream agree (issue 16, item 5): ``newsflow backfill --state-dir`` checks, read-only,
against the streaming index there, so a story the stream already delivered comes out of a later backfill
as a duplicate of that delivered record, never as a second survivor, even when the backfill's own copy
is dated earlier (which the batch rule alone would keep)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import fastavro

from pipelines.cli import main
from pipelines.options import Processing
from tests.beam_runs import run_local_chain
from tests.dedup_arrivals import ARRIVAL0_MS, bodies, near_copy
from transforms.dedup.store import DB_NAME
from transforms.kafka_io import KafkaRecord
from transforms.settings import Limits

WIRE = {"url": "https://wire.example/a", "text": bodies()[2], "published_at": "2026-11-30T12:00:00Z"}


def stream(state_dir: Path, messages: list[dict]) -> list:
    """One micro-batch of the local stream's chain (dedup in ``state_dir``): the delivered articles."""
    records = [
        KafkaRecord("articles.raw", 0, i, None, json.dumps(m).encode(), ARRIVAL0_MS + i)
        for i, m in enumerate(messages)
    ]
    processing = Processing(state_dir=str(state_dir), learn_boilerplate=False, entities=False)
    (out,) = run_local_chain([records], Limits(), processing)
    return out["articles"]


def avro_records(out: Path, kind: str) -> list[dict]:
    records = []
    for path in sorted((out / kind).rglob("*.avro")):
        with open(path, "rb") as f:
            records.extend(fastavro.reader(f))
    return records


def test_a_backfill_drops_what_the_stream_delivered_into_the_delivered_record(tmp_path: Path) -> None:
    state = tmp_path / "state"
    (delivered,) = stream(state, [WIRE])
    assert (state / DB_NAME).exists()
    data = tmp_path / "archive.jsonl"
    archive = [
        WIRE,  # the same message again
        {"url": "https://mirror.example/a", "text": WIRE["text"], "published_at": "2026-11-29T08:00:00Z"},
        {"url": "https://partner.example/a", "text": near_copy(WIRE["text"], random.Random(3))},
        {"url": "https://other.example/b", "text": bodies()[7], "published_at": "2026-11-28T08:00:00Z"},
    ]
    data.write_text("".join(json.dumps(m) + "\n" for m in archive), encoding="utf-8")
    index_before = (state / DB_NAME).read_bytes()
    out = tmp_path / "out"
    argv = ["backfill", "--input", str(data), "--output", str(out), "--state-dir", str(state)]
    argv += ["--entities", "false", "--learn-boilerplate", "false", "--codec", "null"]
    argv += ["--", "--direct_running_mode=in_memory", "--direct_num_workers=1"]
    assert main(argv) == 0
    survivors = avro_records(out, "articles")
    verdicts = avro_records(out, "duplicates")
    assert [a["url"] for a in survivors] == ["https://other.example/b"]
    assert sorted(v["url"] for v in verdicts) == sorted(m["url"] for m in archive[:3])
    assert {v["duplicate_of"] for v in verdicts} == {delivered.id}
    assert (state / DB_NAME).read_bytes() == index_before  # read-only
