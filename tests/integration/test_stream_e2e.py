"""The streaming path end to end on the real broker: every input accounted for, offsets committed to the end."""

from __future__ import annotations

import gzip
import io
import json

import fastavro
import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from pipelines.cli.commands.consume import iter_records
from tests.shared_data import CONLL_TRAIN, SCRAPINGHUB
from transforms import avro
from transforms.entities.conll import stories
from transforms.records import Article, from_dict
from transforms.settings import KafkaSettings

pytestmark = pytest.mark.integration

MALFORMED = {
    b"not json at all": "not JSON",
    b'{"text": 42}': "'text' must be a string",
    b'{"url": "https://example.org/no-body"}': "missing body",
    b'["a", "list"]': "must be a JSON object",
    b'{"text": "x", "fetched_at": "tomorrow-ish"}': "not a valid timestamp",
    b"\xff\xfe\x00\x00\xc3\x28 broken": "",
}


def inputs() -> list[bytes]:
    truth = json.loads((SCRAPINGHUB / "ground-truth.json").read_text())
    messages = []
    for path in sorted((SCRAPINGHUB / "html").glob("*.html.gz"))[:100]:
        page_id = path.name.split(".")[0]
        messages.append(
            json.dumps(
                {"url": truth[page_id]["url"], "html": gzip.decompress(path.read_bytes()).decode()}
            ).encode()
        )
    for i, text in enumerate(stories(CONLL_TRAIN)[:180]):
        messages.append(
            json.dumps({"url": f"https://wire.example/{i}", "source": "wire", "text": text}).encode()
        )
    return messages


def read_topic(settings: KafkaSettings, topic: str) -> list[tuple[str, dict]]:
    return [(name, record) for _, _, name, record in iter_records(settings, topic)]


def test_stream_until_idle_accounts_for_every_input(kafka_broker, topics, run_stream, tmp_path):
    settings = KafkaSettings(bootstrap_servers=kafka_broker.bootstrap)
    producer = KafkaProducer(**settings.producer_kwargs())
    sent: dict[tuple[int, int], bytes] = {}
    messages = inputs() + list(MALFORMED)
    for i, value in enumerate(messages):
        meta = producer.send(topics.input_topic, value=value, partition=i % 4).get(timeout=30)
        sent[(meta.partition, meta.offset)] = value
    producer.close()

    run = run_stream("--group-id", "e2e", "--idle-timeout", "3", "--state-dir", str(tmp_path / "state"))
    assert run.returncode == 0, run.stderr[-3000:]

    clean = read_topic(settings, topics.output_topic)
    duplicates = read_topic(settings, topics.duplicates_topic)
    dlq = read_topic(settings, topics.dlq_topic)
    assert {name for name, _ in clean} <= {"article"} and {n for n, _ in dlq} <= {"dead_letter"}

    def positions(records):
        return [(r["source_position"]["partition"], r["source_position"]["offset"]) for _, r in records]

    seen = positions(clean) + positions(duplicates) + positions(dlq)
    assert sorted(set(seen)) == sorted(sent), "every input is in exactly one output topic"
    assert len(seen) == len(set(seen)), "no input was written twice in a clean run"

    letters = {(r["source_position"]["partition"], r["source_position"]["offset"]): r for _, r in dlq}
    for key, value in sent.items():
        if value in MALFORMED:
            assert key in letters, value
            assert MALFORMED[value] in letters[key]["message"]
            assert letters[key]["original"] == value and letters[key]["stage"] == "parse"
    valid = len(sent) - len(MALFORMED)
    assert len(clean) + len(duplicates) >= 0.95 * valid

    for _, record in clean:
        article = from_dict(Article, record)
        assert article.body.strip() and article.dedup.content_hash
        for entity in article.entities:
            assert all(article.body[m.start : m.end] == m.text for m in entity.mentions)

    consumer = KafkaConsumer(**settings.consumer_kwargs("e2e"))
    tps = [TopicPartition(topics.input_topic, p) for p in range(4)]
    end = consumer.end_offsets(tps)
    assert {tp.partition: consumer.committed(tp) for tp in tps} == {tp.partition: end[tp] for tp in tps}
    consumer.close()


def test_clean_records_decode_with_fastavro_against_the_schema_file(kafka_broker, topics, run_stream):
    settings = KafkaSettings(bootstrap_servers=kafka_broker.bootstrap)
    producer = KafkaProducer(**settings.producer_kwargs())
    body = stories(CONLL_TRAIN)[0]
    producer.send(topics.input_topic, json.dumps({"url": "https://a.example/1", "text": body}).encode()).get(
        30
    )
    producer.close()
    assert run_stream("--idle-timeout", "3", "--entities", "false").returncode == 0
    consumer = KafkaConsumer(**settings.consumer_kwargs(None))
    tps = [TopicPartition(topics.output_topic, p) for p in range(4)]
    consumer.assign(tps)
    consumer.seek_to_beginning(*tps)
    values = [r.value for _ in range(10) for recs in consumer.poll(timeout_ms=500).values() for r in recs]
    consumer.close()
    assert len(values) == 1
    schema = fastavro.schema.load_schema(str(avro.SCHEMA_DIR / "article.avsc"))
    record = fastavro.schemaless_reader(io.BytesIO(values[0][10:]), schema, None)
    assert record["body"].split()[:3] == body.split()[:3]
