"""Local input files -> raw messages, for ``produce`` (to Kafka) and ``process`` (no Kafka).

Both read files exactly as a file backfill does (:mod:`transforms.file_io`): JSONL lines as they are,
``.html``/``.htm``/``.txt`` pages as one envelope each, WARC/WARC.gz records, and ``.gz``/``.zst``/``.bz2``
forms of all of them. A directory is walked; files of other kinds in it are skipped and summed up in one
line. A path that does not exist is the user's mistake and stops the command before any work; a file that
exists but cannot be read (permissions, a corrupt archive) is reported by name and the rest goes on, and
so is a record over the message limit, read through without being held (:class:`Oversized`).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import structlog

from pipelines.failures import InputFileError
from transforms.file_io import (
    COMPRESSION_SUFFIXES,
    HTML_SUFFIXES,
    JSONL_SUFFIXES,
    MAX_MESSAGE_BYTES,
    READ_ERRORS,
    TEXT_SUFFIXES,
    WARC_SUFFIXES,
    Oversized,
    file_kind,
    iter_file,
)
from transforms.records import SourcePosition

log = structlog.get_logger(__name__)

KNOWN_SUFFIXES = JSONL_SUFFIXES + HTML_SUFFIXES + TEXT_SUFFIXES + WARC_SUFFIXES


@dataclass
class InputPlan:
    """The files to read, in order, and what was skipped."""

    files: list[str] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)

    def skipped_line(self) -> str | None:
        """``skipped 3 files: 2 .png, 1 .md``, or None."""
        total = sum(self.skipped.values())
        if not total:
            return None
        kinds = ", ".join(
            f"{n} {suffix}" for suffix, n in sorted(self.skipped.items(), key=lambda kv: -kv[1])
        )
        return f"skipped {total} file{'s' if total > 1 else ''}: {kinds}"


def _suffix(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes[-2:]]
    if len(suffixes) == 2 and suffixes[1] in COMPRESSION_SUFFIXES:
        return "".join(suffixes)
    return suffixes[-1] if suffixes else "(no extension)"


def plan_inputs(paths: list[str]) -> InputPlan:
    """Every readable-kind file under ``paths`` (directories walked in sorted order). Raises
    :class:`InputFileError` for a path that does not exist, or when there is no file to read at all, before
    anything is read or loaded."""
    plan = InputPlan()
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise InputFileError(f"{raw}: no such file or directory")
        candidates = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for candidate in candidates:
            if file_kind(str(candidate)):
                plan.files.append(str(candidate))
            else:
                plan.skipped[_suffix(candidate)] += 1
    reads = ", ".join(KNOWN_SUFFIXES) + f" (and their {'/'.join(COMPRESSION_SUFFIXES)} forms)"
    if not plan.files:  # an empty directory, or one of other files: a typo far likelier than a wish
        found = plan.skipped_line() or "no file at all"
        raise InputFileError(f"{' '.join(paths)}: nothing to read ({found}; newsflow reads {reads})")
    line = plan.skipped_line()
    if line:
        log.warning("files_skipped", message=line, reads=reads)
    return plan


Unreadable = Callable[[str, BaseException], None]
"""Called with a file's path and the error when it cannot be read (or stops being readable part way)."""


def iter_messages(
    paths: list[str] | InputPlan,
    source: str | None = None,
    unreadable: Unreadable | None = None,
    *,
    oversized: Callable[[Oversized], None] | None = None,
    limit: int = MAX_MESSAGE_BYTES,
    store_dir: str | None = None,
) -> Iterator[tuple[bytes, SourcePosition]]:
    """(message bytes, position) for every input: the position's topic is the file, its offset the line
    (JSONL), 0 (a page) or the byte offset (WARC). A record over ``limit`` bytes goes to ``oversized``
    (its original streamed into the store under ``store_dir`` when given), else to ``unreadable`` with its
    reason. Without ``unreadable``, a read error or an oversized record raises."""
    plan = paths if isinstance(paths, InputPlan) else plan_inputs(paths)
    for path in plan.files:
        try:
            if not os.access(path, os.R_OK):
                raise PermissionError(13, "permission denied", path)
            for record in iter_file(path, source, limit=limit, store_dir=store_dir):
                if isinstance(record, Oversized):
                    if oversized is not None:
                        oversized(record)
                    elif unreadable is not None:
                        unreadable(path, record.error())
                    else:
                        raise InputFileError(f"{path}: {record.error().reason}")
                    continue
                yield record.value, SourcePosition(record.topic, record.partition, record.offset)
        except READ_ERRORS as exc:
            if unreadable is None:
                raise InputFileError(f"{path}: {reason(exc)}") from exc
            unreadable(path, exc)


def reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return f"{type(exc).__name__}: {str(exc).strip() or 'unreadable'}"
