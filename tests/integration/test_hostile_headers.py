"""A raw message whose header key is not UTF-8 (librdkafka and other non-Java producers can write one; the
broker does not check) goes through the stream like any other, on the real broker: before, kafka-python's
strict decoding failed every poll at its offset and its partition never moved again."""

from __future__ import annotations

import json
import uuid

import pytest
from kafka import KafkaProducer

from pipelines.cli.topic_reader import records_to_end
from tests.raw_header_key import RawKey
from transforms import avro
from transforms.settings import KafkaSettings

pytestmark = pytest.mark.integration

STORY = "The minister said on Tuesday that the talks would resume next week in Geneva, officials said. "


def test_a_header_key_that_is_not_utf8_neither_stalls_nor_loses_its_partition(
    kafka_broker, topics, run_stream
):
    settings = KafkaSettings(bootstrap_servers=kafka_broker.bootstrap)
    producer = KafkaProducer(**settings.producer_kwargs())
    sent = []
    for n, header in enumerate([("trace", b"1"), (RawKey(b"\xff\xfetrace"), b"2"), ("trace", b"3")]):
        value = json.dumps(
            {"url": f"https://h.example/{n}", "text": f"Story {n} {uuid.uuid4().hex}. {STORY}"}
        )
        producer.send(topics.input_topic, value=value.encode(), partition=0, headers=[header]).get(timeout=30)
        sent.append(n)
    producer.close()
    done = run_stream("--group-id", f"{topics.input_topic}-g", "--idle-timeout", "8", timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    outputs = [
        avro.decode(rec.value)[1]
        for topic in (topics.output_topic, topics.duplicates_topic, topics.dlq_topic)
        for rec in records_to_end(settings, topic)
    ]
    assert sorted(o["source_position"]["offset"] for o in outputs) == sent, outputs
    raw = list(records_to_end(settings, topics.input_topic))
    assert raw[1].headers == [("\ufffd\ufffdtrace", b"2")]
