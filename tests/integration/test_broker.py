"""The local broker for real: topics, a round trip, data surviving stops and crashes, TLS and mutual TLS."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import KafkaError

from pipelines.devkafka import broker
from pipelines.devkafka.broker import BrokerConfig, BrokerError, LocalBroker
from pipelines.devkafka.tls import TlsMaterial
from pipelines.options import Topics
from transforms.settings import KafkaSettings

pytestmark = pytest.mark.integration


def produce(settings: KafkaSettings, topic: str, *values: bytes) -> None:
    producer = KafkaProducer(**settings.producer_kwargs())
    try:
        for value in values:
            producer.send(topic, value=value, key=value).get(timeout=30)
    finally:
        producer.close()


def read_all(settings: KafkaSettings, topic: str, expected: int, timeout: float = 30.0) -> list[bytes]:
    """Every value in the topic from the beginning, once ``expected`` arrived or the time is up."""
    consumer = KafkaConsumer(**settings.consumer_kwargs(None))
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic))]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        values: list[bytes] = []
        deadline = time.monotonic() + timeout
        while len(values) < expected and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=500).values():
                values.extend(r.value for r in records)
        return sorted(values)
    finally:
        consumer.close()


def refuses(settings: KafkaSettings) -> bool:
    """Whether a client with these settings cannot even bootstrap (e.g. its TLS handshake fails)."""
    try:
        KafkaAdminClient(**settings.client_kwargs(), bootstrap_timeout_ms=3000).close()
    except KafkaError:
        return True
    return False


def test_up_creates_the_pipeline_topics_with_four_partitions(kafka_broker: LocalBroker) -> None:
    state = kafka_broker.status()
    assert state.running and state.bootstrap == kafka_broker.bootstrap
    assert state.ssl_bootstrap == kafka_broker.ssl_bootstrap
    assert kafka_broker.port != 9092
    assert {name: state.topics.get(name) for name in Topics().all()} == dict.fromkeys(Topics().all(), 4)


def test_topics_fixture_gives_each_test_empty_topics_of_its_own(
    kafka_broker: LocalBroker, topics: Topics
) -> None:
    assert not set(topics.all()) & set(Topics().all())
    existing = kafka_broker.status().topics
    assert {name: existing.get(name) for name in topics.all()} == dict.fromkeys(topics.all(), 4)
    assert read_all(kafka_broker.settings(), topics.input_topic, expected=1, timeout=1.0) == []


def test_round_trip_over_plaintext(kafka_broker: LocalBroker, topics: Topics) -> None:
    produce(kafka_broker.settings(), topics.input_topic, b"one", b"two", b"three")
    assert read_all(kafka_broker.settings(), topics.input_topic, expected=3) == [b"one", b"three", b"two"]


def test_up_on_a_running_broker_only_adds_missing_topics(kafka_broker: LocalBroker) -> None:
    pid = kafka_broker.status().pid
    name = f"extra-{time.monotonic_ns()}"
    state = broker.up(kafka_broker.port, kafka_broker.data_dir, partitions=2, topics=[name, "articles.raw"])
    assert state.pid == pid
    assert state.topics[name] == 2
    assert state.topics["articles.raw"] == 4, "an existing topic keeps its partitions"


def test_up_refuses_a_second_broker_on_the_same_data(kafka_broker: LocalBroker) -> None:
    with pytest.raises(BrokerError, match="already runs"):
        broker.up(broker.free_port(), kafka_broker.data_dir)


def test_messages_survive_a_clean_stop_and_start(kafka_broker: LocalBroker, topics: Topics) -> None:
    settings = kafka_broker.settings()
    produce(settings, topics.input_topic, b"before")
    pid = kafka_broker.status().pid
    with kafka_broker.stopped():
        assert not kafka_broker.status().running
        assert refuses(settings)
    state = kafka_broker.status()
    assert state.running and state.pid != pid and state.bootstrap == kafka_broker.bootstrap
    produce(settings, topics.input_topic, b"after")
    assert read_all(settings, topics.input_topic, expected=2) == [b"after", b"before"]


def test_acknowledged_messages_survive_a_crash(kafka_broker: LocalBroker, topics: Topics) -> None:
    settings = kafka_broker.settings()
    produce(settings, topics.output_topic, b"acked")
    assert kafka_broker.stop(force=True)
    assert not kafka_broker.status().running
    kafka_broker.start()
    assert read_all(settings, topics.output_topic, expected=1) == [b"acked"]


def test_round_trip_over_tls(kafka_broker: LocalBroker, kafka_tls: TlsMaterial, topics: Topics) -> None:
    settings = kafka_tls.client_settings(kafka_broker.ssl_bootstrap)
    produce(settings, topics.dlq_topic, b"secret")
    assert read_all(settings, topics.dlq_topic, expected=1) == [b"secret"]
    untrusting = KafkaSettings(bootstrap_servers=kafka_broker.ssl_bootstrap, security_protocol="SSL")
    assert refuses(untrusting), "a client that does not trust the test CA must not connect"


def test_mutual_tls_admits_only_clients_with_a_certificate_across_restarts(
    tmp_path: Path, kafka_tls: TlsMaterial
) -> None:
    ssl_port = broker.free_port()
    handle = LocalBroker.launch(
        tmp_path, topics=["m"], ssl=kafka_tls.listener(ssl_port, client_auth="required")
    )
    try:
        mutual = kafka_tls.client_settings(handle.ssl_bootstrap, mutual=True)
        produce(mutual, "m", b"with-cert")
        assert refuses(kafka_tls.client_settings(handle.ssl_bootstrap))
        handle.restart()  # the listener and its stores come back from the data dir's configuration
        assert read_all(mutual, "m", expected=1) == [b"with-cert"]
        assert refuses(kafka_tls.client_settings(handle.ssl_bootstrap))
    finally:
        handle.stop()


def test_a_broker_dying_at_start_up_is_reported_with_its_log(tmp_path: Path) -> None:
    config = BrokerConfig(port=broker.free_port(), controller_port=broker.free_port(), data_dir=tmp_path)
    (tmp_path / "server.properties").write_text(broker.render_properties(config))
    with pytest.raises(BrokerError, match="exited during start-up") as failure:
        broker.start(tmp_path, heap="1k", timeout=60)
    assert "Error occurred during initialization of VM" in str(failure.value)
    assert not broker.status(tmp_path).running
