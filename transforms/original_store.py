"""A content-addressed file store for dead letters' originals too large for a Kafka message.

Kafka is the first home of a dead letter's original: replicated, retained with the DLQ, readable from any
machine. But the raw topic may accept larger messages than the DLQ topic (or the producer) can take, and a
cut original can never be replayed. Those originals are written here instead, once per content, as
``<state dir>/dlq-originals/<first two hex digits>/<sha256 hex>``, and the dead letter names them as
``sha256:<hex>``. ``newsflow dlq replay --state-dir`` reads them back and checks the digest.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

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

    def get(self, ref: str) -> bytes:
        """The stored bytes; ``FileNotFoundError`` if absent, ``ValueError`` if they no longer match."""
        data = self.path(ref).read_bytes()
        if PREFIX + hashlib.sha256(data).hexdigest() != ref:
            raise ValueError(f"{ref[:20]}...: stored bytes do not match their digest")
        return data
