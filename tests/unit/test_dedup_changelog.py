"""The dedup changelog's pure parts: record encoding, the mirror of every store write, the restore's replay
and its plan. The producer is a stand-in that records what would be sent (the broker side is
``tests/integration/test_dedup_state_wipe.py``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import structlog
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from transforms.dedup import Deduplicator, SqliteStore
from transforms.dedup.changelog import (
    FORMAT,
    PACK_FORMAT,
    Changelog,
    ChangelogStore,
    changelog_topic,
    decode,
    decode_pack,
    encode,
    encode_pack,
    is_pack,
)
from transforms.dedup.restore import Progress, plan, replay, write_marker
from transforms.records import Article, SourcePosition
from transforms.settings import KafkaSettings

TOPIC = "g-dedup-changelog"


class _Future:
    def __init__(self, error: Exception | None = None) -> None:
        self.error = error

    def get(self, timeout: float | None = None) -> None:
        if self.error:
            raise self.error


class RecordingProducer:
    """Keeps what a KafkaProducer would send, in send order; ``fail`` makes every send's delivery fail."""

    def __init__(self, fail: Exception | None = None) -> None:
        self.sent: list[tuple[str, bytes, bytes | None]] = []
        self.flushes = 0
        self.fail = fail

    def partitions_for(self, topic: str) -> set[int]:
        return {0}  # the changelog topic as the stream creates it

    def send(self, topic: str, *, key: bytes, value: bytes | None, partition: int | None = None) -> _Future:
        assert partition == 0, "one partition: named, not found by hashing each key"
        self.sent.append((topic, key, value))
        return _Future(self.fail)

    def flush(self, timeout: float | None = None) -> None:
        self.flushes += 1

    def close(self, timeout: float | None = None) -> None:
        pass


def mirror(tmp_path: Path, producer: RecordingProducer) -> ChangelogStore:
    return ChangelogStore(SqliteStore(tmp_path / "live"), Changelog(KafkaSettings(), TOPIC), producer)


def all_rows(store: SqliteStore) -> dict[bytes, tuple[bytes, int]]:
    return {k: (b, n) for rows in store.rows(chunk=3) for k, b, n in rows}


@given(blob=st.binary(max_size=2000), newest=st.integers(0, 2**32 - 1))
def test_encoding_round_trips(blob: bytes, newest: int) -> None:
    value = encode(blob, newest)
    assert value[0] == FORMAT and decode(value) == (blob, newest)


def test_a_tombstone_decodes_to_none_and_a_foreign_value_is_refused() -> None:
    assert decode(None) is None
    with pytest.raises(ValueError):
        decode(b"\x07abcdef")
    with pytest.raises(ValueError):
        decode(b"\x01ab")
    assert changelog_topic("newsflow") == "newsflow-dedup-changelog"


KEYS = st.sampled_from([b"u1", b"h1", b"h2", b"b1", b"b2", b"b3", b"s1", b"s2"])
"""Few keys, so articles share keys (a later article takes a key over from an earlier one's pack)."""
ops = st.lists(
    st.one_of(
        st.tuples(
            st.just("put"),
            st.lists(
                st.tuples(KEYS, st.binary(max_size=8), st.integers(0, 50)),
                max_size=5,
            ),
        ),
        st.tuples(st.just("expire"), st.integers(0, 60)),
    ),
    max_size=30,
)


def compacted(records: list[tuple[bytes, bytes | None]], cut: int, drop_tombstones: bool) -> list:
    """``records`` as Kafka's log cleaner may leave them: in the cleaned part (before ``cut``), a record
    whose key comes again there is gone, and so are tombstones once their retention passed; the rest as
    written."""
    head = records[:cut]
    last = {key: i for i, (key, _) in enumerate(head)}
    kept = [r for i, r in enumerate(head) if last[r[0]] == i and not (drop_tombstones and r[1] is None)]
    return kept + records[cut:]


def apply(live: ChangelogStore, ops: list) -> None:
    for op, arg in ops:
        if op == "put":
            latest = {k: (k, b, n) for k, b, n in arg}  # one article's keys are distinct
            live.put_many(list(latest.values()))
        else:
            live.expire(arg)


def restore_from(path: Path, records: list, chunk: int) -> SqliteStore:
    restored = SqliteStore(path)
    for start in range(0, len(records), chunk):
        replay(records[start : start + chunk], restored)
    return restored


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=ops, legacy=ops, chunk=st.integers(1, 7), cut=st.floats(0, 1), drop_tombstones=st.booleans())
def test_replaying_the_changelog_rebuilds_exactly_the_live_store(
    tmp_path_factory, ops, legacy, chunk, cut, drop_tombstones
) -> None:
    """Whatever writes and expiries the live store saw, replaying what was sent (in any chunking: a restore
    folds poll batches), whole or as compaction leaves it (any part of it cleaned, tombstones gone or not),
    gives the same rows and the same packs; also on a topic that began with a record per key (a changelog
    from before packs, or a seeded index)."""
    base = tmp_path_factory.mktemp("replay")
    producer = RecordingProducer()
    live = mirror(base, producer)
    for op, arg in legacy:  # the same writes, one record per key, as the changelog was before packs
        if op == "put":
            rows = list({k: (k, b, n) for k, b, n in arg}.values())
            live.store.put_many(rows)
            producer.sent += [(TOPIC, k, encode(b, n)) for k, b, n in rows]
        else:
            producer.sent += [(TOPIC, k, None) for k in live.store.expire_keys(arg)]
    apply(live, ops)
    live.flush()
    records = [(key, value) for topic, key, value in producer.sent if topic == TOPIC]
    whole = restore_from(base / "whole", records, chunk)
    assert all_rows(whole) == all_rows(live.store)
    cleaned = compacted(records, round(cut * len(records)), drop_tombstones)
    restored = restore_from(base / "compacted", cleaned, chunk)
    assert all_rows(restored) == all_rows(live.store)
    packs = "SELECT key, pack FROM idx ORDER BY key"
    assert restored._db.execute(packs).fetchall() == live.store._db.execute(packs).fetchall()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=ops)
def test_every_pack_record_holds_exactly_what_its_pack_holds(tmp_path_factory, ops) -> None:
    """The invariant compaction relies on: a pack's latest record lists each key the store says it holds,
    with its current blob, and nothing else; a key of no pack is the latest of its own record."""
    base = tmp_path_factory.mktemp("packs")
    producer = RecordingProducer()
    live = mirror(base, producer)
    apply(live, ops)
    live.flush()
    latest = {key: value for _, key, value in producer.sent}
    held: dict[bytes, set] = {}
    for key, blob, newest, pack in live.store._db.execute("SELECT key, blob, newest, pack FROM idx"):
        held.setdefault(pack, set()).add((key, blob, newest))
    assert None not in held
    for key, value in latest.items():
        assert is_pack(key)
        assert set(decode_pack(value) if value else []) == held.get(key, set())


@given(rows=st.lists(st.tuples(st.binary(max_size=300), st.binary(max_size=2000), st.integers(0, 2**32 - 1))))
def test_a_pack_round_trips(rows: list) -> None:
    value = encode_pack(rows)
    assert value[0] == PACK_FORMAT and decode_pack(value) == rows
    if rows:
        with pytest.raises(ValueError):
            decode_pack(value[:-1])


def test_flush_raises_a_failed_delivery_and_counts_what_it_waited_for(tmp_path: Path) -> None:
    ok = mirror(tmp_path / "ok", RecordingProducer())
    ok.put_many([(b"a", b"x", 1), (b"b", b"y", 2)])
    assert ok.flush() == 1 and ok.flush() == 0  # one article's keys, one pack
    failing = mirror(tmp_path / "bad", RecordingProducer(fail=RuntimeError("broker gone")))
    failing.put_many([(b"a", b"x", 1)])
    with pytest.raises(RuntimeError, match="broker gone"):
        failing.flush()


def test_the_deduplicator_through_the_mirror_sends_every_survivors_keys_and_no_duplicates(tmp_path: Path):
    t0 = datetime(2026, 5, 1, tzinfo=UTC)
    body = " ".join(f"Sentence {i} tells of the harbour and the vote of {i * 3} members." for i in range(40))
    producer = RecordingProducer()
    dedup = Deduplicator(store=mirror(tmp_path, producer))

    def art(aid: str, url: str, minutes: int) -> Article:
        pos = SourcePosition("articles.raw", 0, minutes)
        return Article(
            id=aid,
            body=body,
            canonical_url=url,
            fetched_at=t0 + timedelta(minutes=minutes),
            source_position=pos,
        )

    _, first = dedup.check(art("a" * 32, "https://a.example/1", 0))
    sent = len(producer.sent)
    _, copy = dedup.check(art("b" * 32, "https://b.example/2", 1))
    assert first is None and copy is not None and copy.method == "exact"
    # url + hash + 14 bands + the shingle sample in one record; a duplicate writes nothing
    assert sent == 1 and len(producer.sent) == sent
    assert len(decode_pack(producer.sent[0][2])) == 2 + 14 + 1


def test_plan_restores_a_new_or_unfinished_index_and_seeds_one_no_changelog_backs(tmp_path: Path) -> None:
    assert plan(tmp_path, TOPIC) == "restore"  # new or wiped
    write_marker(tmp_path, TOPIC, complete=True)
    assert plan(tmp_path, TOPIC) == "restore"  # the marker survived, the index did not
    SqliteStore(tmp_path).close()
    (tmp_path / "dedup-changelog.json").unlink()
    assert plan(tmp_path, TOPIC) == "seed"  # an index from before the changelog
    write_marker(tmp_path, TOPIC, complete=False)
    assert plan(tmp_path, TOPIC) == "restore"  # a restore cut short
    write_marker(tmp_path, TOPIC, complete=True)
    assert plan(tmp_path, TOPIC) == "none"
    assert plan(tmp_path, "other-dedup-changelog") == "seed"  # another group's topic backs nothing here


def test_progress_is_logged_every_interval_with_counts_and_rate() -> None:
    now = [0.0]
    progress = Progress(1000, 5.0, clock=lambda: now[0])
    with structlog.testing.capture_logs() as logs:
        for done, at in ((100, 1.0), (400, 5.0), (500, 6.0), (1000, 10.0)):
            now[0] = at
            progress.update(done)
    assert [(e["records"], e["of"], e["per_s"]) for e in logs] == [(400, 1000, 80), (1000, 1000, 100)]


def test_a_bulk_load_rebuilds_the_expiry_index_so_expiry_still_works(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path)
    with store.bulk():
        replay([(b"old", encode(b"x", 10)), (b"new", encode(b"y", 99)), (b"gone", encode(b"z", 50))], store)
        replay([(b"gone", None)], store)
    indexes = store._db.execute("SELECT name FROM sqlite_master WHERE type = 'index'").fetchall()
    assert ("idx_newest",) in indexes
    assert store.expire_keys(50) == [b"old"] and all_rows(store) == {b"new": (b"y", 99)}


def test_a_batchs_writes_are_read_at_once_but_on_file_only_after_its_flush(tmp_path: Path) -> None:
    """The mirror holds a micro-batch's SQLite writes in one transaction: this store reads them at once,
    another connection (a restarted stream) sees them only after the flush, and a store closed without one
    (a crash) leaves the file as the last flush did. A write that fails inside the batch takes none of its
    own rows with it and none of the batch's earlier ones."""
    live = mirror(tmp_path, RecordingProducer())
    live.put_many([(b"a", b"x", 1)])
    assert live.flush() == 1
    live.put_many([(b"b", b"y", 2)])
    live.expire(2)  # drops a
    assert live.get_many([b"a", b"b"]) == [None, b"y"]
    other = SqliteStore(tmp_path / "live", read_only=True)
    assert other.get_many([b"a", b"b"]) == [b"x", None], "not on file before the flush"
    with pytest.raises(Exception, match="NOT NULL"):
        live.put_many([(b"c", b"z", 3), (b"d", None, 3)])  # type: ignore[list-item]
    assert live.get_many([b"b", b"c", b"d"]) == [b"y", None, None]
    assert live.flush() == 2  # b and a's tombstone; nothing of the failed write was sent
    assert other.get_many([b"a", b"b", b"c"]) == [None, b"y", None]
    live.put_many([(b"e", b"w", 4)])
    live.store.close()  # a crash: no flush
    assert other.get_many([b"e"]) == [None]
    assert SqliteStore(tmp_path / "live").get_many([b"b", b"e"]) == [b"y", None]
