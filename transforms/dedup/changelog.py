"""The dedup index's changelog: every index write mirrored to a compacted Kafka topic.

The SQLite file under ``--state-dir`` is the index the rule reads; the topic
``<group id>-dedup-changelog`` is its backup, as Kafka Streams backs a RocksDB store with a changelog.
Each record is keyed by the index key, so compaction keeps exactly the key's latest blob, and a key the
store expires is written as a tombstone, so the topic holds what the store holds. A wiped or new state dir
is rebuilt from it (:mod:`transforms.dedup.restore`).

Ordering (why a restored index is never behind the committed offsets): :class:`ChangelogStore` sends each
write as the store makes it (batched until the flush, :data:`BATCHED`), and holds the SQLite writes in one
transaction; :meth:`ChangelogStore.flush` commits that and waits for every send of the micro-batch
(acks from all in-sync replicas) before the dedup step hands the batch on. The batch's outputs are
acknowledged, and its offsets committed, only after that; a failed send fails the batch, which is re-read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from transforms.client_pool import WRITERS
from transforms.dedup.store import SqliteStore
from transforms.settings import KafkaSettings

FORMAT = 1
"""First byte of every non-tombstone value: the layout below, so a later layout can be told apart."""

TOPIC_CONFIG = {
    "cleanup.policy": "compact",
    "segment.ms": str(24 * 3600 * 1000),  # compaction only cleans closed segments: roll them daily
    "min.cleanable.dirty.ratio": "0.5",
}
"""The config a changelog topic is created with (and what the restore checks an existing one for)."""


def changelog_topic(group_id: str) -> str:
    """The changelog of a consumer group's index: the group id names the application, as in Kafka Streams."""
    return f"{group_id}-dedup-changelog"


def encode(blob: bytes, newest_s: int) -> bytes:
    """A changelog value: format byte, newest arrival second (4 bytes, big-endian), the key's blob."""
    return bytes([FORMAT]) + newest_s.to_bytes(4, "big") + blob


def decode(value: bytes | None) -> tuple[bytes, int] | None:
    """``(blob, newest second)`` of a changelog value; ``None`` for a tombstone (the key was expired)."""
    if value is None:
        return None
    if len(value) < 5 or value[0] != FORMAT:
        raise ValueError(f"not a dedup changelog value of format {FORMAT} ({len(value)} bytes)")
    return value[5:], int.from_bytes(value[1:5], "big")


BATCHED = {"linger_ms": 500, "batch_size": 1 << 20}
"""The changelog producer's batching: about 17 records per surviving article, gathered for up to 0.5 s (or
1 MB) into one request, not one each 5 ms. Measured on 8,500 sends (a 500-article batch): 0.8 s of the
stream process's CPU with the default producer, 0.24 s held to the flush and with the partition named.
Not held to :meth:`ChangelogStore.flush` itself: then the whole batch's records went out at its end, in
the serial step that the batch's commit (and, with one worker, the next batch) waits for. 8,500 sends
spread over 5 s, against a local broker on the loaded 2-core machine: held to the flush, 0.26 to 0.27 s of
CPU and 11 to 95 ms of flush; held 0.5 s, 0.27 to 0.30 s and 3 to 7 ms (0.1 s: 0.30 to 0.33 s, 5 ms)."""


@dataclass(frozen=True)
class Changelog:
    """Where a store mirrors its writes (picklable: it travels in the Beam DoFn)."""

    kafka: KafkaSettings
    topic: str


class ChangelogStore:
    """A :class:`SqliteStore` whose writes and expiries are also produced to the changelog topic.

    Reads go to SQLite only (which sees the writes not yet committed). Sends are asynchronous; :meth:`flush`
    commits the writes and makes the sends durable, raises the first delivery error, and is called once per
    micro-batch (see the module doc for why that ordering holds).
    """

    def __init__(self, store: SqliteStore, changelog: Changelog, producer: Any | None = None) -> None:
        self.store = store
        self.topic = changelog.topic
        # Unless one is given, the producer is kept in the process between micro-batches (each sets up a new
        # store): a new producer cost every batch its connection before the first send.
        self._settings = {**changelog.kafka.producer_kwargs(), **BATCHED}
        self._pooled = producer is None
        self.producer = WRITERS.take(self._settings) if producer is None else producer
        self._failed = False
        self._pending: list[Any] = []
        self._partition: int | None = None
        self._partition_known = False

    def _send(self, key: bytes, value: bytes | None) -> None:
        if not self._partition_known:
            self._partition_known = True
            # One partition (the topic as created here): name it, which skips hashing every key to find it.
            if self.producer.partitions_for(self.topic) == {0}:
                self._partition = 0
        self._pending.append(self.producer.send(self.topic, key=key, value=value, partition=self._partition))

    def get_many(self, keys: Sequence[bytes]) -> list[bytes | None]:
        return self.store.get_many(keys)

    def put_many(self, items: Sequence[tuple[bytes, bytes, int]]) -> None:
        self.store.hold()
        self.store.put_many(items)
        for key, blob, newest in items:
            self._send(key, encode(blob, newest))

    def expire(self, before_s: int) -> int:
        self.store.hold()
        dropped = self.store.expire_keys(before_s)
        for key in dropped:
            self._send(key, None)
        return len(dropped)

    def size(self) -> tuple[int, int]:
        return self.store.size()

    def flush(self, timeout: float = 120.0) -> int:
        """Commit the writes so far to SQLite (held since the first: one transaction per micro-batch) and
        wait until every one is on the changelog; how many were; raises a delivery error."""
        self.store.commit()
        pending, self._pending = self._pending, []
        if pending:
            try:
                self.producer.flush(timeout=timeout)
                for future in pending:
                    future.get(timeout=0)
            except BaseException:
                self._failed = True  # not kept: the retry starts on a new producer
                raise
        return len(pending)

    def close(self) -> None:
        try:
            self.flush()
        finally:
            if self._pooled and not self._failed:
                WRITERS.give(self._settings, self.producer)
            else:
                self.producer.close(timeout=10)
            self.store.close()
