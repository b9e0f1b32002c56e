"""Kafka reader consumers kept per process, between bundles and between pipeline runs.

A new consumer costs about 0.2 s before its first records (connection, version probe, metadata); a kept one
has them in milliseconds. The local stream runs one pipeline per micro-batch and reads each partition in
each of them, so without a pool every batch of a 4-partition topic paid most of a second just to connect.
A consumer is taken for one poll and given back after it; two readers of the same partition at once (a
split range on two threads) each get their own.
"""

from __future__ import annotations

import atexit
import threading
from collections import defaultdict
from typing import Any

from kafka import KafkaConsumer, TopicPartition

Key = tuple[str, str, int]  # client settings, topic, partition


class ReaderPool:
    def __init__(self) -> None:
        self._idle: dict[Key, list[KafkaConsumer]] = defaultdict(list)
        self._lock = threading.Lock()

    @staticmethod
    def key(kwargs: dict[str, Any], tp: TopicPartition) -> Key:
        return repr(sorted(kwargs.items())), tp.topic, tp.partition

    def take(self, kwargs: dict[str, Any], tp: TopicPartition, offset: int) -> KafkaConsumer:
        """A consumer of ``tp`` positioned at ``offset``: an idle one (its records fetched ahead are kept
        when it is already there), else a new one. Raises like ``KafkaConsumer`` and ``seek``."""
        with self._lock:
            idle = self._idle.get(self.key(kwargs, tp))
            consumer = idle.pop() if idle else None
        if consumer is None:
            consumer = KafkaConsumer(**kwargs)
            consumer.assign([tp])
            consumer.seek(tp, offset)
            return consumer
        try:
            if consumer.position(tp) != offset:
                consumer.seek(tp, offset)
        except Exception:
            consumer.close(autocommit=False)
            raise
        return consumer

    def give(self, kwargs: dict[str, Any], tp: TopicPartition, consumer: KafkaConsumer) -> None:
        with self._lock:
            self._idle[self.key(kwargs, tp)].append(consumer)

    def close(self) -> None:
        with self._lock:
            consumers = [c for idle in self._idle.values() for c in idle]
            self._idle.clear()
        for consumer in consumers:
            consumer.close(autocommit=False)


READERS = ReaderPool()
atexit.register(READERS.close)
