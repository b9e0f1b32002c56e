"""WARC records that warcio would hold whole: one huge HTTP chunk, a small gzip body that inflates past the
limit, a WARC or HTTP header block over the limit (one long line or many short ones). Each is read through
in blocks (tracemalloc-bounded), dead-lettered as too large with its complete original, and the archive
reads on to the next record."""

from __future__ import annotations

import gzip
import hashlib
import json
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.test_file_io_limits import BOMB, COMPRESS, LIMIT, PEAK, read_traced
from transforms.file_io import Oversized, iter_file
from transforms.kafka_io import KafkaRecord
from transforms.original_store import OriginalStore
from transforms.warc import MAX_HEADER_LINES

GOOD_BODY = b"<html><body><p>%d</p></body></html>"


def http_message(body: bytes, headers: list[bytes] = (), status: bytes = b"200 OK") -> bytes:
    lines = [b"HTTP/1.1 " + status, b"Content-Type: text/html; charset=utf-8", *headers]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def warc_record(number: int, block: bytes, headers: list[bytes] = ()) -> tuple[bytes, bytes]:
    """(the record as it goes in the file, its header block and content block: all of it but the two line
    ends after it)."""
    lines = [
        b"WARC/1.0",
        b"WARC-Type: response",
        b"WARC-Target-URI: https://n.example/%d" % number,
        b"WARC-Date: 2026-11-02T10:20:30Z",
        b"WARC-Record-ID: <urn:uuid:00000000-0000-0000-0000-%012d>" % number,
        *headers,
        b"Content-Type: application/http; msgtype=response",
        b"Content-Length: %d" % len(block),
    ]
    record = b"\r\n".join(lines) + b"\r\n\r\n" + block
    return record + b"\r\n\r\n", record


def write_archive(directory: Path, suffix: str, middle: bytes) -> Path:
    """A good record, ``middle`` (a record as it goes in the file), a good record; gzip members for .gz."""
    records = [
        warc_record(1, http_message(GOOD_BODY % 1))[0],
        middle,
        warc_record(3, http_message(GOOD_BODY % 3))[0],
    ]
    path = directory / f"crawl.warc{suffix}"
    if suffix == ".gz":
        path.write_bytes(b"".join(gzip.compress(r) for r in records))
    else:
        path.write_bytes(COMPRESS[suffix](b"".join(records)))
    return path


def chunked(body: bytes, cuts: list[int], trailer: bytes = b"") -> bytes:
    """``body`` in chunked transfer-encoding, cut at ``cuts``; ``trailer``: header lines after the last."""
    points = sorted({0, len(body), *(c for c in cuts if 0 < c < len(body))})
    parts = [b"%x\r\n%s\r\n" % (b - a, body[a:b]) for a, b in zip(points, points[1:], strict=False)]
    return b"".join(parts) + b"0\r\n" + trailer + b"\r\n"


def assert_read_on(records: list[KafkaRecord | Oversized]) -> Oversized:
    """The good records before and after are read; the one between is the Oversized returned."""
    assert len(records) == 3
    first, middle, last = records
    assert isinstance(first, KafkaRecord) and b"<p>1</p>" in first.value
    assert isinstance(last, KafkaRecord) and b"<p>3</p>" in last.value
    assert isinstance(middle, Oversized)
    return middle


def assert_dead_letter(oversized: Oversized, original: bytes, store: Path) -> None:
    assert (oversized.size, oversized.sha256) == (len(original), hashlib.sha256(original).hexdigest())
    assert OriginalStore(store).get(oversized.ref) == original
    letter = oversized.dead_letter()
    assert (letter.stage, letter.error_type, letter.original_size) == (
        "parse",
        "LimitExceeded",
        len(original),
    )
    assert letter.message.startswith(f"message is {len(original)} bytes, limit is {LIMIT}; original: ")


@pytest.mark.parametrize("suffix", ["", ".gz", ".zst"])
@pytest.mark.parametrize("encoding", [None, "gzip", "deflate"])
@pytest.mark.parametrize("chunks", ["one", "none"])
def test_a_payload_in_one_huge_chunk_or_inflating_past_the_limit_is_never_held(
    tmp_path, suffix, encoding, chunks
):
    """warcio read a chunk whole, and inflated a read whole (16 KiB of gzip are 16 MiB of page)."""
    page = b"<html><body><p>" + b"a" * (BOMB - 33) + b"</p></body></html>"
    coded = {None: page, "gzip": gzip.compress(page), "deflate": zlib.compress(page)}[encoding]
    headers = [b"Content-Encoding: " + encoding.encode()] if encoding else []
    if chunks == "one":
        headers.append(b"Transfer-Encoding: chunked")
        coded = chunked(coded, [])
    path = write_archive(tmp_path, suffix, warc_record(2, http_message(coded, headers))[0])
    store = tmp_path / "state"
    records, peak = read_traced(path, str(store))
    assert peak < PEAK, f"held {peak} bytes reading a {BOMB}-byte payload"
    oversized = assert_read_on(records)
    assert oversized.headers is None  # the payload, decoded, is the original
    assert_dead_letter(oversized, page, store)
    assert "the payload of the WARC record at byte" in oversized.dead_letter().message


@pytest.mark.parametrize("suffix", ["", ".gz", ".zst"])
@pytest.mark.parametrize("shape", ["one line", "many lines"])
@pytest.mark.parametrize("block", ["WARC", "HTTP"])
def test_a_header_block_over_the_limit_is_read_through_and_its_record_dead_lettered(
    tmp_path, suffix, shape, block
):
    """warcio kept every header of a block, each line whole however long (and joined a long line's blocks in
    quadratic time); the record is one too large, the original the record from that block on."""
    if shape == "one line":
        extra = [b"X-Padding: " + b"p" * BOMB]
    else:
        extra = [b"X-Padding-%d: %s" % (n, b"p" * 50) for n in range(BOMB // 64)]
    if block == "WARC":
        entry, original = warc_record(2, http_message(GOOD_BODY % 2), extra)
    else:
        message = http_message(GOOD_BODY % 2, extra)
        entry, original = warc_record(2, message)[0], message
    path = write_archive(tmp_path, suffix, entry)
    store = tmp_path / "state"
    records, peak = read_traced(path, str(store))
    assert peak < PEAK, f"held {peak} bytes reading a {len(original)}-byte header block"
    oversized = assert_read_on(records)
    assert oversized.headers == block
    assert_dead_letter(oversized, original, store)
    assert (
        f"at byte {oversized.offset}, its {block} headers over the limit" in oversized.dead_letter().message
    )


def test_a_header_block_of_the_limit_passes_and_one_byte_more_is_over(tmp_path):
    """The limit holds for a header block as for a line: up to it the record is read as before."""

    def entry_of(pad: int) -> tuple[bytes, int]:
        entry, original = warc_record(2, http_message(GOOD_BODY % 2), [b"X-Pad: " + b"p" * pad])
        return entry, len(original.split(b"\r\n\r\n")[0]) + 4  # the header block, blank line included

    base = entry_of(0)[1]
    for pad, over in ((LIMIT - base, False), (LIMIT - base + 1, True)):
        entry, block = entry_of(pad)
        assert block == LIMIT + over
        records = list(iter_file(str(write_archive(tmp_path, "", entry)), limit=LIMIT))
        assert isinstance(records[1], Oversized) == over
        if not over:
            assert b"<p>2</p>" in records[1].value


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    size=st.one_of(st.integers(0, 3 * LIMIT), st.integers(LIMIT - 2, LIMIT + 2), st.sampled_from([BOMB])),
    cuts=st.lists(st.integers(0, 3 * LIMIT), max_size=4),
    encoding=st.sampled_from([None, "gzip"]),
    trailer=st.sampled_from([b"", b"X-Checksum: 1\r\n", b"A: 1\r\nB: 2\r\n"]),
    suffix=st.sampled_from(["", ".gz"]),
)
def test_chunked_payloads_read_whole_up_to_the_limit_and_dead_letter_whole_past_it(
    tmp_path_factory, size, cuts, encoding, trailer, suffix
):
    """Any chunking of any body, gzip-coded or not, with or without a trailer: the page is the body exactly
    (the trailer is HTTP, not page: warcio appended it), or past the limit the body is the original; memory
    stays bounded whatever the chunk sizes."""
    directory = tmp_path_factory.mktemp("chunked")
    body = (b"<p>" + bytes(range(97, 123)) * (size // 26 + 1))[:size]
    coded = gzip.compress(body, mtime=0) if encoding else body
    headers = [b"Transfer-Encoding: chunked"] + ([b"Content-Encoding: gzip"] if encoding else [])
    entry = warc_record(2, http_message(chunked(coded, cuts, trailer), headers))[0]
    records, peak = read_traced(write_archive(directory, suffix, entry))
    assert peak < PEAK
    assert len(records) == 3 and b"<p>3</p>" in records[2].value
    if size > LIMIT:
        assert isinstance(records[1], Oversized)
        assert (records[1].size, records[1].sha256) == (size, hashlib.sha256(body).hexdigest())
    else:
        assert json.loads(records[1].value)["html"].encode() == body


@pytest.mark.parametrize(
    "transfer", ["Chunked", "CHUNKED", " chunked ", "gzip, chunked", "identity, Chunked"]
)
def test_transfer_codings_are_read_as_http_names_them(tmp_path, transfer):
    """Coding names are case-insensitive and a list ends with ``chunked``: warcio de-chunked only the exact
    value ``chunked``, so the page kept its chunk-size lines ("1f\\r\\n<p>...")."""
    page = GOOD_BODY % 2
    coded = gzip.compress(page) if "gzip" in transfer else page
    entry = warc_record(
        2, http_message(chunked(coded, [10, 20]), [b"Transfer-Encoding: " + transfer.encode()])
    )[0]
    records = list(iter_file(str(write_archive(tmp_path, "", entry))))
    assert json.loads(records[1].value)["html"].encode() == page


@pytest.mark.parametrize("block", ["WARC", "HTTP"])
def test_a_header_block_of_too_many_lines_is_read_through_and_its_record_dead_lettered(tmp_path, block):
    """1.8 million short header lines, within the size limit, took 3.5 CPU-s to parse and ~100 MB to hold
    (warcio keeps every header). Past MAX_HEADER_LINES lines (status and blank line included) the block is
    read through like one over the size limit: its record is a dead letter, as stored from that block."""

    def entry_of(extra: int) -> tuple[bytes, bytes, int]:
        pad = [b"X-%d: 1" % n for n in range(extra)]
        if block == "WARC":
            entry, original = warc_record(2, http_message(GOOD_BODY % 2), pad)
        else:
            message = http_message(GOOD_BODY % 2, pad)
            entry, original = warc_record(2, message)[0], message
        return entry, original, original.split(b"\r\n\r\n")[0].count(b"\r\n") + 2

    base = entry_of(0)[2]
    for extra, over in ((MAX_HEADER_LINES - base, False), (MAX_HEADER_LINES - base + 1, True)):
        entry, original, lines = entry_of(extra)
        assert lines == MAX_HEADER_LINES + over
        store = tmp_path / f"state-{over}"
        records = list(
            iter_file(str(write_archive(tmp_path, "", entry)), limit=LIMIT * 64, store_dir=str(store))
        )
        if not over:
            assert b"<p>2</p>" in records[1].value
            continue
        middle = assert_read_on(records)
        assert (middle.headers, middle.size) == (block, len(original))
        assert OriginalStore(store).get(middle.ref) == original
        letter = middle.dead_letter()
        assert (letter.stage, letter.error_type) == ("parse", "LimitExceeded")
        assert letter.message.startswith(
            f"its {block} header block has over {MAX_HEADER_LINES:,} lines; original:"
        )
