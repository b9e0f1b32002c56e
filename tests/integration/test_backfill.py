"""Kafka backfill on the real broker: exactly one day of a three-day topic, identical files on a re-run."""

from __future__ import annotations

import io
import json
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import fastavro
import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.structs import OffsetAndMetadata

from pipelines.cli.topic_reader import records_to_end
from tests.cli_runs import command
from tests.shared_data import CONLL_TRAIN
from transforms import avro
from transforms.entities import conll
from transforms.settings import KafkaSettings

pytestmark = pytest.mark.integration

PER_DAY_AND_PARTITION = 4
STREAM_GROUP = "newsflow"


def stories(count: int) -> list[str]:
    """Distinct Reuters stories rebuilt from CoNLL, long enough to be articles."""
    return conll.stories(CONLL_TRAIN, min_words=80, prose_only=True)[:count]


def produce_three_days(bootstrap: str, topic: str) -> tuple[datetime, dict[tuple[int, int], str]]:
    """Messages stamped over three whole days into 4 partitions; returns the middle day and its positions.

    The middle day also holds a malformed message (a dead letter) and an exact copy of one of its stories
    under another URL (a duplicate), so all three outputs are exercised.
    """
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    days = [today - timedelta(days=n) for n in (3, 2, 1)]
    texts = iter(stories(3 * 4 * PER_DAY_AND_PARTITION))
    producer = KafkaProducer(**KafkaSettings(bootstrap_servers=bootstrap).producer_kwargs())
    middle: dict[tuple[int, int], str] = {}
    for partition in range(4):
        for d, day in enumerate(days):
            values = []
            for i in range(PER_DAY_AND_PARTITION):
                stamp = day + timedelta(hours=1 + 5 * i, minutes=partition)
                text = next(texts)
                envelope = {"url": f"https://wire.example/{d}/{partition}/{i}", "text": text}
                values.append((stamp, json.dumps({**envelope, "published_at": stamp.isoformat()}).encode()))
            if d == 1 and partition == 0:
                values.append((day + timedelta(hours=22), b"not json at all"))
            if d == 1 and partition == 1:
                later = day + timedelta(hours=23)  # published later than the original: the copy is dropped
                copy = {"url": "https://mirror.example/copy", "text": text, "published_at": later.isoformat()}
                values.append((later, json.dumps(copy).encode()))
            for stamp, value in values:
                ms = int(stamp.timestamp() * 1000)
                meta = producer.send(topic, value=value, partition=partition, timestamp_ms=ms).get(timeout=30)
                if d == 1:
                    middle[(partition, meta.offset)] = "sent"
    producer.close()
    return days[1], middle


def backfill(bootstrap: str, topics, day: datetime, outputs: list[str]) -> subprocess.CompletedProcess:
    cmd = command("backfill")
    cmd += ["--bootstrap-servers", bootstrap, "--topic", topics.input_topic]
    cmd += ["--from", day.isoformat(), "--to", (day + timedelta(days=1)).isoformat()]
    cmd += ["--output-topic", topics.output_topic, "--duplicates-topic", topics.duplicates_topic]
    cmd += ["--dlq-topic", topics.dlq_topic, "--entities", "false", "--workers", "2"]
    for output in outputs:
        cmd += ["--output", output]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-4000:]
    return run


def files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*.avro"))}


def records(data: bytes) -> list[dict]:
    return list(fastavro.reader(io.BytesIO(data)))


def topic_messages(settings: KafkaSettings, topic: str) -> list[tuple[bytes | None, dict]]:
    return [(r.key, avro.decode(r.value)[1]) for r in records_to_end(settings, topic)]


def test_backfill_of_the_middle_day_is_exact_and_rewrites_identical_files(kafka_broker, topics, tmp_path):
    settings = KafkaSettings(bootstrap_servers=kafka_broker.bootstrap)
    day, expected = produce_three_days(kafka_broker.bootstrap, topics.input_topic)
    committer = KafkaConsumer(**settings.consumer_kwargs(STREAM_GROUP))
    tp0 = TopicPartition(topics.input_topic, 0)
    committer.commit({tp0: OffsetAndMetadata(1, "", -1)})

    out = tmp_path / "out"
    backfill(kafka_broker.bootstrap, topics, day, [str(out), "kafka"])
    first = files(out)
    by_kind: dict[str, list[dict]] = {"articles": [], "duplicates": [], "dlq": []}
    for name in first:
        by_kind[name.split("/")[0]] += records(first[name])
    assert {n.split("/")[1] for n in first if n.startswith("articles/")} == {f"dt={day:%Y-%m-%d}"}
    positions = [
        (r["source_position"]["partition"], r["source_position"]["offset"])
        for kind in by_kind.values()
        for r in kind
    ]
    assert sorted(positions) == sorted(expected), "exactly the middle day's records, each once"
    assert all(r["source_position"]["topic"] == topics.input_topic for k in by_kind.values() for r in k)
    assert len(by_kind["dlq"]) == 1 and by_kind["dlq"][0]["original"] == b"not json at all"
    assert [(d["method"], d["url"]) for d in by_kind["duplicates"]] == [
        ("exact", "https://mirror.example/copy")
    ]
    assert len(by_kind["articles"]) == len(expected) - 2

    clean = topic_messages(settings, topics.output_topic)
    assert sorted(key.decode() for key, _ in clean) == sorted(a["id"] for a in by_kind["articles"])
    assert committer.committed(tp0) == 1, "the streaming group's offsets are untouched"
    committer.close()

    backfill(kafka_broker.bootstrap, topics, day, [str(out)])
    second = files(out)
    assert sorted(second) == sorted(first)
    for name in first:
        if name.startswith("articles/"):
            assert second[name] == first[name], f"{name} is byte-identical on a re-run"
        else:  # verdicts and dead letters carry the time they were made; everything else is the same
            strip = {"detected_at", "failed_at"}
            again = [{k: v for k, v in r.items() if k not in strip} for r in records(second[name])]
            assert again == [{k: v for k, v in r.items() if k not in strip} for r in records(first[name])]
