"""Records over the message limit in file inputs (a decompression bomb's line, page or WARC payload): read
through in blocks and never held, dead-lettered with their size, place and complete original, and the rest
of the file read on; on plain, .gz, .bz2 and .zst files alike."""

from __future__ import annotations

import bz2
import gzip
import hashlib
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import apache_beam as beam
import pytest
import zstandard
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.cli.inputs import iter_messages
from tests.unit.test_file_io import write_warc
from transforms.file_io import (
    READ_BLOCK,
    UNREADABLE,
    FileRange,
    Oversized,
    ReadFiles,
    iter_file,
)
from transforms.kafka_io import KafkaRecord
from transforms.original_store import OriginalStore

LIMIT = 64 * 1024
BOMB = 16 * 1024 * 1024
PEAK = 4 * 1024 * 1024
"""Most a read may hold at once: the limit and some blocks (about 1 MiB from warcio for a .warc.gz), far
below the bomb's record."""

COMPRESS: dict[str, Callable[[bytes], bytes]] = {
    "": lambda data: data,
    ".gz": gzip.compress,
    ".bz2": bz2.compress,
    ".zst": lambda data: zstandard.ZstdCompressor().compress(data),
}
GOOD = b'{"url": "https://a.example/1", "text": "one"}'


def bomb_file(directory: Path, kind: str, suffix: str, size: int) -> tuple[Path, bytes]:
    """A file of ``kind`` whose one record (line, page, WARC payload) is ``size`` bytes, between good ones
    where the kind has several; and that record's bytes."""
    if kind == "warc":
        record = b"<html><body><p>" + b"a" * (size - 26) + b"</p></body></html>"
        path = directory / f"crawl.warc{suffix}"
        plain = path if suffix in ("", ".gz") else directory / "plain.warc"
        pages = [("https://n.example/1", b"<p>one</p>"), ("https://n.example/2", record)]
        pages.append(("https://n.example/3", b"<p>three</p>"))
        write_warc(plain, [(url, "200 OK", body, "text/html") for url, body in pages])
        if suffix not in ("", ".gz"):
            path.write_bytes(COMPRESS[suffix](plain.read_bytes()))
        return path, record
    if kind == "jsonl":
        record = b'{"text": "' + b"a" * (size - 12) + b'"}'
        path = directory / f"bomb.jsonl{suffix}"
        path.write_bytes(COMPRESS[suffix](GOOD + b"\n" + record + b"\n" + GOOD + b"\n"))
        return path, record
    record = b"<p>" + b"a" * (size - 7) + b"</p>" if kind == "html" else b"a" * size
    path = directory / f"bomb.{'html' if kind == 'html' else 'txt'}{suffix}"
    path.write_bytes(COMPRESS[suffix](record))
    return path, record


def read_traced(path: Path, store_dir: str | None = None) -> tuple[list[KafkaRecord | Oversized], int]:
    """The file's records, and the peak of memory allocated while reading them."""
    tracemalloc.start()
    try:
        records = list(iter_file(str(path), limit=LIMIT, store_dir=store_dir))
        return records, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("suffix", list(COMPRESS))
@pytest.mark.parametrize("kind", ["jsonl", "html", "text", "warc"])
def test_a_record_over_the_limit_is_read_through_without_being_held(tmp_path, kind, suffix):
    path, record = bomb_file(tmp_path, kind, suffix, BOMB)
    store = tmp_path / "state"
    records, peak = read_traced(path, str(store))
    assert peak < PEAK, f"held {peak} bytes reading a {BOMB}-byte record"
    (oversized,) = [r for r in records if isinstance(r, Oversized)]
    assert (oversized.size, oversized.sha256) == (len(record), hashlib.sha256(record).hexdigest())
    assert OriginalStore(store).get(oversized.ref) == record  # the complete original, streamed in
    letter = oversized.dead_letter()
    assert (letter.stage, letter.error_type, letter.original, letter.original_size) == (
        "parse",
        "LimitExceeded",
        b"",
        len(record),
    )
    assert letter.message.startswith(f"message is {len(record)} bytes, limit is {LIMIT}; original: ")
    others = [r for r in records if not isinstance(r, Oversized)]
    if kind == "jsonl":  # the good lines around it, with their numbers
        assert [(r.offset, r.value) for r in others] == [(1, GOOD), (3, GOOD)]
        assert (oversized.offset, oversized.start) == (2, len(GOOD) + 1)
        assert f"bytes {len(GOOD) + 1}-{len(GOOD) + 1 + len(record)} of the" in letter.message
    elif kind == "warc":
        assert [b"one" in r.value or b"three" in r.value for r in others] == [True, True]
        assert letter.message.endswith(f"record at byte {oversized.offset}, sha256 {oversized.sha256}")
    else:
        assert others == []


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    sizes=st.lists(
        st.one_of(st.integers(0, LIMIT + 3).map(lambda n: LIMIT - 3 + n % 7), st.integers(1, 3 * LIMIT)),
        min_size=1,
        max_size=5,
    ),
    ends=st.sampled_from([b"\n", b"\r\n"]),
    suffix=st.sampled_from(list(COMPRESS)),
    store=st.booleans(),
)
def test_lines_up_to_the_limit_pass_whole_and_longer_ones_dead_letter_whole(
    tmp_path_factory, sizes, ends, suffix, store
):
    """As on Kafka, a line of ``limit`` bytes passes and one byte more is over; every line keeps its number
    and an oversized line's original is exactly the line (without its line end), stored or hashed."""
    directory = tmp_path_factory.mktemp("lines")
    lines = [bytes([97 + i % 26]) * size for i, size in enumerate(sizes)]
    path = directory / f"lines.jsonl{suffix}"
    path.write_bytes(COMPRESS[suffix](b"".join(line + ends for line in lines)))
    store_dir = str(directory / "state") if store else None
    records = list(iter_file(str(path), limit=LIMIT, store_dir=store_dir))
    assert len(records) == len(lines)
    start = 0
    for number, (line, record) in enumerate(zip(lines, records, strict=True), start=1):
        assert record.offset == number
        if len(line) <= LIMIT:
            assert isinstance(record, KafkaRecord) and record.value == line
        else:
            assert isinstance(record, Oversized)
            assert (record.start, record.size) == (start, len(line))
            assert record.sha256 == hashlib.sha256(line).hexdigest()
            if store:
                assert OriginalStore(store_dir).get(record.ref) == line
            else:
                assert record.ref is None
        start += len(line) + len(ends)


def test_process_input_gives_an_oversized_line_to_its_handler_and_reads_on(tmp_path):
    path, record = bomb_file(tmp_path, "jsonl", ".gz", 3 * LIMIT)
    seen: list[Oversized] = []
    messages = list(iter_messages([str(path)], oversized=seen.append, limit=LIMIT))
    assert [(value, position.offset) for value, position in messages] == [(GOOD, 1), (GOOD, 3)]
    assert [(o.offset, o.size) for o in seen] == [(2, len(record))]


def test_backfill_reader_dead_letters_an_oversized_record_and_stores_its_original(tmp_path):
    path, record = bomb_file(tmp_path, "jsonl", ".zst", 3 * LIMIT)
    store = tmp_path / "state"
    ranges = [FileRange(str(path), path.stat().st_size)]
    with TestPipeline() as p:
        read = p | ReadFiles(ranges, limit=LIMIT, store_dir=str(store))
        assert_that(read.records | beam.Map(lambda r: (r.offset, r.value)), equal_to([(1, GOOD), (3, GOOD)]))
        letters = read[UNREADABLE] | beam.Map(
            lambda d: (d.stage, d.source_position.offset, d.original_size, d.original_ref)
        )
        ref = "sha256:" + hashlib.sha256(record).hexdigest()
        assert_that(letters, equal_to([("parse", 2, len(record), ref)]), label="letters")
    assert OriginalStore(store).get(ref) == record


@pytest.mark.parametrize("suffix", [".gz", ".bz2", ".zst"])
def test_a_bomb_cut_short_is_a_read_error_and_leaves_nothing_in_the_store(tmp_path, suffix):
    """Its original is incomplete: no reference may name it (the file's read error dead-letters instead)."""
    path, _ = bomb_file(tmp_path, "jsonl", suffix, BOMB)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    store = tmp_path / "state"
    with pytest.raises((EOFError, OSError)):
        list(iter_file(str(path), limit=LIMIT, store_dir=str(store)))
    assert [p.name for p in store.rglob("*") if p.is_file()] == []


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    shift=st.integers(-3, 3),
    returns=st.integers(1, 3),
    encoding=st.sampled_from(["utf-8", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"]),
    end=st.sampled_from(["\n", "\r\n"]),
)
def test_carriage_returns_inside_an_oversized_line_stay_in_its_original(
    tmp_path_factory, shift, returns, encoding, end
):
    """CRs inside a long line are held back only while they may be its line end (a read can end on them):
    the original is exactly the line, in UTF-8 and in UTF-16/32, and the next line reads on. The CR runs
    are put around every place a read of the line ends (``limit`` plus a CR LF, then 64 KiB blocks)."""
    width = {"utf-8": 1, "utf-16-le": 2, "utf-16-be": 2}.get(encoding, 4)
    chars = ["a"] * (3 * LIMIT)
    for boundary in range((LIMIT + 2 * width) // width, len(chars) - 4, READ_BLOCK // width):
        chars[boundary + shift - returns : boundary + shift] = ["\r"] * returns
    text = "".join(chars)
    path = tmp_path_factory.mktemp("returns") / "lines.jsonl"
    path.write_bytes((text + end + "{}" + end).encode(encoding))
    first, second = iter_file(str(path), limit=LIMIT)
    body = text.encode(encoding)
    assert isinstance(first, Oversized)
    assert (first.size, first.sha256) == (len(body), hashlib.sha256(body).hexdigest())
    assert isinstance(second, KafkaRecord) and second.value == "{}".encode(encoding)
