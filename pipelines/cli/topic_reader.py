"""Read whole topics from the beginning to their end: what `newsflow consume`, the tests and the benchmarks
use to see what a pipeline wrote. Never joins or commits to a consumer group."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from kafka import KafkaConsumer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord

from pipelines.failures import unknown_topic
from transforms import kafka_compat
from transforms.settings import KafkaSettings

kafka_compat.install()  # read records whose header keys are not UTF-8, as Java's client does


def records_to_end(
    settings: KafkaSettings, topics: str | Iterable[str], *, follow: bool = False
) -> Iterator[ConsumerRecord]:
    """Every record of ``topics`` (all partitions) from the beginning to the end offsets read at the start,
    or forever with ``follow``. A missing topic raises :class:`~pipelines.failures.UnknownTopic`."""
    names = [topics] if isinstance(topics, str) else list(topics)
    consumer = KafkaConsumer(**settings.consumer_kwargs(None))
    try:
        tps = []
        for name in names:
            partitions = consumer.partitions_for_topic(name)
            if not partitions:
                raise unknown_topic(name, consumer.topics(), settings.bootstrap_servers)
            tps += [TopicPartition(name, p) for p in sorted(partitions)]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        end = consumer.end_offsets(tps)
        while follow or any(consumer.position(tp) < end[tp] for tp in tps):
            for records in consumer.poll(timeout_ms=1000).values():
                yield from records
    finally:
        consumer.close(autocommit=False)
