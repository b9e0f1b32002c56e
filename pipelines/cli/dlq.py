"""Choosing dead letters to replay: pure selection and planning, no Kafka (``newsflow dlq replay`` wires it).

A replay re-publishes a dead letter's original message, exactly as it was read, to the raw topic once the
cause is fixed: its value (from the letter, or from the content-addressed store under the state dir when it
was too large for the DLQ topic), its key and its headers, whatever stage failed. Letters whose original is
incomplete (cut by a version before 0.2, or stored on another machine) are skipped with the reason: the
bytes would not be the input any more. A tombstone (a null value, ``original_is_null``) is sent as a null
value again; an empty original of a letter written before ``dead_letter.avsc`` v3 is skipped, as it may
have been a tombstone or an empty value.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from transforms.original_store import OriginalStore
from transforms.records import LEGACY_ORIGINAL_CAP

REPLAY_HEADER = "newsflow.replayed_from"


@dataclass(frozen=True)
class Selection:
    """Which dead letters to replay; every given criterion must hold (unset ones match everything)."""

    stages: frozenset[str] = frozenset()
    error_types: frozenset[str] = frozenset()
    source_topic: str | None = None
    source_partition: int | None = None
    from_offset: int | None = None  # source offsets, inclusive
    to_offset: int | None = None
    since: datetime | None = None  # failed_at, inclusive
    until: datetime | None = None  # failed_at, exclusive

    def matches(self, letter: dict[str, Any]) -> bool:
        """Whether a decoded ``dead_letter`` record falls inside this selection."""
        if self.stages and letter["stage"] not in self.stages:
            return False
        if self.error_types and letter["error_type"] not in self.error_types:
            return False
        position = letter.get("source_position")
        wants_position = (self.source_topic, self.source_partition, self.from_offset, self.to_offset)
        if any(v is not None for v in wants_position):
            if position is None:
                return False
            if self.source_topic is not None and position["topic"] != self.source_topic:
                return False
            if self.source_partition is not None and position["partition"] != self.source_partition:
                return False
            if self.from_offset is not None and position["offset"] < self.from_offset:
                return False
            if self.to_offset is not None and position["offset"] > self.to_offset:
                return False
        failed_at = letter["failed_at"]
        if self.since is not None and failed_at < self.since:
            return False
        return self.until is None or failed_at < self.until


@dataclass(frozen=True)
class Replay:
    """One planned re-publication: where the letter sits in the DLQ, what it is, and the bytes to send."""

    dlq_partition: int
    dlq_offset: int
    stage: str
    error_type: str
    message: str
    source: str | None
    original: bytes = field(repr=False)
    skip_reason: str | None = None
    key: bytes | None = field(default=None, repr=False)
    original_headers: tuple[tuple[str, bytes | None], ...] = field(default=(), repr=False)
    original_is_null: bool = False

    @property
    def value(self) -> bytes | None:
        """The value to send: None for a tombstone, else the original bytes."""
        return None if self.original_is_null else self.original

    @property
    def header(self) -> tuple[str, bytes]:
        """Traceability on the replayed message: which DLQ record it came from."""
        return REPLAY_HEADER, f"{self.dlq_partition}:{self.dlq_offset}".encode()

    @property
    def headers(self) -> list[tuple[str, bytes | None]]:
        """The original message's headers, then where this replay came from (replacing an older mark)."""
        return [(k, v) for k, v in self.original_headers if k != REPLAY_HEADER] + [self.header]

    def describe(self) -> dict[str, Any]:
        """What ``--dry-run`` prints for this letter (the bytes as size and digest, never the content)."""
        return {
            "dlq": f"{self.dlq_partition}:{self.dlq_offset}",
            "source": self.source,
            "stage": self.stage,
            "error_type": self.error_type,
            "message": self.message[:200],
            "bytes": len(self.original),
            "sha256": hashlib.sha256(self.original).hexdigest()[:16],
            **({"null_value": True} if self.original_is_null else {}),
            "action": "skip" if self.skip_reason else "send",
            **({"skip_reason": self.skip_reason} if self.skip_reason else {}),
        }


def plan(
    letters: Iterable[tuple[int, int, dict[str, Any]]],
    selection: Selection,
    store: OriginalStore | None = None,
) -> Iterator[Replay]:
    """(DLQ partition, DLQ offset, decoded letter) -> the replays the selection asks for, in input order.

    ``store``: the content-addressed store of originals too large for the DLQ (``--state-dir``)."""
    for partition, offset, letter in letters:
        if not selection.matches(letter):
            continue
        original, skip = _original(letter, store)
        position = letter.get("source_position")
        yield Replay(
            dlq_partition=partition,
            dlq_offset=offset,
            stage=letter["stage"],
            error_type=letter["error_type"],
            message=letter["message"],
            source=f"{position['topic']}:{position['partition']}@{position['offset']}" if position else None,
            original=original,
            skip_reason=skip,
            key=letter.get("original_key"),
            original_headers=tuple((h["key"], h["value"]) for h in letter.get("original_headers") or ()),
            original_is_null=bool(letter.get("original_is_null")) and not original,
        )


def _original(letter: dict[str, Any], store: OriginalStore | None) -> tuple[bytes, str | None]:
    """(the complete original value, None) or (what there is, why it cannot be replayed)."""
    original = letter["original"] or b""
    size, ref = letter.get("original_size"), letter.get("original_ref")
    if ref:
        if store is None:
            return original, f"original is in the store as {ref[:20]}...: give --state-dir"
        try:
            original = store.get(ref)
        except (OSError, ValueError) as exc:
            return original, f"original {ref[:20]}... unreadable in {store.root}: {type(exc).__name__}"
    if not original and letter.get("original_is_null") is None:
        return original, "empty original from before dead_letter v3: a tombstone or empty, unknown"
    if size is None and len(original) >= LEGACY_ORIGINAL_CAP:
        return original, f"original was cut to {LEGACY_ORIGINAL_CAP} bytes in the DLQ: replay from the source"
    if size is not None and len(original) != size:
        return original, f"original was cut to {len(original)} of {size} bytes: replay from the source"
    return original, None
