"""A backfill window is exact when producers stamp records out of order (CreateTime from the article's own
time): three days' records interleaved in every partition, and the backfill of the middle day gets exactly
that day's records, no more and no fewer. Without --lateness it misses those behind a newer record."""

from __future__ import annotations

import json
import random
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import fastavro
import pytest
from kafka import KafkaProducer

from tests.cli_runs import command
from transforms.settings import KafkaSettings

pytestmark = pytest.mark.integration

PER_DAY = 10


def backfill(kafka_broker, topics, day: datetime, out: Path, *extra: str) -> set[str]:
    cmd = command("backfill")
    cmd += ["--bootstrap-servers", kafka_broker.bootstrap, "--topic", topics.input_topic]
    cmd += ["--day", day.date().isoformat(), "--output", str(out), "--workers", "1", "--passthrough", "true"]
    run = subprocess.run([*cmd, *extra], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-4000:]
    urls = set()
    for path in out.rglob("*.avro"):
        with path.open("rb") as f:
            urls |= {record["url"] for record in fastavro.reader(f)}
    return urls


def test_interleaved_days_give_exactly_the_middle_day(kafka_broker, topics, tmp_path):
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    days = [today - timedelta(days=n) for n in (3, 2, 1)]
    rng = random.Random(22)
    stamped = []
    for d, day in enumerate(days):
        for i in range(PER_DAY):
            stamp = day + timedelta(seconds=rng.randrange(86_400))
            text = f"Report {d}-{i}. " + " ".join(f"w{d}x{i}x{j}" for j in range(80)) + "."
            stamped.append((stamp, {"url": f"https://late.example/{d}/{i}", "text": text}))
    rng.shuffle(stamped)  # the days interleave in each partition, as with CreateTime from fetched_at
    producer = KafkaProducer(**KafkaSettings(bootstrap_servers=kafka_broker.bootstrap).producer_kwargs())
    for n, (stamp, envelope) in enumerate(stamped):
        value = json.dumps({**envelope, "published_at": stamp.isoformat()}).encode()
        producer.send(
            topics.input_topic, value=value, partition=n % 4, timestamp_ms=int(stamp.timestamp() * 1000)
        )
    producer.flush()
    producer.close()
    middle = {f"https://late.example/1/{i}" for i in range(PER_DAY)}

    assert backfill(kafka_broker, topics, days[1], tmp_path / "default") == middle
    without = backfill(kafka_broker, topics, days[1], tmp_path / "none", "--lateness", "0")
    assert without < middle  # the lookup alone stops at the first record of the next day
