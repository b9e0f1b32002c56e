"""The dedup index's changelog: every index write mirrored to a compacted Kafka topic.

The SQLite file under ``--state-dir`` is the index the rule reads; the topic
``<group id>-dedup-changelog`` is its backup, as Kafka Streams backs a RocksDB store with a changelog.
Compaction keeps each record key's latest value and a dropped key's record is a tombstone, so the topic
holds what the store holds (per pack of keys, below). A wiped or new state dir
is rebuilt from it (:mod:`transforms.dedup.restore`).

Packs: one record per surviving article, not one per index key. An article's index writes (its URL, content
hash, 14 band keys and shingle sample: 17 keys) go out as one record keyed by a *pack* id
(:data:`PACK_PREFIX` and a digest of the article's keys, so a batch retried writes the same records), whose
value lists them (:func:`encode_pack`); the SQLite row of each key names the pack that holds it. 17 sends
per article were 15% of the stream process's main thread. Compaction keeps a pack's latest record, so that
record must always hold exactly the keys the pack holds now: when a later article takes over one of its
keys, or an expiry drops one, the pack is written again with what it still holds (or tombstoned when it
holds nothing), and a restore drops a key whose pack's latest record no longer lists it. Keys written one
record each (a topic from before packs, or a seeded index) still restore; once such a key moves into a
pack, its own record is tombstoned first, so compaction cannot leave its old value behind.

Ordering (why a restored index is never behind the committed offsets): :class:`ChangelogStore` sends each
write as the store makes it (batched until the flush, :data:`BATCHED`), and holds the SQLite writes in one
transaction; :meth:`ChangelogStore.flush` commits that and waits for every send of the micro-batch
(acks from all in-sync replicas) before the dedup step hands the batch on. The batch's outputs are
acknowledged, and its offsets committed, only after that; a failed send fails the batch, which is re-read.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from transforms.client_pool import WRITERS
from transforms.dedup.store import SqliteStore
from transforms.settings import KafkaSettings

FORMAT = 1
"""First byte of a key's own record's value: the layout below, so a later layout can be told apart."""
PACK_FORMAT = 2
"""First byte of a pack's value (:func:`encode_pack`)."""
PACK_PREFIX = b"\x00pack"
"""How a pack's record key starts: no index key does (they start with a letter naming their kind)."""
_ENTRY = struct.Struct(">HIL")  # key length, newest second, blob length

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


def pack_key(keys: Iterable[bytes]) -> bytes:
    """The record key of the pack of these index keys (one article's): the same keys, the same pack."""
    digest = hashlib.blake2b(digest_size=16)
    for key in sorted(keys):
        digest.update(len(key).to_bytes(2, "big") + key)
    return PACK_PREFIX + digest.digest()


def is_pack(key: bytes) -> bool:
    return key.startswith(PACK_PREFIX)


def encode_pack(rows: Iterable[tuple[bytes, bytes, int]]) -> bytes:
    """A pack's value: format byte, then per ``(key, blob, newest)``: key length (2 bytes), newest second
    (4), blob length (4), key, blob."""
    parts = [bytes([PACK_FORMAT])]
    for key, blob, newest in rows:
        parts += (_ENTRY.pack(len(key), newest, len(blob)), key, blob)
    return b"".join(parts)


def decode_pack(value: bytes) -> list[tuple[bytes, bytes, int]]:
    """The ``(key, blob, newest)`` a pack's value lists."""
    if not value or value[0] != PACK_FORMAT:
        raise ValueError(f"not a dedup changelog pack of format {PACK_FORMAT} ({len(value)} bytes)")
    rows, pos = [], 1
    while pos < len(value):
        if pos + _ENTRY.size > len(value):
            raise ValueError("a dedup changelog pack cut short")
        key_len, newest, blob_len = _ENTRY.unpack_from(value, pos)
        pos += _ENTRY.size
        end = pos + key_len + blob_len
        if end > len(value):
            raise ValueError("a dedup changelog pack cut short")
        rows.append((value[pos : pos + key_len], value[pos + key_len : end], newest))
        pos = end
    return rows


BATCHED = {"linger_ms": 500, "batch_size": 1 << 20}
"""The changelog producer's batching (measured when each key had its record): about 17 records per surviving article, gathered for up to 0.5 s (or
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
        """One article's keys, in one pack record; a pack that held some of them before is written again
        with what it still holds, and a key that had its own record gets its tombstone (sent first: a
        restore reads the log in order)."""
        if not items:
            return
        self.store.hold()
        pack = pack_key(key for key, _, _ in items)
        before = self.store.packs_of([key for key, _, _ in items])
        for key, old in before.items():
            if old is None:
                self._send(key, None)
        self.store.put_many(items, pack=pack)
        for old in sorted({old for old in before.values() if old is not None and old != pack}):
            self._publish(old)
        if pack in before.values():  # it held keys before (an article decided again): all it holds now
            self._publish(pack)
        else:
            self._send(pack, encode_pack(items))

    def expire(self, before_s: int) -> int:
        """Drop the keys idle since ``before_s``: a key's own record is tombstoned, a pack written again
        with what it still holds (tombstoned if nothing)."""
        self.store.hold()
        dropped = self.store.expire_packed(before_s)
        packs = set()
        for key, pack in dropped:
            if pack is None:
                self._send(key, None)
            else:
                packs.add(pack)
        for pack in sorted(packs):
            self._publish(pack)
        return len(dropped)

    def _publish(self, pack: bytes) -> None:
        """The pack's record as it stands: every key it holds now, or its tombstone."""
        rows = self.store.in_pack(pack)
        self._send(pack, encode_pack(rows) if rows else None)

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
