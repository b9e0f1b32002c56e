"""Poison pills that kill the worker process (a segfault in a parser, the kernel's OOM killer) rather than
raise: retries inside the process cannot catch those, and without a record of them every restart would
replay the input from the committed offset and die again, forever.

The journal is a small SQLite table under the state directory. A stage marks an input as begun before it
processes it and clears the mark when the input has an outcome (output or dead letter). A mark still set
when the input comes back means the process died while working on it. After ``max_crashes`` such deaths
the input goes to the dead-letter topic unprocessed. Marks are committed in WAL mode, which survives a
killed process (not a power cut), at the cost of two small writes per input and stage.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

DB_NAME = "crash-journal.sqlite"
MAX_CRASHES = 3
"""Deaths during one input before it goes to the dead-letter topic as ``CrashLoop``."""


class CrashJournal:
    """Inputs in progress, by key (stage and source position), kept on disk across process deaths."""

    def __init__(self, state_dir: str | Path, *, max_crashes: int = MAX_CRASHES) -> None:
        path = Path(state_dir) / DB_NAME
        path.parent.mkdir(parents=True, exist_ok=True)
        self.max_crashes = max_crashes
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=30000")
        self._db.execute("CREATE TABLE IF NOT EXISTS begun (key TEXT PRIMARY KEY, deaths INTEGER NOT NULL)")
        self._lock = threading.Lock()

    def begin(self, key: str) -> int:
        """Marks ``key`` as in progress; returns how many times the process died during it before."""
        with self._lock:
            row = self._db.execute("SELECT deaths FROM begun WHERE key = ?", (key,)).fetchone()
            deaths = row[0] + 1 if row else 0
            self._db.execute("INSERT OR REPLACE INTO begun (key, deaths) VALUES (?, ?)", (key, deaths))
        return deaths

    def end(self, key: str) -> None:
        """``key`` has its outcome: forget it."""
        with self._lock:
            self._db.execute("DELETE FROM begun WHERE key = ?", (key,))

    def should_skip(self, deaths: int) -> bool:
        return deaths >= self.max_crashes

    def close(self) -> None:
        self._db.close()
