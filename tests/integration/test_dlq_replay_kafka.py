"""``newsflow dlq replay`` on the real broker: the dry run sends nothing; a replay re-publishes the selected
letters' original bytes with their DLQ origin in a header, and commits no consumer-group offset."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime

import pytest
from kafka import KafkaAdminClient, KafkaProducer

from pipelines.cli.dlq import REPLAY_HEADER
from pipelines.cli.topic_reader import records_to_end
from transforms import avro

pytestmark = pytest.mark.integration


def letter(original: bytes, stage: str, error: str, offset: int) -> bytes:
    record = {
        "original": original, "stage": stage, "error_type": error, "message": f"{error} at {offset}",
        "source_position": {"topic": "raw", "partition": 1, "offset": offset},
        "failed_at": datetime(2026, 1, 1, tzinfo=UTC), "attempts": 1,
    }  # fmt: skip
    return avro.encode("dead_letter", record)


def replay(bootstrap: str, dlq: str, raw: str, *flags: str) -> list[dict]:
    cmd = [sys.executable, "-m", "pipelines.cli", "dlq", "replay", "--bootstrap-servers", bootstrap]
    cmd += ["--dlq-topic", dlq, "--to-topic", raw, *flags]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    return [json.loads(line) for line in run.stdout.splitlines()]


def groups(settings) -> set[str]:
    admin = KafkaAdminClient(**settings.client_kwargs())
    try:
        return {g["group_id"] for g in admin.list_groups()}
    finally:
        admin.close()


def raw_messages(settings, topic: str) -> list:
    return list(records_to_end(settings, topic))


def test_dry_run_then_replay_of_selected_letters(kafka_broker, topics):
    settings = kafka_broker.settings()
    producer = KafkaProducer(**settings.producer_kwargs())
    letters = [
        letter(b"not json", "parse", "ParseError", 10),
        letter(b'{"text": 42}', "parse", "ParseError", 11),
        letter(b'{"html": "<p>x</p>"}', "clean", "CleanError", 12),
    ]
    for value in letters:
        producer.send(topics.dlq_topic, value=value, partition=0).get(30)
    producer.close()

    groups_before = groups(settings)
    planned = replay(
        kafka_broker.bootstrap, topics.dlq_topic, topics.input_topic, "--stage", "parse", "--dry-run"
    )
    assert [p["source"] for p in planned[:-1]] == ["raw:1@10", "raw:1@11"]
    assert planned[-1]["summary"] == {
        "dry_run": True, "to_topic": topics.input_topic, "selected": 2, "skipped": 0, "sent": 0
    }  # fmt: skip
    assert raw_messages(settings, topics.input_topic) == []

    done = replay(kafka_broker.bootstrap, topics.dlq_topic, topics.input_topic, "--error-type", "ParseError",
                  "--from-offset", "11")  # fmt: skip
    assert done[-1]["summary"]["sent"] == 1
    (message,) = raw_messages(settings, topics.input_topic)
    assert message.value == b'{"text": 42}'
    assert dict(message.headers)[REPLAY_HEADER] == b"0:1"

    assert groups(settings) == groups_before, "replay must not join or commit to any consumer group"


def test_a_tombstones_letter_is_replayed_as_a_null_value(kafka_broker, topics):
    """A letter whose original was a Kafka tombstone (``original_is_null``) is sent as a null value with its
    key; an empty value as an empty value; an empty original of a letter from before v3 is skipped."""
    settings = kafka_broker.settings()
    producer = KafkaProducer(**settings.producer_kwargs())
    tombstone = avro.decode(letter(b"", "parse", "ParseError", 20))[1]
    for offset, is_null in ((20, True), (21, False), (22, None)):
        record = {**tombstone, "source_position": {"topic": "raw", "partition": 1, "offset": offset}}
        record.update(original_key=b"k%d" % offset, original_is_null=is_null, original_size=0)
        producer.send(topics.dlq_topic, value=avro.encode("dead_letter", record), partition=0).get(30)
    producer.close()
    done = replay(kafka_broker.bootstrap, topics.dlq_topic, topics.input_topic)
    assert [line.get("action") for line in done[:-1]] == ["send", "send", "skip"]
    sent = raw_messages(settings, topics.input_topic)
    assert sorted((m.key, m.value) for m in sent) == [(b"k20", None), (b"k21", b"")]
