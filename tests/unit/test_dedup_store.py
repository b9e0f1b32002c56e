"""The durable store: the index survives a restart (a new Deduplicator over the same state_dir)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from transforms.dedup import Deduplicator, MemoryStore, SqliteStore
from transforms.records import Article, SourcePosition

T0 = datetime(2024, 5, 1, tzinfo=UTC)
BODY = " ".join(
    f"Paragraph {i} says the council met on day {i} and voted {i * 7} to {i * 3}." for i in range(60)
)


def article(aid: str, body: str, minutes: int, partition: int = 0) -> Article:
    return Article(
        id=aid,
        body=body,
        canonical_url=f"https://example.org/{aid}",
        fetched_at=T0 + timedelta(minutes=minutes),
        source_position=SourcePosition("articles.raw", partition, minutes),
    )


def test_memory_store_round_trip_and_expiry() -> None:
    store = MemoryStore()
    store.put_many([(b"k1", b"blob", 10), (b"k2", b"xx", 20)])
    assert store.get_many([b"k1", b"k3"]) == [b"blob", None]
    assert store.size() == (2, 2 + 4 + 2 + 2)
    assert store.expire(15) == 1 and store.get_many([b"k1", b"k2"]) == [None, b"xx"]


def test_sqlite_store_round_trip_and_expiry(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path)
    store.put_many([(b"k1", b"blob", 10), (b"k2", b"xx", 20)])
    store.put_many([(b"k1", b"blob2", 12)])
    assert store.get_many([b"k1", b"k2", b"k3"]) == [b"blob2", b"xx", None]
    assert store.expire(15) == 1
    assert store.size() == (1, 4)
    store.close()


def test_index_survives_a_restart(tmp_path: Path) -> None:
    first = Deduplicator(store=SqliteStore(tmp_path))
    assert first.check(article("a" * 32, BODY, 0))[1] is None
    first.close()
    second = Deduplicator(store=SqliteStore(tmp_path))
    _, exact = second.check(article("b" * 32, BODY, 5, partition=2))
    _, near = second.check(article("c" * 32, BODY + " A correction was appended later.", 9, partition=1))
    assert exact is not None and (exact.method, exact.duplicate_of) == ("exact", "a" * 32)
    assert near is not None and (near.method, near.duplicate_of) == ("near", "a" * 32)
    second.close()


def test_read_only_store_refuses_writes(tmp_path: Path) -> None:
    SqliteStore(tmp_path).close()
    store = SqliteStore(tmp_path, read_only=True)
    assert store.get_many([b"k"]) == [None]
    with pytest.raises(Exception, match="readonly"):
        store.put_many([(b"k", b"v", 1)])
    store.close()
