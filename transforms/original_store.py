"""A content-addressed file store for dead letters' originals too large for a Kafka message.

Kafka is the first home of a dead letter's original: replicated, retained with the DLQ, readable from any
machine. But the raw topic may accept larger messages than the DLQ topic (or the producer) can take, and a
cut original can never be replayed. Those originals are written here instead, once per content, as
``<state dir>/dlq-originals/<first two hex digits>/<sha256 hex>``, and the dead letter names them as
``sha256:<hex>``. ``newsflow dlq replay --state-dir`` reads them back and checks the digest.

An original too large to hold in memory (a file input's oversized line, page or WARC record) is streamed
in with :meth:`OriginalStore.writer`, its digest taken as it is written.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from types import TracebackType

DIR_NAME = "dlq-originals"
PREFIX = "sha256:"


class OriginalStore:
    def __init__(self, state_dir: str | Path) -> None:
        self.root = Path(state_dir) / DIR_NAME

    def path(self, ref: str) -> Path:
        if not ref.startswith(PREFIX):
            raise ValueError(f"not a content reference: {ref[:80]!r}")
        digest = ref.removeprefix(PREFIX)
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise ValueError(f"not a SHA-256 reference: {ref[:80]!r}")
        return self.root / digest[:2] / digest

    def put(self, data: bytes) -> str:
        """Stores ``data`` (atomically: a killed process leaves no partial file) and returns its reference."""
        ref = PREFIX + hashlib.sha256(data).hexdigest()
        path = self.path(ref)
        if path.exists():
            return ref
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".partial-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return ref

    def writer(self) -> OriginalWriter:
        """A writer for an original streamed in pieces (never held whole); its reference once closed."""
        return OriginalWriter(self)

    def get(self, ref: str) -> bytes:
        """The stored bytes; ``FileNotFoundError`` if absent, ``ValueError`` if they no longer match."""
        data = self.path(ref).read_bytes()
        if PREFIX + hashlib.sha256(data).hexdigest() != ref:
            raise ValueError(f"{ref[:20]}...: stored bytes do not match their digest")
        return data


class OriginalWriter:
    """Streams one original into the store: a partial file, hashed as written, moved to its content
    address when the writer closes without an error (removed otherwise). ``ref`` is set then."""

    def __init__(self, store: OriginalStore) -> None:
        self.store = store
        self.ref: str | None = None
        self.size = 0
        self._digest = hashlib.sha256()
        store.root.mkdir(parents=True, exist_ok=True)
        fd, self._tmp = tempfile.mkstemp(dir=store.root, prefix=".partial-")
        self._out = os.fdopen(fd, "wb")

    def write(self, data: bytes) -> None:
        self._digest.update(data)
        self._out.write(data)
        self.size += len(data)

    def __enter__(self) -> OriginalWriter:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        try:
            if kind is None:
                self._out.flush()
                os.fsync(self._out.fileno())
            self._out.close()
            if kind is not None:
                return
            ref = PREFIX + self._digest.hexdigest()
            path = self.store.path(ref)
            path.parent.mkdir(parents=True, exist_ok=True)
            os.replace(self._tmp, path)  # same content, same name: a second copy simply replaces the first
            self.ref = ref
        finally:
            Path(self._tmp).unlink(missing_ok=True)
