"""Kafka reader consumers kept per process (the client pool): reused, positioned where asked, never shared by two
readers; one made ahead in the background is taken where it was placed."""

from __future__ import annotations

from kafka import KafkaProducer, TopicPartition

from pipelines.devkafka.broker import LocalBroker
from pipelines.options import Topics
from transforms.client_pool import CONSUMER, ClientPool


def test_a_given_back_reader_is_reused_at_the_asked_offset_and_concurrent_readers_differ(
    kafka_broker: LocalBroker, topics: Topics
):
    kwargs = _ten_values(kafka_broker, topics.input_topic, 1)
    tp = TopicPartition(topics.input_topic, 1)
    pool = ClientPool(CONSUMER)
    try:
        first = pool.take(kwargs, tp, 2)
        values = [r.value for r in first.poll(timeout_ms=5000).get(tp, [])]
        assert values[:1] == [b"2"]
        second = pool.take(kwargs, tp, 0)  # the first is still out: a reader of its own
        assert second is not first
        pool.give(kwargs, first, tp)
        again = pool.take(kwargs, tp, 5)
        assert again is first
        assert [r.value for r in again.poll(timeout_ms=5000).get(tp, [])][:1] == [b"5"]
        other = pool.take(kwargs, TopicPartition(topics.input_topic, 2), 0)
        assert other is not first
        pool.give(kwargs, again, tp)
        for consumer in (second, other):
            consumer.close(autocommit=False)
    finally:
        pool.close()


def test_a_reader_made_ahead_is_taken_at_its_offset_and_reads_from_there(
    kafka_broker: LocalBroker, topics: Topics
):
    kwargs = _ten_values(kafka_broker, topics.input_topic, 0)
    tp = TopicPartition(topics.input_topic, 0)
    pool = ClientPool(CONSUMER)
    try:
        pool.warm(kwargs, tp, 3).join(60)
        (made,) = pool.idle(kwargs, tp)
        assert made.position(tp) == 3, "connecting it left its position where it was placed"
        taken = pool.take(kwargs, tp, 3)
        assert taken is made
        assert [r.value for r in taken.poll(timeout_ms=5000).get(tp, [])][:1] == [b"3"]
        pool.give(kwargs, taken, tp)
    finally:
        pool.close()


def _ten_values(broker: LocalBroker, topic: str, partition: int) -> dict:
    """Produce b"0".."9" to one partition; the reader consumers' settings."""
    settings = broker.settings()
    producer = KafkaProducer(bootstrap_servers=settings.bootstrap_servers)
    for i in range(10):
        producer.send(topic, value=str(i).encode(), partition=partition)
    producer.flush()
    producer.close()
    return settings.consumer_kwargs(None)
