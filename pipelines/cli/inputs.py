"""Local input files -> raw envelopes: JSONL envelopes, ``.html``/``.htm`` and ``.txt`` pages (gzip ok).

Shared by ``produce`` (to Kafka) and ``process`` (no Kafka), so both read files the same way.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from transforms.parse import decode_bytes
from transforms.records import SourcePosition

HTML_SUFFIXES = (".html", ".htm", ".xhtml")
JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json")


def read_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


def _kind(path: Path) -> str:
    name = path.name.lower().removesuffix(".gz")
    if name.endswith(JSONL_SUFFIXES):
        return "jsonl"
    if name.endswith(HTML_SUFFIXES):
        return "html"
    return "text"


def iter_paths(paths: list[str]) -> Iterator[Path]:
    """Files as given, directories walked in sorted order."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file())
        else:
            yield path


def iter_messages(paths: list[str], source: str | None = None) -> Iterator[tuple[bytes, SourcePosition]]:
    """(message bytes, file:line position) for every input: each JSONL line is sent exactly as it is."""
    for path in iter_paths(paths):
        kind = _kind(path)
        data = read_bytes(path)
        if kind == "jsonl":
            for number, line in enumerate(data.splitlines(), start=1):
                if line.strip():
                    yield line, SourcePosition(str(path), 0, number)
            continue
        envelope = {
            "url": None,
            "source": source,
            kind: decode_bytes(data),
            "fetched_at": datetime.fromtimestamp(path.stat().st_mtime, tz=UTC).isoformat(),
            "metadata": {"file": path.name},
        }
        yield json.dumps(envelope, ensure_ascii=False).encode("utf-8"), SourcePosition(str(path), 0, 0)
