"""Where the index blobs live: a dict, or SQLite under ``state_dir`` when the index must outlive the process.

SQLite is read lazily, key by key, from a file that survives a killed process (WAL mode: a committed write
is in the OS before ``commit`` returns), so a restart reads only the keys it touches. A file does not
survive a wiped disk or a move to another machine: the local stream therefore also mirrors every write to
a compacted Kafka changelog (:mod:`transforms.dedup.changelog`) and rebuilds a lost file from it
(:mod:`transforms.dedup.restore`), as Kafka Streams backs its RocksDB stores. Portable runners keep the
index in Beam keyed state and never open it.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Protocol

DB_NAME = "dedup-index.sqlite3"


class KeyStore(Protocol):
    """The store interface the rule sees: opaque blobs by index key, each with its newest arrival second.

    The rule never looks inside a store and a store never looks inside a blob, so a backend (a changelog
    topic mirroring ``put_many``, a remote table) slots in without touching ``index.py``.
    """

    def get_many(self, keys: Sequence[bytes]) -> list[bytes | None]:
        """The blob of each key, ``None`` where there is none, in the order asked."""
        ...

    def put_many(self, items: Sequence[tuple[bytes, bytes, int]]) -> None:
        """``(key, blob, newest second)`` written together: all or nothing (one article's keys)."""
        ...

    def expire(self, before_s: int) -> int:
        """Drop keys whose newest second is before ``before_s``; how many were dropped."""
        ...

    def size(self) -> tuple[int, int]:
        """Number of keys, and bytes of keys plus blobs."""
        ...

    def close(self) -> None: ...


class MemoryStore:
    """The in-process backend (``newsflow process``, benchmarks, tests).

    Each value is the blob prefixed with its newest event second (4 bytes): one object per key instead of
    a tuple and an int, which is most of a dict entry's overhead in CPython.
    """

    def __init__(self) -> None:
        self._data: dict[bytes, bytes] = {}

    def get_many(self, keys: Sequence[bytes]) -> list[bytes | None]:
        got = [self._data.get(k) for k in keys]
        return [g[4:] if g else None for g in got]

    def put_many(self, items: Sequence[tuple[bytes, bytes, int]]) -> None:
        for key, blob, newest in items:
            self._data[key] = newest.to_bytes(4, "big") + blob

    def expire(self, before_s: int) -> int:
        """Drop keys whose newest entry is older than ``before_s``; older entries of live keys are
        dropped the next time their key is written."""
        cutoff = max(0, before_s).to_bytes(4, "big")
        stale = [k for k, v in self._data.items() if v[:4] < cutoff]
        for key in stale:
            del self._data[key]
        return len(stale)

    def size(self) -> tuple[int, int]:
        """Number of keys, and bytes of keys plus blobs."""
        return len(self._data), sum(len(k) + len(v) - 4 for k, v in self._data.items())

    def close(self) -> None:
        self._data.clear()


class SqliteStore:
    """The durable backend: one table, one row per index key, safe to share between threads."""

    def __init__(self, state_dir: str | Path, *, read_only: bool = False) -> None:
        path = Path(state_dir) / DB_NAME
        if read_only:
            self._db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS idx (key BLOB PRIMARY KEY, blob BLOB NOT NULL, newest INTEGER NOT NULL)"
                " WITHOUT ROWID"
            )
            self._db.execute("CREATE INDEX IF NOT EXISTS idx_newest ON idx (newest)")
            if "pack" not in {row[1] for row in self._db.execute("PRAGMA table_info(idx)")}:
                self._db.execute("ALTER TABLE idx ADD COLUMN pack BLOB")  # a file from before packs
            self._db.execute("CREATE INDEX IF NOT EXISTS idx_pack ON idx (pack) WHERE pack IS NOT NULL")
        self._db.execute("PRAGMA busy_timeout=30000")
        self._lock = threading.Lock()
        self._held = False  # writes held in one transaction until commit() (see hold())

    def get_many(self, keys: Sequence[bytes]) -> list[bytes | None]:
        with self._lock:
            marks = ",".join("?" * len(keys))
            rows = dict(self._db.execute(f"SELECT key, blob FROM idx WHERE key IN ({marks})", list(keys)))
        return [rows.get(k) for k in keys]

    def put_many(self, items: Sequence[tuple[bytes, bytes, int]], pack: bytes | None = None) -> None:
        """``items`` written together; ``pack`` names the changelog record that holds them
        (:mod:`transforms.dedup.changelog`), None for a key of its own record."""
        self.put_packed([(key, blob, newest, pack) for key, blob, newest in items])

    def put_packed(self, rows: Sequence[tuple[bytes, bytes, int, bytes | None]]) -> None:
        """``(key, blob, newest, pack)`` rows, each with its own pack (a restore)."""
        self._in_transaction("INSERT OR REPLACE INTO idx (key, blob, newest, pack) VALUES (?, ?, ?, ?)", rows)

    def packs_of(self, keys: Sequence[bytes]) -> dict[bytes, bytes | None]:
        """The changelog pack of each of ``keys`` that has a row (None: a record of its own)."""
        with self._lock:
            marks = ",".join("?" * len(keys))
            return dict(self._db.execute(f"SELECT key, pack FROM idx WHERE key IN ({marks})", list(keys)))

    def in_pack(self, pack: bytes) -> list[tuple[bytes, bytes, int]]:
        """Every ``(key, blob, newest)`` the changelog pack ``pack`` holds now, in key order."""
        with self._lock:
            return self._db.execute(
                "SELECT key, blob, newest FROM idx WHERE pack = ? ORDER BY key", (pack,)
            ).fetchall()

    def unpack_all(self) -> None:
        """Every row a record of its own (an index seeded to a changelog that holds none of its packs)."""
        with self._lock:
            self._db.execute("UPDATE idx SET pack = NULL WHERE pack IS NOT NULL")

    def hold(self) -> None:
        """Keep the writes from now on in one transaction until :meth:`commit` (a micro-batch's: a commit
        per article was a third of the index's CPU in the stream's serial part). Reads on this store see
        them at once; other connections, and the file after a crash, only once committed."""
        with self._lock:
            if not self._held:
                self._db.execute("BEGIN IMMEDIATE")
                self._held = True

    def commit(self) -> None:
        """Make the writes held since :meth:`hold` durable (as far as WAL mode does: in the OS)."""
        with self._lock:
            if self._held:
                self._held = False
                self._db.execute("COMMIT")

    def _in_transaction(self, statement: str, rows: Sequence[tuple]) -> None:
        """``statement`` for each of ``rows``, all or nothing (within a held transaction, a savepoint)."""
        with self._lock:
            begin, end, undo = (
                ("SAVEPOINT rows", "RELEASE rows", "ROLLBACK TO rows")
                if self._held
                else ("BEGIN IMMEDIATE", "COMMIT", "ROLLBACK")
            )
            self._db.execute(begin)
            try:
                self._db.executemany(statement, rows)
                self._db.execute(end)
            except BaseException:
                self._db.execute(undo)
                if self._held:
                    self._db.execute(end)
                raise

    def expire(self, before_s: int) -> int:
        return len(self.expire_keys(before_s))

    def expire_keys(self, before_s: int) -> list[bytes]:
        """Drop keys whose newest second is before ``before_s``; the keys dropped."""
        return [key for key, _ in self.expire_packed(before_s)]

    def expire_packed(self, before_s: int) -> list[tuple[bytes, bytes | None]]:
        """Drop keys whose newest second is before ``before_s``; each key dropped and its changelog pack
        (what the changelog then writes again or tombstones)."""
        with self._lock:
            return self._db.execute(
                "DELETE FROM idx WHERE newest < ? RETURNING key, pack", (before_s,)
            ).fetchall()

    def delete_many(self, keys: Sequence[bytes]) -> None:
        """Drop these keys (a restore replaying the changelog's tombstones)."""
        self._in_transaction("DELETE FROM idx WHERE key = ?", [(k,) for k in keys])

    @contextlib.contextmanager
    def bulk(self, cache_mb: int = 256) -> Iterator[SqliteStore]:
        """Many writes in a row (a restore): a page cache that holds the whole index instead of SQLite's 2 MB,
        and the expiry index built once at the end instead of updated row by row (40% less CPU for 1M keys)."""
        with self._lock:
            self._db.execute(f"PRAGMA cache_size={-cache_mb * 1024}")
            self._db.execute("DROP INDEX IF EXISTS idx_newest")
        try:
            yield self
        finally:
            with self._lock:
                self._db.execute("CREATE INDEX IF NOT EXISTS idx_newest ON idx (newest)")
                self._db.execute("PRAGMA cache_size=-2000")

    def rows(self, chunk: int = 10_000) -> Iterator[list[tuple[bytes, bytes, int]]]:
        """Every ``(key, blob, newest)``, ``chunk`` at a time in key order (seeding a new changelog)."""
        after = b""
        while True:
            with self._lock:
                got = self._db.execute(
                    "SELECT key, blob, newest FROM idx WHERE key > ? ORDER BY key LIMIT ?", (after, chunk)
                ).fetchall()
            if not got:
                return
            yield got
            after = got[-1][0]

    def size(self) -> tuple[int, int]:
        with self._lock:
            count, total = self._db.execute(
                "SELECT COUNT(*), COALESCE(SUM(LENGTH(key) + LENGTH(blob)), 0) FROM idx"
            ).fetchone()
        return int(count), int(total)

    def close(self) -> None:
        """Close the file; writes held and not committed are dropped (as a crash would drop them)."""
        with self._lock:
            self._db.close()
