"""Kafka clients kept per process, between bundles and between pipeline runs.

The local stream runs one Beam pipeline per micro-batch, and Beam sets its DoFns up and tears them down
with each run: a DoFn that made its own client paid, every batch, the connection before its first record
(version probe, metadata: about 0.2 s for a consumer; about 15 ms of CPU and 0.15 s for a producer). A
kept client is taken by one user at a time and given back when it is done; two users of the same settings
at once each get their own. A client whose last use failed is closed by its user, never given back.

Clients are kept per settings and per *scope* (a consumer's partition; nothing for a producer). Each kind
supplies only what differs: how a client is made, how a kept one is put where the user asks (a consumer is
sought to an offset), how it is closed, and how one made ahead is connected.

A client can also be made ahead, in the background (:meth:`ClientPool.warm`), so that its user does not
wait for it: a reader's first poll of a partition waited about 0.2 s for the connection to the partition's
leader, serially for each partition a batch reads.
"""

from __future__ import annotations

import atexit
import threading
from collections import defaultdict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import structlog
from kafka import KafkaConsumer, KafkaProducer

from transforms import kafka_compat

kafka_compat.install()  # a header key that is not UTF-8 must not stall a partition

log = structlog.get_logger(__name__)
C = TypeVar("C")
WARM_WAIT = 30.0
"""Longest a user waits for the client being made ahead for it (then it makes its own)."""


@dataclass(frozen=True)
class ClientKind(Generic[C]):
    """What one kind of client does differently: ``create(kwargs, scope, at)`` makes one placed at
    ``at``; ``position(client, scope, at)`` places a kept one there; ``close(client)`` closes one;
    ``connect(client, scope)`` does what its first use would wait for (made ahead, :meth:`ClientPool.warm`)."""

    create: Callable[[dict[str, Any], Hashable, Any], C]
    position: Callable[[C, Hashable, Any], None]
    close: Callable[[C], None]
    connect: Callable[[C, Hashable], None] = lambda _client, _scope: None


class ClientPool(Generic[C]):
    """Idle clients of one kind, per settings and scope."""

    def __init__(self, kind: ClientKind[C]) -> None:
        self.kind = kind
        self._idle: dict[tuple[str, Hashable], list[C]] = defaultdict(list)
        self._warming: dict[tuple[str, Hashable], threading.Event] = {}
        self._lock = threading.Lock()

    @staticmethod
    def key(kwargs: dict[str, Any], scope: Hashable = None) -> tuple[str, Hashable]:
        return repr(sorted(kwargs.items())), scope

    def take(self, kwargs: dict[str, Any], scope: Hashable = None, at: Any = None) -> C:
        """An idle client of these settings and scope placed at ``at``, else a new one. Raises as the
        client's constructor or placing does (a kept client that fails to be placed is closed). A client
        being made ahead for these settings and scope is waited for rather than made again."""
        key = self.key(kwargs, scope)
        with self._lock:
            warming = self._warming.get(key)
        if warming is not None:
            warming.wait(WARM_WAIT)
        with self._lock:
            idle = self._idle.get(key)
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

    def warm(self, kwargs: dict[str, Any], scope: Hashable = None, at: Any = None) -> threading.Thread | None:
        """Make a client of these settings and scope in the background, placed at ``at`` and connected,
        and keep it, unless one is kept or being made already; the thread making it, if any. A failure
        is only logged (at debug level): the user then makes its own and meets the error there."""
        key = self.key(kwargs, scope)
        with self._lock:
            if self._idle.get(key) or key in self._warming:
                return None
            made = self._warming[key] = threading.Event()

        def make() -> None:
            client = None
            try:
                client = self.kind.create(kwargs, scope, at)
                self.kind.connect(client, scope)
            except Exception as exc:  # noqa: BLE001 - the user makes its own and meets it there
                log.debug("client_warm_failed", scope=str(scope), error=type(exc).__name__)
                if client is not None:
                    self.kind.close(client)
                    client = None
            with self._lock:
                if client is not None:
                    self._idle[key].append(client)
                del self._warming[key]
            made.set()

        thread = threading.Thread(target=make, name=f"warm-{scope}", daemon=True)
        thread.start()
        return thread

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


def _connect_consumer(consumer: KafkaConsumer, tp: Hashable) -> None:
    """Connected to the partition's leader (a look at its end offset), its position left as it is."""
    consumer.end_offsets([tp])


CONSUMER = ClientKind[KafkaConsumer](
    create=_new_consumer,
    position=_seek_consumer,
    close=lambda consumer: consumer.close(autocommit=False),
    connect=_connect_consumer,
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
