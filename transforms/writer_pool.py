"""Kafka producers kept per process, between pipeline runs.

Beam sets a DoFn up and tears it down with each pipeline run, and the local stream runs one pipeline per
micro-batch: a writer that made its own producer paid, every batch, about 15 ms of CPU and 0.15 s of wall
time to connect (version probe, metadata) before its first record. A kept producer is taken by one writer
at a time and given back when it is torn down; one that failed a delivery is closed, never given back.
"""

from __future__ import annotations

import atexit
import threading
from collections import defaultdict
from typing import Any

from kafka import KafkaProducer


class WriterPool:
    def __init__(self) -> None:
        self._idle: dict[str, list[KafkaProducer]] = defaultdict(list)
        self._lock = threading.Lock()

    @staticmethod
    def key(kwargs: dict[str, Any]) -> str:
        return repr(sorted(kwargs.items()))

    def take(self, kwargs: dict[str, Any]) -> KafkaProducer:
        """An idle producer of these settings, else a new one (raising as ``KafkaProducer`` does)."""
        with self._lock:
            idle = self._idle.get(self.key(kwargs))
            producer = idle.pop() if idle else None
        return producer if producer is not None else KafkaProducer(**kwargs)

    def give(self, kwargs: dict[str, Any], producer: KafkaProducer) -> None:
        with self._lock:
            self._idle[self.key(kwargs)].append(producer)

    def close(self) -> None:
        with self._lock:
            producers = [p for idle in self._idle.values() for p in idle]
            self._idle.clear()
        for producer in producers:
            producer.close(timeout=10)


WRITERS = WriterPool()
atexit.register(WRITERS.close)
