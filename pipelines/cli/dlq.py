"""Choosing dead letters to replay: pure selection and planning, no Kafka (``newsflow dlq replay`` wires it).

A replay re-publishes a dead letter's ``original`` bytes, the input exactly as it was read, to the raw topic
once the cause is fixed. Letters whose original was cut to the DLQ's size cap are never replayed: the bytes
would not be the input any more.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from transforms.records import MAX_ORIGINAL_BYTES

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

    @property
    def header(self) -> tuple[str, bytes]:
        """Traceability on the replayed message: which DLQ record it came from."""
        return REPLAY_HEADER, f"{self.dlq_partition}:{self.dlq_offset}".encode()

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
            "action": "skip" if self.skip_reason else "send",
            **({"skip_reason": self.skip_reason} if self.skip_reason else {}),
        }


def plan(letters: Iterable[tuple[int, int, dict[str, Any]]], selection: Selection) -> Iterator[Replay]:
    """(DLQ partition, DLQ offset, decoded letter) -> the replays the selection asks for, in input order."""
    for partition, offset, letter in letters:
        if not selection.matches(letter):
            continue
        original = letter["original"] or b""
        position = letter.get("source_position")
        skip = None
        if not original:
            skip = "empty original (tombstone): nothing to replay"
        elif len(original) >= MAX_ORIGINAL_BYTES:
            skip = f"original was cut to {MAX_ORIGINAL_BYTES} bytes in the DLQ: replay from the source"
        yield Replay(
            dlq_partition=partition,
            dlq_offset=offset,
            stage=letter["stage"],
            error_type=letter["error_type"],
            message=letter["message"],
            source=f"{position['topic']}:{position['partition']}@{position['offset']}" if position else None,
            original=original,
            skip_reason=skip,
        )
