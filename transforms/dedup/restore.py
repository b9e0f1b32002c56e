"""Before the first micro-batch: make the state dir's dedup index and its changelog topic agree.

Three cases, decided by :func:`plan` from the state dir alone:

* ``restore``: no index (a new or wiped state dir), or a restore that did not finish. The changelog is
  read from the beginning to the end offsets it had when the restore began and replayed into SQLite
  (latest value per key wins; tombstones delete). Progress is logged every few seconds.
* ``seed``: an index that no changelog backs yet (a state dir from before the changelog, or one moved to
  another group's topic). Every row is produced to the changelog, so a later wipe loses nothing.
* ``none``: the index is the changelog's own (the marker file says so, and that its restore finished).

The marker (``dedup-changelog.json``) names the topic and whether the restore finished; it is written
before a restore starts and again when it ends, so a restore cut short by a crash starts over.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import structlog
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType, NewTopic
from kafka.errors import KafkaError, OffsetOutOfRangeError, TopicAlreadyExistsError

from transforms.dedup.changelog import TOPIC_CONFIG, Changelog, decode, decode_pack, encode, is_pack
from transforms.dedup.store import DB_NAME, SqliteStore
from transforms.kafka_io import log_start_past, reader_kwargs, report_lost
from transforms.settings import KafkaSettings

log = structlog.get_logger(__name__)

MARKER = "dedup-changelog.json"
APPLY_EVERY = 5_000
"""Changelog records folded into one SQLite transaction during a restore."""


@dataclass(frozen=True)
class Restored:
    """What a restore replayed: records read, keys written and tombstones applied, how long it took, and
    whether it reached the end (a stop request ends it early; the next start restores again), and how many
    changelog offsets were deleted under it before they were read (index entries lost)."""

    records: int
    keys: int
    deleted: int
    seconds: float
    complete: bool = True
    lost: int = 0


def ensure_topic(admin: KafkaAdminClient, topic: str, partitions: int = 1) -> bool:
    """Create the changelog topic (compacted, the broker's replication factor) if it is missing; whether
    it was created. An existing topic that is not compacted is kept, with a warning: retention would then
    drop index entries that a restore needs."""
    if topic in admin.list_topics():
        _warn_unless_compacted(admin, topic)
        return False
    try:
        admin.create_topics(
            [NewTopic(topic, partitions, -1, topic_configs=dict(TOPIC_CONFIG))], wait_for_metadata=True
        )
    except TopicAlreadyExistsError:  # another instance created it in between
        return False
    log.info("dedup_changelog_created", topic=topic, partitions=partitions, **TOPIC_CONFIG)
    return True


def _warn_unless_compacted(admin: KafkaAdminClient, topic: str) -> None:
    try:
        described = admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, topic)], config_filter="all"
        )
    except KafkaError as exc:  # DESCRIBE_CONFIGS is not needed to run; the check is skipped without it
        log.debug("dedup_changelog_config_unknown", topic=topic, error=type(exc).__name__)
        return
    policy = _config_value(described, "cleanup.policy")
    if policy is not None and "compact" not in policy:
        log.warning(
            "dedup_changelog_not_compacted",
            topic=topic,
            cleanup_policy=policy,
            fix=f"kafka-configs.sh --alter --entity-type topics --entity-name {topic} "
            "--add-config cleanup.policy=compact",
        )


def _config_value(described: dict, name: str) -> str | None:
    """One value from kafka-python's ``{"topic": {name: {config: {"value": ...}}}}``."""
    for configs in described.get("topic", {}).values():
        if name in configs:
            return configs[name].get("value")
    return None


def plan(state_dir: str | Path, topic: str) -> str:
    """``"restore"``, ``"seed"`` or ``"none"`` for this state dir and changelog topic (see the module doc)."""
    state = Path(state_dir)
    marker = read_marker(state)
    if not (state / DB_NAME).exists():
        return "restore"
    if marker is None or marker.get("topic") != topic:
        return "seed"
    return "none" if marker.get("complete") else "restore"


def read_marker(state_dir: Path) -> dict | None:
    try:
        return json.loads((state_dir / MARKER).read_text())
    except (FileNotFoundError, ValueError):
        return None


def write_marker(state_dir: Path, topic: str, *, complete: bool) -> None:
    """Atomically: a crash leaves the old marker or the new one, never half of one."""
    state_dir.mkdir(parents=True, exist_ok=True)
    tmp = state_dir / (MARKER + ".tmp")
    tmp.write_text(json.dumps({"topic": topic, "complete": complete}))
    os.replace(tmp, state_dir / MARKER)


def replay(records: Iterable[tuple[bytes, bytes | None]], store: SqliteStore) -> tuple[int, int]:
    """Apply changelog ``(key, value)`` records, in log order, to ``store`` (which holds what the records
    before them made): the last record naming a key wins. A key's own record sets it (a tombstone deletes
    it); a pack's record sets each key it lists and deletes each key it held before and no longer lists (a
    pack's tombstone: every key it held), unless a later record took that key over. Keys written and keys
    deleted."""
    latest: dict[bytes, tuple[bytes, int, bytes | None] | None] = {}  # key -> (blob, newest, pack) | gone
    held: dict[bytes, set[bytes]] = {}  # pack -> keys its records listed (some since taken over)

    def pack_now(key: bytes) -> bytes | None:
        if key in latest:
            row = latest[key]
            return None if row is None else row[2]
        return store.packs_of([key]).get(key)

    for key, value in records:
        if not is_pack(key):
            decoded = decode(value)
            latest[key] = None if decoded is None else (*decoded, None)
            continue
        rows = decode_pack(value) if value is not None else []
        before = held[key] if key in held else {k for k, _, _ in store.in_pack(key)}
        listed = {k for k, _, _ in rows}
        for gone in before - listed:
            if pack_now(gone) == key:
                latest[gone] = None
        for k, blob, newest in rows:
            latest[k] = (blob, newest, key)
        held[key] = listed
    puts = [(k, v[0], v[1], v[2]) for k, v in latest.items() if v is not None]
    deletes = [k for k, v in latest.items() if v is None]
    if puts:
        store.put_packed(puts)
    if deletes:
        store.delete_many(deletes)
    return len(puts), len(deletes)


class Progress:
    """A ``dedup_restore_progress`` line every ``every_s`` seconds: records so far, of how many, and the rate."""

    def __init__(self, total: int, every_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.total = total
        self.every_s = every_s
        self.clock = clock
        self.started = self.last = clock()

    def update(self, done: int) -> None:
        now = self.clock()
        if now - self.last >= self.every_s:
            self.last = now
            elapsed = max(now - self.started, 1e-9)
            log.info(
                "dedup_restore_progress",
                records=done,
                of=self.total,
                percent=round(100 * done / max(self.total, 1), 1),
                per_s=round(done / elapsed),
                eta_s=round((self.total - done) * elapsed / max(done, 1), 1),
            )


def restore(
    kafka: KafkaSettings,
    topic: str,
    store: SqliteStore,
    *,
    progress_every_s: float = 5.0,
    stopping: Callable[[], bool] = lambda: False,
) -> Restored:
    """Replay the whole changelog (to the end offsets it has now) into ``store``, unless ``stopping()``."""
    started = time.monotonic()
    consumer = KafkaConsumer(**{**reader_kwargs(kafka), "max_poll_records": APPLY_EVERY})
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        ends = consumer.end_offsets(partitions)
        starts = consumer.beginning_offsets(partitions)
        total = sum(ends[tp] - starts[tp] for tp in partitions)
        log.info("dedup_restore_start", topic=topic, records_at_most=total, partitions=len(partitions))
        progress = Progress(total, progress_every_s)
        todo = {tp for tp in partitions if ends[tp] > starts[tp]}
        records = keys = deleted = lost = 0
        with store.bulk():
            while todo and not stopping():
                batch: list[tuple[bytes, bytes | None]] = []
                try:
                    polled = consumer.poll(timeout_ms=1000)
                except OffsetOutOfRangeError as exc:
                    lost += read_on_from_log_start(consumer, exc.args[0] if exc.args else {})
                    continue
                for tp, got in polled.items():
                    batch.extend((r.key, r.value) for r in got if r.offset < ends[tp])
                for tp in list(todo):
                    if consumer.position(tp) >= ends[tp]:
                        todo.discard(tp)
                put, dropped = replay(batch, store)
                records, keys, deleted = records + len(batch), keys + put, deleted + dropped
                progress.update(records)
    finally:
        consumer.close(autocommit=False)
    done = Restored(
        records, keys, deleted, round(time.monotonic() - started, 2), complete=not todo, lost=lost
    )
    (log.warning if lost else log.info)(
        "dedup_restored" if done.complete else "dedup_restore_stopped",
        topic=topic,
        records=done.records,
        keys_written=done.keys,
        tombstones=done.deleted,
        seconds=done.seconds,
        per_s=round(done.records / max(done.seconds, 1e-3)),
        records_lost=lost,
        **({"note": "index entries lost: copies of the articles they held may pass as new"} if lost else {}),
    )
    return done


def read_on_from_log_start(consumer: KafkaConsumer, positions: dict[TopicPartition, int]) -> int:
    """The restore's positions in ``positions`` are no longer on the changelog: retention or delete-records
    took them before they were read. Each is named and counted as the stream's reader does
    (``kafka_offsets_lost``) and reading goes on from the log start; how many offsets were lost. Before,
    the consumer's ``latest`` reset moved the restore to the log end: the rest of the index was skipped,
    silently. A position past the log end (the topic made again) cannot be read on from: it raises."""
    lost = 0
    for tp, position in positions.items():
        start = log_start_past(consumer, tp, position)
        report_lost(tp, position, start, "dedup restore")
        consumer.seek(tp, start)
        lost += start - position
    return lost


def seed(kafka: KafkaSettings, topic: str, store: SqliteStore) -> int:
    """Produce every row of ``store`` to the changelog (an index no changelog backs yet); rows sent."""
    producer = KafkaProducer(**kafka.producer_kwargs())
    sent = 0
    store.unpack_all()  # the packs of another topic are not on this one: each key its own record
    try:
        for rows in store.rows():
            futures = [
                producer.send(topic, key=key, value=encode(blob, newest)) for key, blob, newest in rows
            ]
            producer.flush(timeout=120)
            for future in futures:
                future.get(timeout=0)  # raises a delivery error: the marker is then not written
            sent += len(rows)
    finally:
        producer.close(timeout=10)
    log.info("dedup_changelog_seeded", topic=topic, keys=sent)
    return sent


def prepare(
    kafka: KafkaSettings,
    changelog: Changelog,
    state_dir: str | Path,
    stopping: Callable[[], bool] = lambda: False,
) -> str:
    """Bring ``state_dir``'s index and the changelog into agreement (see the module doc); the case taken.
    A restore ended by ``stopping()`` leaves the marker unfinished, so the next start restores again."""
    state = Path(state_dir)
    case = plan(state, changelog.topic)
    if case == "none":
        return case
    store = SqliteStore(state)
    try:
        if case == "restore":
            write_marker(state, changelog.topic, complete=False)
            if not restore(kafka, changelog.topic, store, stopping=stopping).complete:
                return case
        else:
            seed(kafka, changelog.topic, store)
    finally:
        store.close()
    write_marker(state, changelog.topic, complete=True)
    return case
