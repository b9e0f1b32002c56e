"""Kafka clients kept per process, between bundles and between pipeline runs.

The local stream runs one Beam pipeline per micro-batch, and Beam sets its DoFns up and tears them down
with each run: a DoFn that made its own client paid, every batch, the connection before its first record
(version probe, metadata: about 0.2 s for a consumer; about 15 ms of CPU and 0.15 s for a producer). A
kept client is taken by one user at a time and given back when it is done; two users of the same settings
at once each get their own. A client whose last use failed is closed by its user, never given back.

Clients are kept per settings and per *scope* (a consumer's partition; nothing for a producer). Each kind
supplies only what differs: how a client is made, how a kept one is put where the user asks (a consumer is
sought to an offset), and how it is closed.
"""

from __future__ import annotations

import atexit
import threading
from collections import defaultdict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from kafka import KafkaConsumer, KafkaProducer

from transforms import kafka_compat

kafka_compat.install()  # a header key that is not UTF-8 must not stall a partition

C = TypeVar("C")


@dataclass(frozen=True)
class ClientKind(Generic[C]):
    """What one kind of client does differently: ``create(kwargs, scope, at)`` makes one placed at
    ``at``; ``position(client, scope, at)`` places a kept one there; ``close(client)`` closes one."""

    create: Callable[[dict[str, Any], Hashable, Any], C]
    position: Callable[[C, Hashable, Any], None]
    close: Callable[[C], None]


class ClientPool(Generic[C]):
    """Idle clients of one kind, per settings and scope."""

    def __init__(self, kind: ClientKind[C]) -> None:
        self.kind = kind
        self._idle: dict[tuple[str, Hashable], list[C]] = defaultdict(list)
        self._lock = threading.Lock()

    @staticmethod
    def key(kwargs: dict[str, Any], scope: Hashable = None) -> tuple[str, Hashable]:
        return repr(sorted(kwargs.items())), scope

    def take(self, kwargs: dict[str, Any], scope: Hashable = None, at: Any = None) -> C:
        """An idle client of these settings and scope placed at ``at``, else a new one. Raises as the
        client's constructor or placing does (a kept client that fails to be placed is closed)."""
        with self._lock:
            idle = self._idle.get(self.key(kwargs, scope))
            client = idle.pop() if idle else None
        if client is None:
            return self.kind.create(kwargs, scope, at)
        try:
            self.kind.position(client, scope, at)
        except Exception:
            self.kind.close(client)
            raise
        return client

    def give(self, kwargs: dict[str, Any], client: C, scope: Hashable = None) -> None:
        with self._lock:
            self._idle[self.key(kwargs, scope)].append(client)

    def idle(self, kwargs: dict[str, Any], scope: Hashable = None) -> list[C]:
        """The clients kept for these settings and scope, next taken last (what a test looks at)."""
        with self._lock:
            return list(self._idle.get(self.key(kwargs, scope), []))

    def close(self) -> None:
        with self._lock:
            clients = [c for idle in self._idle.values() for c in idle]
            self._idle.clear()
        for client in clients:
            self.kind.close(client)


def _new_consumer(kwargs: dict[str, Any], tp: Hashable, offset: Any) -> KafkaConsumer:
    consumer = KafkaConsumer(**kwargs)
    consumer.assign([tp])
    consumer.seek(tp, offset)
    return consumer


def _seek_consumer(consumer: KafkaConsumer, tp: Hashable, offset: Any) -> None:
    if consumer.position(tp) != offset:  # already there: the records it fetched ahead are kept
        consumer.seek(tp, offset)


CONSUMER = ClientKind[KafkaConsumer](
    create=_new_consumer,
    position=_seek_consumer,
    close=lambda consumer: consumer.close(autocommit=False),
)
"""A reader's consumer: scoped to one ``TopicPartition``, placed at an offset."""

PRODUCER = ClientKind[KafkaProducer](
    create=lambda kwargs, _scope, _at: KafkaProducer(**kwargs),
    position=lambda _producer, _scope, _at: None,
    close=lambda producer: producer.close(timeout=10),
)
"""A writer's producer: unscoped, nothing to place."""

READERS: ClientPool[KafkaConsumer] = ClientPool(CONSUMER)
WRITERS: ClientPool[KafkaProducer] = ClientPool(PRODUCER)
atexit.register(READERS.close)
atexit.register(WRITERS.close)
