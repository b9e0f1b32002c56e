"""Raw topics written by producers we did not write: Apache Kafka's Java client (kafka-clients 4.1, as
Kafka Connect and the other teams' services use it), on the real broker, read by the real ``newsflow
stream``. Our standard for any input: the stream neither crashes nor stalls, nothing is dropped silently
(every offset that holds a record ends in the clean, duplicates or dead-letter topic), and nothing a
producer aborted is published.

* every compression codec a producer may choose (gzip, snappy, lz4, zstd) is read;
* aborted transactions are not published, and the commit and abort markers (offsets that hold no record)
  are passed over: the group's committed offsets reach the end of the log and the stream goes idle;
* an open transaction holds its partition at its first offset (the last stable offset) and nothing of it
  is published until it commits;
* tombstones, null keys, headers with null values, LogAppendTime topics, timestamps of -1 and of 1970.
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from collections.abc import Callable

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic

from pipelines.cli.topic_reader import records_to_end
from pipelines.metrics import exporter
from pipelines.metrics.lag import BrokerWatch
from pipelines.options import Topics
from tests.cli_runs import failure_line, newsflow, topic_flags
from tests.outside_producer import JavaProducer
from tests.shared_data import CONLL_TRAIN
from transforms import avro
from transforms.entities.conll import stories
from transforms.settings import KafkaSettings

pytestmark = [pytest.mark.integration, pytest.mark.java]

CODECS = ("gzip", "snappy", "lz4", "zstd")
TEXTS = stories(CONLL_TRAIN)[400:460]


def _article(n: int, tag: str) -> bytes:
    """A raw article (JSON) whose text is a story of its own: no two are near-duplicates."""
    return json.dumps({"url": f"https://{tag}.example/{n}", "text": TEXTS[n % len(TEXTS)]}).encode()


def _outputs(settings: KafkaSettings, topics: Topics) -> dict[str, list[dict]]:
    return {
        kind: [avro.decode(rec.value)[1] for rec in records_to_end(settings, getattr(topics, attr))]
        for kind, attr in (
            ("clean", "output_topic"),
            ("duplicates", "duplicates_topic"),
            ("dlq", "dlq_topic"),
        )
    }


def _positions(outputs: dict[str, list[dict]]) -> list[tuple[int, int]]:
    """(partition, offset) of every output, all topics together, sorted."""
    return sorted(
        (o["source_position"]["partition"], o["source_position"]["offset"])
        for out in outputs.values()
        for o in out
    )


def _urls(outputs: dict[str, list[dict]]) -> set[str]:
    return {o["url"] for kind in ("clean", "duplicates") for o in outputs[kind]}


def _stream(kafka_broker, topics: Topics, group: str, timeout: float = 180) -> subprocess.CompletedProcess:
    """``newsflow stream`` until idle for 8 s; a run still going after ``timeout`` is a stall: fail with
    what it logged last."""
    try:
        return newsflow(
            "stream", "--bootstrap-servers", kafka_broker.bootstrap, *topic_flags(topics),
            "--group-id", group, "--idle-timeout", "8", timeout=timeout,
        )  # fmt: skip
    except subprocess.TimeoutExpired as exc:
        logged = (exc.stderr or b"").decode(errors="replace").splitlines()
        pytest.fail(
            f"the stream did not go idle in {timeout:g} s; it logged last:\n" + "\n".join(logged[-15:])
        )


def _committed_and_end(settings: KafkaSettings, topic: str, group: str) -> tuple[dict, dict, dict]:
    """The group's committed offsets, the log end offsets and the last stable offsets of ``topic``."""
    plain = KafkaConsumer(**{**settings.consumer_kwargs(group), "isolation_level": "read_uncommitted"})
    stable = KafkaConsumer(**{**settings.consumer_kwargs(None), "isolation_level": "read_committed"})
    try:
        tps = [TopicPartition(topic, p) for p in sorted(plain.partitions_for_topic(topic))]
        committed = {tp.partition: plain.committed(tp) for tp in tps}
        ends = {tp.partition: o for tp, o in plain.end_offsets(tps).items()}
        lso = {tp.partition: o for tp, o in stable.end_offsets(tps).items()}
        return committed, ends, lso
    finally:
        plain.close(autocommit=False)
        stable.close(autocommit=False)


def _lags(settings: KafkaSettings, topic: str, group: str) -> list[int]:
    """The consumer lag per partition as ``/metrics`` publishes it."""
    watch = BrokerWatch(settings, topic, group)
    try:
        watch.look()
    finally:
        watch._consumer.close(autocommit=False)
    return [lag for (name, _), lag in sorted(exporter.LAG.lags.items()) if name == topic]


@pytest.fixture
def java(kafka_broker, topics) -> Callable[..., JavaProducer]:
    """Java producers on this test's input topic (closed at the end of the test)."""
    made: list[JavaProducer] = []

    def make(**config: str) -> JavaProducer:
        made.append(JavaProducer(kafka_broker.bootstrap, topics.input_topic, **config))
        return made[-1]

    yield make
    for producer in made:
        producer.kill()


def test_every_compression_codec_a_java_producer_may_choose_is_read(kafka_broker, topics, java):
    settings = KafkaSettings(bootstrap_servers=kafka_broker.bootstrap)
    sent = {}
    for partition, codec in enumerate(CODECS):
        producer = java(compression_type=codec, linger_ms="200")
        for n in range(3):
            value = _article(partition * 3 + n, codec)
            producer.send(partition, value)
            sent[json.loads(value)["url"]] = (partition, n)
        producer.flush()
        producer.close()
    done = _stream(kafka_broker, topics, f"{topics.input_topic}-g")
    assert done.returncode == 0, done.stderr[-3000:]
    outputs = _outputs(settings, topics)
    assert outputs["dlq"] == []
    assert _urls(outputs) == set(sent)
    assert _positions(outputs) == sorted(sent.values())


def test_an_aborted_transaction_is_not_published_and_its_markers_do_not_hold_the_partition(
    kafka_broker, topics, java
):
    settings = KafkaSettings(bootstrap_servers=kafka_broker.bootstrap)
    producer = java(transactional_id=f"outside-{uuid.uuid4().hex}", compression_type="lz4")
    producer.begin()
    producer.send(0, _article(0, "committed"))
    producer.send(1, _article(1, "committed"))
    producer.commit()
    producer.begin()
    for n in range(2, 6):  # aborted, on both partitions, between committed ones
        producer.send(n % 2, _article(n, "aborted"))
    producer.abort()
    producer.begin()
    producer.send(0, _article(6, "committed"))
    producer.commit()  # the log of partition 0 ends with a commit marker, an offset that holds no record
    producer.close()

    group = f"{topics.input_topic}-g"
    done = _stream(kafka_broker, topics, group, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    outputs = _outputs(settings, topics)
    assert _urls(outputs) == {f"https://committed.example/{n}" for n in (0, 1, 6)}
    assert outputs["dlq"] == []
    committed, ends, lso = _committed_and_end(settings, topics.input_topic, group)
    assert committed == ends == lso, (committed, ends, lso)
    batches = [json.loads(line) for line in done.stderr.splitlines() if '"micro_batch"' in line]
    assert len(batches) <= 2, batches  # the markers after the last record are not read again and again


def test_an_open_transaction_holds_its_partition_until_it_commits(kafka_broker, topics, java):
    settings = KafkaSettings(bootstrap_servers=kafka_broker.bootstrap)
    producer = java(transactional_id=f"outside-{uuid.uuid4().hex}")
    producer.begin()
    producer.send(0, _article(0, "before"))
    producer.commit()
    producer.begin()
    producer.send(0, _article(1, "open"))
    producer.flush()  # on the log, not yet committed
    plain = KafkaProducer(**settings.producer_kwargs())
    plain.send(topics.input_topic, _article(2, "after"), partition=0).get(timeout=30)
    plain.send(topics.input_topic, _article(3, "other"), partition=1).get(timeout=30)
    plain.close()

    group = f"{topics.input_topic}-g"
    done = _stream(kafka_broker, topics, group, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    assert _urls(_outputs(settings, topics)) == {"https://before.example/0", "https://other.example/3"}
    committed, ends, lso = _committed_and_end(settings, topics.input_topic, group)
    assert committed[0] == lso[0] == 2 < ends[0]  # held at the open transaction's first offset
    assert committed[1] == ends[1]  # the other partitions are not held
    assert _lags(settings, topics.input_topic, group)[:2] == [2, 0]  # what it holds back shows as lag

    producer.commit()
    producer.close()
    done = _stream(kafka_broker, topics, group, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    assert _urls(_outputs(settings, topics)) == {
        f"https://{tag}.example/{n}" for n, tag in enumerate(("before", "open", "after", "other"))
    }
    committed, ends, _ = _committed_and_end(settings, topics.input_topic, group)
    assert committed == ends
    assert _lags(settings, topics.input_topic, group) == [0, 0, 0, 0]


def _create(kafka_broker, name: str, **config: str) -> None:
    admin = KafkaAdminClient(bootstrap_servers=kafka_broker.bootstrap)
    try:
        admin.create_topics([NewTopic(name, 2, 1, topic_configs=config)])
    finally:
        admin.close()


@pytest.mark.parametrize("timestamp_type", ["CreateTime", "LogAppendTime"])
def test_null_values_null_keys_null_headers_and_odd_timestamps_go_to_a_topic_never_lost(
    kafka_broker, java, timestamp_type
):
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    topics = Topics(f"{prefix}.raw", f"{prefix}.clean", f"{prefix}.duplicates", f"{prefix}.dlq")
    kafka_broker.create_topics([topics.output_topic, topics.duplicates_topic, topics.dlq_topic], partitions=2)
    _create(kafka_broker, topics.input_topic, **{"message.timestamp.type": timestamp_type})
    settings = KafkaSettings(bootstrap_servers=kafka_broker.bootstrap)
    producer = JavaProducer(kafka_broker.bootstrap, topics.input_topic)
    odd = [
        dict(value=None, key=b"k-tombstone"),  # a tombstone
        dict(value=None),  # null key and null value
        dict(value=b""),  # empty value
        dict(value=_article(0, "nullkey")),
        dict(value=_article(1, "nullheader"), key=b"k", headers=[(b"trace", None), (b"", b"x")]),
        dict(value=_article(2, "epoch"), timestamp_ms=1),
        dict(value=_article(3, "zero"), timestamp_ms=0),
    ]
    for record in odd:
        producer.send(0, **record)
    producer.flush()
    producer.close()
    # timestamp -1 (no timestamp): Java refuses to send it, librdkafka and kafka-python do not
    plain = KafkaProducer(**settings.producer_kwargs())
    plain.send(topics.input_topic, _article(4, "notime"), partition=1, timestamp_ms=-1).get(timeout=30)
    plain.send(topics.input_topic, None, key=b"k", partition=1, timestamp_ms=-1).get(timeout=30)
    plain.close()

    done = _stream(kafka_broker, topics, f"{prefix}-g", timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    outputs = _outputs(settings, topics)
    assert _positions(outputs) == [(0, n) for n in range(len(odd))] + [(1, 0), (1, 1)]
    assert {
        f"https://{t}.example/{n}" for n, t in enumerate(("nullkey", "nullheader", "epoch", "zero", "notime"))
    } <= _urls(outputs)
    raw = {(r.partition, r.offset): r for r in records_to_end(settings, topics.input_topic)}
    if timestamp_type == "CreateTime":  # the odd timestamps are on the log as sent
        assert [raw[(0, 5)].timestamp, raw[(0, 6)].timestamp, raw[(1, 0)].timestamp] == [1, 0, -1]
    for letter in outputs["dlq"]:
        position = (letter["source_position"]["partition"], letter["source_position"]["offset"])
        assert letter["message"]  # a reason
        assert letter["original"] == (raw[position].value or b"")
        assert letter["original_is_null"] is (raw[position].value is None)  # a tombstone is not b""
        assert letter["original_key"] == raw[position].key


def test_a_codec_that_cannot_be_decoded_stops_the_stream_at_start_naming_it(kafka_broker, topics, tmp_path):
    hidden = tmp_path / "hidden"
    hidden.mkdir()
    (hidden / "lz4.py").write_text("raise ImportError('hidden by the test')\n")  # as if lz4 were missing
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(hidden), os.getcwd()])}
    done = newsflow(
        "stream", "--bootstrap-servers", kafka_broker.bootstrap, *topic_flags(topics),
        "--idle-timeout", "8", env=env, timeout=120,
    )  # fmt: skip
    last = failure_line(done, 9)
    assert "lz4 (pip install lz4)" in last["error"], last
    assert "snappy" not in last["error"]
