"""The partitioned Avro file sink: layout, order, byte-identical re-runs, atomic replacement of a run's files."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import apache_beam as beam
import fastavro
import pytest
from apache_beam.testing.test_pipeline import TestPipeline

from transforms.avro_files import (
    CODECS,
    KINDS,
    WriteAvroFiles,
    article_partition,
    check_codec,
    remove_stale,
    sync_marker,
    write_partition,
)
from transforms.records import Article, DeadLetter, DuplicateVerdict, SourcePosition, to_dict

NOV2 = datetime(2026, 11, 2, 8, 30, tzinfo=UTC)


def article(i: int, published: datetime | None = NOV2, fetched: datetime | None = None) -> Article:
    return Article(
        id=f"{i:032x}",
        body=f"Body number {i}.",
        url=f"https://news.example/{i}",
        published_at=published,
        fetched_at=fetched,
        source_position=SourcePosition("articles.raw", i % 4, i),
    )


def read(path: str | Path) -> list[dict]:
    with open(path, "rb") as f:
        return list(fastavro.reader(f))


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_articles_are_partitioned_by_publication_then_fetch_date():
    assert article_partition(to_dict(article(1))) == "articles/dt=2026-11-02"
    fetched = datetime(2026, 10, 30, 23, 59, tzinfo=UTC)
    assert article_partition(to_dict(article(1, None, fetched))) == "articles/dt=2026-10-30"
    assert article_partition(to_dict(article(1, None, None))) == "articles/dt=unknown"


def test_partition_file_is_sorted_and_identical_whatever_the_input_order(tmp_path):
    records = [to_dict(article(i)) for i in (5, 3, 9, 1)]
    kind = KINDS["articles"]
    first = write_partition(tmp_path / "a", kind, "articles/dt=2026-11-02", records, run_id="abc123")
    second = write_partition(tmp_path / "b", kind, "articles/dt=2026-11-02", records[::-1], run_id="abc123")
    assert [Path(p).relative_to(tmp_path / "a").as_posix() for p in first] == [
        "articles/dt=2026-11-02/articles-abc123-00000.avro"
    ]
    assert Path(first[0]).read_bytes() == Path(second[0]).read_bytes()
    decoded = read(first[0])
    assert [r["id"] for r in decoded] == sorted(r["id"] for r in records)
    assert decoded[0]["published_at"] == NOV2
    assert not list((tmp_path / "a").rglob(".*tmp*")), "no temporary file is left behind"


WRITE_ONE = """
import sys
from transforms.avro_files import KINDS, write_partition
from transforms.records import Article, SourcePosition, to_dict
record = to_dict(Article(id="a1", body="b", source_position=SourcePosition("t", 0, 1)))
write_partition(sys.argv[1], KINDS["articles"], "articles/dt=x", [record], run_id="h0")
"""


def test_files_are_identical_across_processes_with_different_hash_seeds(tmp_path):
    for seed in ("1", "2", "3"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        subprocess.run([sys.executable, "-c", WRITE_ONE, str(tmp_path / seed)], check=True, env=env)
    files = [(tmp_path / seed / "articles/dt=x/articles-h0-00000.avro").read_bytes() for seed in "123"]
    assert files[0] == files[1] == files[2]


def test_shards_split_by_record_count(tmp_path):
    records = [to_dict(article(i)) for i in range(5)]
    paths = write_partition(tmp_path, KINDS["articles"], "articles/dt=x", records, run_id="r1", max_records=2)
    assert [Path(p).name for p in paths] == [f"articles-r1-0000{i}.avro" for i in range(3)]
    assert [len(read(p)) for p in paths] == [2, 2, 1]


def test_sync_marker_follows_content():
    assert sync_marker("r", "p", [("a",)]) == sync_marker("r", "p", [("a",)])
    assert len(sync_marker("r", "p", [])) == 16
    assert sync_marker("r", "p", [("a",)]) != sync_marker("r", "p", [("b",)])
    assert sync_marker("r", "p", [("a",)]) != sync_marker("r", "q", [("a",)])


def test_remove_stale_deletes_only_this_runs_files_not_written_again(tmp_path):
    kind = KINDS["articles"]
    old = write_partition(tmp_path, kind, "articles/dt=2026-11-01", [to_dict(article(1))], run_id="aa11")
    kept = write_partition(tmp_path, kind, "articles/dt=2026-11-02", [to_dict(article(2))], run_id="aa11")
    other = write_partition(tmp_path, kind, "articles/dt=2026-11-01", [to_dict(article(3))], run_id="bb22")
    assert remove_stale(tmp_path, "aa11", kept) == old
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.avro")) == [
        "articles/dt=2026-11-01/articles-bb22-00000.avro",
        "articles/dt=2026-11-02/articles-aa11-00000.avro",
    ]
    assert Path(other[0]).exists()


def test_every_listed_codec_writes_and_reads_back(tmp_path):
    for codec in CODECS:
        check_codec(codec)
        (path,) = write_partition(
            tmp_path / codec, KINDS["articles"], "p", [to_dict(article(7))], run_id="c0", codec=codec
        )
        with open(path, "rb") as f:
            reader = fastavro.reader(f)
            assert reader.codec == codec and next(reader)["id"] == f"{7:032x}"
    with pytest.raises(ValueError, match="unknown Avro codec"):
        check_codec("lzo")


def run_sink(directory: Path, articles: list[Article], duplicates, letters) -> None:
    with TestPipeline() as p:
        outputs = {
            "articles": p | "A" >> beam.Create(articles, reshuffle=False),
            "duplicates": p | "D" >> beam.Create(duplicates, reshuffle=False),
            "dlq": p | "L" >> beam.Create(letters, reshuffle=False),
        }
        outputs | WriteAvroFiles(str(directory), "feed01", metadata={"newsflow.run": "test"})


def test_sink_writes_all_outputs_identically_on_rerun_and_drops_what_vanished(tmp_path):
    oct31 = datetime(2026, 10, 31, 22, 0, tzinfo=UTC)
    articles = [article(i) for i in range(6)] + [article(10, oct31), article(11, None, None)]
    duplicates = [DuplicateVerdict(id="d1", duplicate_of=f"{1:032x}", method="exact", similarity=1.0)]
    failed = datetime(2026, 11, 3, tzinfo=UTC)
    letters = [DeadLetter(b"not json", "parse", "ParseError", "not JSON", SourcePosition("f", 0, 3), failed)]
    run_sink(tmp_path, articles, duplicates, letters)
    first = tree(tmp_path)
    assert sorted(first) == [
        "articles/dt=2026-10-31/articles-feed01-00000.avro",
        "articles/dt=2026-11-02/articles-feed01-00000.avro",
        "articles/dt=unknown/articles-feed01-00000.avro",
        "dlq/dead_letters-feed01-00000.avro",
        "duplicates/duplicates-feed01-00000.avro",
    ]
    assert len(read(tmp_path / "articles/dt=2026-11-02/articles-feed01-00000.avro")) == 6
    assert read(tmp_path / "dlq/dead_letters-feed01-00000.avro")[0]["original"] == b"not json"
    with open(tmp_path / "duplicates/duplicates-feed01-00000.avro", "rb") as f:
        assert fastavro.reader(f).metadata["newsflow.run"] == "test"

    run_sink(tmp_path, articles[::-1], duplicates, letters)
    assert tree(tmp_path) == first, "a re-run rewrites the same bytes"

    run_sink(tmp_path, articles[:6], [], [])
    assert sorted(tree(tmp_path)) == ["articles/dt=2026-11-02/articles-feed01-00000.avro"]
