"""Partitioned Avro container files whose bytes depend only on their records, so a re-run replaces its output.

Layout under the output directory (``<run>`` names the backfill: same input spec, same name)::

    articles/dt=2026-11-02/articles-<run>-00000.avro   by publication date, else fetch date, else dt=unknown
    duplicates/duplicates-<run>-00000.avro
    dlq/dead_letters-<run>-00000.avro

Determinism: records are grouped per partition (one writer each), sorted by a total key, written with a
sync marker derived from that content and no time in the metadata, to a temporary name renamed into place.
Files of the same run that the new output no longer has (a day that vanished, a shard fewer) are removed.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import apache_beam as beam
import fastavro
import structlog
from apache_beam.metrics import Metrics

from transforms import avro
from transforms.records import to_dict

log = structlog.get_logger(__name__)

CODECS = ("deflate", "snappy", "zstandard", "null", "bzip2", "xz")
DEFAULT_CODEC = "deflate"
DEFAULT_MAX_RECORDS = 100_000
UNDATED = "unknown"


def check_codec(codec: str) -> None:
    """Fail at start-up, not after hours of work, when a codec's library is missing."""
    if codec not in CODECS:
        raise ValueError(f"unknown Avro codec {codec!r}; choose one of {', '.join(CODECS)}")
    try:
        fastavro.writer(io.BytesIO(), {"type": "record", "name": "Probe", "fields": []}, [{}], codec=codec)
    except (ImportError, ValueError) as exc:
        raise ValueError(f"Avro codec {codec!r} is not usable here: {exc}") from exc


@cache
def stable_schema(name: str) -> dict[str, Any]:
    """The parsed schema with the keys of every object sorted, for a header that is the same in every run.

    fastavro orders some field properties by iterating a set, whose order follows the per-process string
    hash seed: written as is, the schema JSON in the header would differ from one run to the next.
    """
    return _sorted_keys(avro.schemas()[name])


def _sorted_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _sorted_keys(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [_sorted_keys(item) for item in value]
    return value


def _position_key(record: dict[str, Any]) -> tuple[str, int, int]:
    pos = record.get("source_position")
    return (pos["topic"], pos["partition"], pos["offset"]) if pos else ("", -1, -1)


def _day(value: datetime | None) -> str | None:
    return value.strftime("%Y-%m-%d") if value is not None else None


@dataclass(frozen=True)
class FileKind:
    """One output of the chain as files: its schema, where a record goes and how records are ordered."""

    schema: str
    prefix: str
    partition: Callable[[dict[str, Any]], str]
    sort_key: Callable[[dict[str, Any]], tuple]


def article_partition(record: dict[str, Any]) -> str:
    day = _day(record.get("published_at")) or _day(record.get("fetched_at")) or UNDATED
    return f"articles/dt={day}"


def article_order(record: dict[str, Any]) -> tuple:
    return (record["id"], *_position_key(record))


def duplicate_order(record: dict[str, Any]) -> tuple:
    return (record["id"], record["duplicate_of"], *_position_key(record))


def dead_letter_order(record: dict[str, Any]) -> tuple:
    return (*_position_key(record), record["stage"], record["original"])


def duplicate_partition(record: dict[str, Any]) -> str:
    return "duplicates"


def dead_letter_partition(record: dict[str, Any]) -> str:
    return "dlq"


KINDS = {
    "articles": FileKind("article", "articles", article_partition, article_order),
    "duplicates": FileKind("duplicate", "duplicates", duplicate_partition, duplicate_order),
    "dlq": FileKind("dead_letter", "dead_letters", dead_letter_partition, dead_letter_order),
}
_SHARD = re.compile(r"^(?P<prefix>[a-z_]+)-(?P<run>[0-9a-f]+)-(?P<index>\d{5})\.avro$")


def shard_name(prefix: str, run_id: str, index: int) -> str:
    return f"{prefix}-{run_id}-{index:05d}.avro"


def sync_marker(run_id: str, partition: str, keys: Iterable[tuple]) -> bytes:
    """16 bytes from the run, the partition and the records' keys: stable across re-runs, not guessable."""
    digest = hashlib.sha256(f"{run_id}\0{partition}".encode())
    for key in keys:
        digest.update(repr(key).encode("utf-8", "surrogatepass"))
    return digest.digest()[:16]


def write_partition(
    directory: str | Path,
    kind: FileKind,
    partition: str,
    records: Iterable[dict[str, Any]],
    *,
    run_id: str,
    codec: str = DEFAULT_CODEC,
    max_records: int = DEFAULT_MAX_RECORDS,
    metadata: dict[str, str] | None = None,
) -> list[str]:
    """Write one partition's records as sorted shards, each atomically; returns the paths written."""
    ordered = sorted(records, key=kind.sort_key)
    target = Path(directory) / partition
    target.mkdir(parents=True, exist_ok=True)
    schema = stable_schema(kind.schema)
    paths = []
    for index, start in enumerate(range(0, len(ordered), max_records)):
        chunk = ordered[start : start + max_records]
        path = target / shard_name(kind.prefix, run_id, index)
        temporary = target / f".{path.name}.tmp-{os.getpid()}"
        marker = sync_marker(run_id, f"{partition}/{index}", (kind.sort_key(r) for r in chunk))
        with open(temporary, "wb") as out:
            fastavro.writer(out, schema, chunk, codec=codec, sync_marker=marker, metadata=metadata or {})
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
        paths.append(str(path))
    return paths


def run_files(directory: str | Path, run_id: str) -> Iterator[Path]:
    """Every output file of one run under the directory."""
    root = Path(directory)
    if not root.is_dir():
        return
    for path in root.rglob(f"*-{run_id}-*.avro"):
        match = _SHARD.match(path.name)
        if match and match["run"] == run_id:
            yield path


def remove_stale(directory: str | Path, run_id: str, keep: Iterable[str]) -> list[str]:
    """Delete this run's files that the latest output did not write (and empty day directories)."""
    kept = {os.path.realpath(p) for p in keep}
    removed = []
    for path in sorted(run_files(directory, run_id)):
        if os.path.realpath(path) not in kept:
            path.unlink()
            removed.append(str(path))
            if path.parent.name.startswith("dt=") and not any(path.parent.iterdir()):
                path.parent.rmdir()
    return removed


class WritePartitionDoFn(beam.DoFn):
    """(partition, records) -> paths written; one call per partition, so one writer per file."""

    def __init__(
        self, directory: str, kind: FileKind, run_id: str, codec: str, max_records: int, metadata: dict
    ) -> None:
        self.directory = directory
        self.kind = kind
        self.run_id = run_id
        self.codec = codec
        self.max_records = max_records
        self.metadata = metadata

    def setup(self) -> None:
        self._records = Metrics.counter("newsflow", f"files.{self.kind.prefix}_written")
        self._files = Metrics.counter("newsflow", "files.avro_files_written")

    def process(self, keyed: tuple[str, Iterable[dict[str, Any]]]) -> Iterator[str]:
        partition, records = keyed
        records = list(records)
        paths = write_partition(
            self.directory,
            self.kind,
            partition,
            records,
            run_id=self.run_id,
            codec=self.codec,
            max_records=self.max_records,
            metadata=self.metadata,
        )
        self._records.inc(len(records))
        self._files.inc(len(paths))
        log.info("avro_written", partition=partition, records=len(records), files=len(paths))
        yield from paths


class RemoveStaleDoFn(beam.DoFn):
    def __init__(self, directory: str, run_id: str) -> None:
        self.directory = directory
        self.run_id = run_id

    def process(self, written: list[str]) -> Iterator[str]:
        removed = remove_stale(self.directory, self.run_id, written)
        Metrics.counter("newsflow", "files.stale_removed").inc(len(removed))
        if removed:
            log.info("avro_stale_removed", files=removed)
        yield from sorted(written)


class WriteAvroFiles(beam.PTransform):
    """{"articles", "duplicates", "dlq"} of records -> Avro files; returns the sorted list of paths written.

    ``metadata`` goes into every file header (keep it free of times, or re-runs stop being identical).
    """

    def __init__(
        self,
        directory: str,
        run_id: str,
        *,
        codec: str = DEFAULT_CODEC,
        max_records: int = DEFAULT_MAX_RECORDS,
        metadata: dict[str, str] | None = None,
    ) -> None:
        super().__init__()
        self.directory = directory
        self.run_id = run_id
        self.codec = codec
        self.max_records = max_records
        self.metadata = metadata or {}

    def expand(self, outputs: dict[str, beam.PCollection]) -> beam.PCollection:
        written = []
        for name, kind in KINDS.items():
            written.append(
                outputs[name]
                | f"Key{kind.prefix}" >> beam.Map(_keyed, kind.partition)
                | f"Group{kind.prefix}" >> beam.GroupByKey()
                | f"Write{kind.prefix}"
                >> beam.ParDo(
                    WritePartitionDoFn(
                        self.directory, kind, self.run_id, self.codec, self.max_records, self.metadata
                    )
                )
            )
        return (
            written
            | "AllFiles" >> beam.Flatten()
            | "Collect" >> beam.combiners.ToList()
            | "RemoveStale" >> beam.ParDo(RemoveStaleDoFn(self.directory, self.run_id))
        )


def _keyed(record: Any, partition: Callable[[dict[str, Any]], str]) -> tuple[str, dict[str, Any]]:
    value = to_dict(record)
    return partition(value), value
