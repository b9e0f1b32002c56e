"""A WARC archive with one bad record (a wrong Content-Length, garbage between records) loses only what is
bad: the reader resynchronises on the next WARC version line followed by a WARC header block, the bytes it
skipped are one dead letter (stage ``read``, their original as stored), and every other record reads.
Before, the rest of the file after the bad record was one read error."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import time
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tests.unit.test_file_io_limits import BOMB, COMPRESS, PEAK, read_traced
from tests.unit.test_warc_limits import http_message, warc_record
from transforms.file_io import OVERRUN, READ_ERRORS, Oversized, iter_file
from transforms.kafka_io import KafkaRecord
from transforms.original_store import OriginalStore
from transforms.warc import header_block_starts_record, holds_record_start

SUFFIXES = ["", ".zst", ".bz2", ".gz-stream"]
"""Archives read as one stream: plain, zstd, bzip2, and a .warc.gz written as one gzip stream."""


def body(number: int) -> bytes:
    return b"<html><body><p>page %d</p>%s</body></html>" % (number, b"<p>words</p>\n" * (number % 5))


def request(number: int) -> bytes:
    """A request record (skipped by the reader, not an article) as it goes in the file."""
    block = b"GET /%d HTTP/1.1\r\nHost: n.example\r\n\r\n" % number
    lines = [
        b"WARC/1.0",
        b"WARC-Type: request",
        b"WARC-Target-URI: https://n.example/%d" % number,
        b"WARC-Record-ID: <urn:uuid:10000000-0000-0000-0000-%012d>" % number,
        b"Content-Type: application/http; msgtype=request",
        b"Content-Length: %d" % len(block),
    ]
    return b"\r\n".join(lines) + b"\r\n\r\n" + block + b"\r\n\r\n"


def write(directory: Path, suffix: str, data: bytes) -> Path:
    if suffix == ".gz-stream":
        path = directory / "crawl.warc.gz"
        path.write_bytes(gzip.compress(data))
    else:
        path = directory / f"crawl.warc{suffix}"
        path.write_bytes(COMPRESS[suffix](data))
    return path


def read(path: Path, store: Path) -> list[KafkaRecord | Oversized]:
    return list(iter_file(str(path), store_dir=str(store)))


def pages(records: list[KafkaRecord | Oversized]) -> dict[int, str]:
    """The pages read, by their record's offset."""
    return {r.offset: json.loads(r.value)["html"] for r in records if isinstance(r, KafkaRecord)}


def assert_skip(letter: Oversized, original: bytes, start: int, store: Path) -> None:
    """``letter`` is the dead letter of the bytes skipped at ``start``, their original as stored. (A .warc.gz
    of one gzip stream is read as gzip members until a second record shows it is not: bytes skipped to its
    end after its first record are located as in that first member, at byte 0.)"""
    assert letter.sha256 == hashlib.sha256(original).hexdigest()
    assert OriginalStore(store).get(letter.ref) == original
    message = letter.dead_letter()
    assert (message.stage, message.error_type) == ("read", "ParseError")
    if letter.path.endswith(".gz") and letter.start is None:
        assert (letter.offset, letter.size) == (0, len(original))
        assert f"{len(original)} bytes in the gzip member of the WARC record at byte 0" in message.message
        return
    assert (letter.start, letter.offset, letter.size) == (start, start, len(original))
    assert f"holds no record in bytes {start}-{start + len(original)}" in message.message


def lead(data: bytes, at: int) -> int:
    """``at`` past the blank lines there (lines of whitespace, as warcio's, and after one the CR and LF
    bytes that follow, as ``LineReader.skip_line_ends``)."""
    while at < len(data):
        line_end = data.find(b"\n", at)
        line = data[at:] if line_end < 0 else data[at : line_end + 1]
        if line.rstrip():
            break
        at += len(line)
        at = len(data) - len(data[at:].lstrip(b"\r\n"))
    return at


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    count=st.integers(3, 7),
    bad=st.data(),
    delta=st.one_of(st.integers(-3000, -1), st.integers(5, 3000)),
    kinds=st.lists(st.sampled_from(["response", "request"]), min_size=7, max_size=7),
    suffix=st.sampled_from(SUFFIXES),
)
def test_a_wrong_content_length_loses_no_other_record(tmp_path_factory, count, bad, delta, kinds, suffix):
    """A record's Content-Length off by ``delta``. Too short: its block's end is skipped, one dead letter.
    Too long (by more than the 4 bytes of line ends after it): the records whose start it swallowed are
    read all the same, from the two CRLFs that end its block on; the record is a dead letter holding its
    block exactly (a request is skipped as before). Every other record reads exactly, the bad one never
    passes as a page, and no byte is dropped unsaid. A length past the end of the file on the last record
    is the file cut short, a read error after the records before it."""
    index = bad.draw(st.integers(0, count - 1))
    kind, requests = kinds[index], kinds[:count].count("request")
    entries = [
        request(n) if kinds[n] == "request" else warc_record(n, http_message(body(n)))[0]
        for n in range(count)
    ]
    responses = [n for n in range(count) if kinds[n] == "response"]
    length = int(re.search(rb"Content-Length: (\d+)\r\n\r\n", entries[index]).group(1))
    assume(length + delta >= 0)
    entries[index] = entries[index].replace(
        b"Content-Length: %d\r\n\r\n" % length, b"Content-Length: %d\r\n\r\n" % (length + delta)
    )
    data = b"".join(entries)
    starts = [sum(len(e) for e in entries[:n]) for n in range(count)]
    block_start = starts[index] + entries[index].index(b"\r\n\r\n") + 4
    end = block_start + length + delta  # where the reader takes the bad record to end
    ends = [s + len(e) - 4 for s, e in zip(starts, entries, strict=True)]  # each block's true end
    assume(not any(e <= end <= s for e, s in zip(ends, [*starts[1:], len(data)], strict=True)))
    # (a length that ends the record exactly where one ends: indistinguishable from a right one)
    following = next((s for s in starts if s >= end), len(data))
    assume(delta < 0 or end > len(data) or data[end:following].strip(b"\r\n"))
    # (nor one that ends where only line ends follow, as inside a request's last lines: the same)
    directory = tmp_path_factory.mktemp("len")
    store = directory / "store"
    path = write(directory, suffix, data)
    records: list[KafkaRecord | Oversized] = []
    skipped: Counter = Counter()
    try:
        for record in iter_file(str(path), skipped=skipped, store_dir=str(store)):
            records.append(record)
    except READ_ERRORS:
        assert end > len(data) and index == count - 1  # the file ends inside the last record: it is cut
        assert pages(records) == {starts[n]: body(n).decode() for n in responses if n < index}
        return
    letters = [r for r in records if isinstance(r, Oversized)]
    if delta > 0:  # too long: it swallowed the start of the next record, which reads all the same
        assert pages(records) == {starts[n]: body(n).decode() for n in responses if n != index}
        assert skipped == Counter(not_response=requests)
        if kind == "request":
            assert not letters
            return
        (own,) = letters
        assert own.offset == starts[index] and own.dead_letter().message.startswith(OVERRUN)
        assert OriginalStore(store).get(own.ref) == http_message(body(index))  # its block, exactly
        return
    assert pages(records) == {starts[n]: body(n).decode() for n in responses if n != index}
    resumed = next((starts[n] for n in range(count) if starts[n] > end), len(data))
    if kind == "response" and letters and letters[0].start is None:  # the bad record's own dead letter
        own = letters.pop(0)
        assert own.offset == starts[index] and own.problem is not None
    elif kind == "response":  # cut inside its HTTP headers: no HTML response, skipped as one
        assert sum(skipped.values()) == requests + 1
    if data[lead(data, end) : resumed]:
        (skip,) = letters
        assert_skip(skip, data[lead(data, end) : resumed], lead(data, end), store)
    else:  # (a request's block short by its last line end: nothing but line ends to skip)
        assert not letters


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    count=st.integers(2, 6),
    where=st.data(),
    lines=st.lists(
        st.one_of(
            st.binary(min_size=1, max_size=300),
            st.sampled_from([b"WARC/1.0", b"WARC/1.1", b"WARC/0.18", b"WARC-Type: response", b""]),
            st.sampled_from([b"Content-Length: 12", b"WARC/1.0\r\nWARC-Type: response\r\n"]),
        ),
        min_size=1,
        max_size=30,
    ),
    suffix=st.sampled_from(SUFFIXES),
)
def test_garbage_between_records_is_one_dead_letter_and_every_record_reads(
    tmp_path_factory, count, where, lines, suffix
):
    """Bytes that are no record, between two records (lines of binary, and of WARC-looking text: version
    lines not followed by a WARC header block are no record start): every record reads exactly, the
    garbage (after its leading line ends) is one dead letter."""
    garbage = b"\r\n".join(lines) + b"\r\n"
    assume(lead(b"\r\n\r\n" + garbage, 0) < len(garbage) + 4 and not holds_record_start(garbage))
    at = where.draw(st.integers(1, count - 1))  # a file starts with a record; (at its end, see below)
    entries = [warc_record(n, http_message(body(n)))[0] for n in range(count)]
    data = b"".join(entries[:at]) + garbage + b"".join(entries[at:])
    starts = [sum(len(e) for e in entries[:n]) + (len(garbage) if n >= at else 0) for n in range(count)]
    directory = tmp_path_factory.mktemp("junk")
    store = directory / "store"
    records = read(write(directory, suffix, data), store)
    assert pages(records) == {starts[n]: body(n).decode() for n in range(count)}
    (skip,) = [r for r in records if isinstance(r, Oversized)]
    first = sum(len(e) for e in entries[:at])
    begin = lead(data, first - 4)  # (from the end of the record before: its two CRLFs, then the garbage)
    assert_skip(skip, data[begin : first + len(garbage)], begin, store)


def test_a_record_with_a_wrong_length_no_longer_loses_the_rest_of_the_file(tmp_path):
    """The case that was one read error for the whole rest of the file (a Content-Length too short by more
    than a line): now the record is a dead letter, its block's end another, and the records after it
    read."""
    entries = [warc_record(n, http_message(body(n)))[0] for n in range(4)]
    block = http_message(body(1))
    entries[1] = entries[1].replace(
        b"Content-Length: %d" % len(block), b"Content-Length: %d" % (len(block) - 30)
    )
    records = read(write(tmp_path, "", b"".join(entries)), tmp_path / "store")
    assert [type(r) for r in records] == [KafkaRecord, Oversized, Oversized, KafkaRecord, KafkaRecord]
    assert "goes on past its Content-Length" in records[1].dead_letter().message
    assert "skipped to the next WARC record" in records[2].dead_letter().message


def test_bytes_after_the_last_record_are_skipped_to_the_end_of_the_file(tmp_path):
    """Garbage after the last record is one dead letter. (A version line alone there is a record cut in
    its headers: the file is cut, a read error, as before.)"""
    entries = [warc_record(n, http_message(body(n)))[0] for n in range(2)]
    records = read(write(tmp_path, ".zst", b"".join(entries) + b"\x00junk\r\nWARC/1.0\r\n"), tmp_path / "s")
    assert [type(r) for r in records] == [KafkaRecord, KafkaRecord, Oversized]
    assert "skipped to the end of the file" in records[2].dead_letter().message


def test_in_a_warc_gz_of_members_a_short_length_skips_to_the_next_member(tmp_path):
    """In a .warc.gz of one member a record, a block's end left by a short Content-Length is skipped to its
    member's end (it was a read error of the rest of the file), located by the record's offset."""
    entries = [warc_record(n, http_message(body(n)))[0] for n in range(3)]
    block = http_message(body(1))
    entries[1] = entries[1].replace(
        b"Content-Length: %d" % len(block), b"Content-Length: %d" % (len(block) - 30)
    )
    members = [gzip.compress(e) for e in entries]
    path = tmp_path / "crawl.warc.gz"
    path.write_bytes(b"".join(members))
    records = read(path, tmp_path / "store")
    assert [type(r) for r in records] == [KafkaRecord, Oversized, Oversized, KafkaRecord]
    skip = records[2]
    assert skip.offset == len(members[0]) and skip.start is None
    stored = OriginalStore(tmp_path / "store").get(skip.ref)
    assert entries[1].endswith(stored) and len(stored) == 30 + 4
    assert "in the gzip member of the WARC record at byte" in skip.dead_letter().message


def test_a_whole_fake_record_inside_skipped_bytes_is_read_as_a_record(tmp_path):
    """Documented limit: while resynchronising, a page body that holds a whole WARC header block (a page
    quoting one) is taken for a record start; its own Content-Length frames it, and the reader
    resynchronises again after it if that is wrong. Here the quoted record is a response: it passes as a
    page. Only bytes already skipped are read this way: a page within its right length is never scanned."""
    quoted = warc_record(9, http_message(b"<p>quoted</p>"))[0]
    entries = [warc_record(n, http_message(body(n)))[0] for n in range(2)]
    data = entries[0] + b"junk\r\n" + quoted + entries[1]
    records = read(write(tmp_path, "", data), tmp_path / "store")
    assert [type(r) for r in records] == [KafkaRecord, Oversized, KafkaRecord, KafkaRecord]
    assert b"quoted" in records[2].value


@pytest.mark.parametrize(
    ("block", "starts"),
    [
        (b"WARC-Type: response\r\nContent-Length: 5\r\n\r\n", True),
        (b"WARC-Type: response\nContent-Length: 5\n\n", True),
        (b"WARC-Type: response\r\n  folded\r\nContent-Length: 0\r\n\r\n", True),
        (b"WARC-Type: response\r\nContent-Length: five\r\n\r\n", False),
        (b"WARC-Type: response\r\n\r\n", False),
        (b"WARC-Type:\r\nContent-Length: 5\r\n\r\n", False),
        (b"Content-Length: 5\r\n\r\n", False),
        (b"WARC-Type: response\r\nContent-Length: 5\r\n", False),  # no blank line: cut at the probe
        (b"<p>WARC-Type: response</p>\r\nContent-Length: 5\r\n\r\n", False),
        (b"\r\n", False),
    ],
)
def test_a_candidate_needs_a_whole_warc_header_block(block, starts):
    assert header_block_starts_record(block) is starts


@pytest.mark.parametrize("suffix", ["", ".zst"])
@pytest.mark.parametrize("line", [b"x\n", b"x" * 1000])
def test_skipped_bytes_are_scanned_a_block_at_a_time_never_held(tmp_path, suffix, line):
    """16 MB of garbage (short lines, or one line) between two records: streamed into the store a block at
    a time, never held, and scanned by block (a line at a time took 5.2 CPU-s for 8 million lines)."""
    entries = [warc_record(n, http_message(body(n)))[0] for n in range(2)]
    garbage = line * (BOMB // len(line)) + b"\r\n"
    path = write(tmp_path, suffix, entries[0] + garbage + entries[1])
    started = time.process_time()
    records, peak = read_traced(path, str(tmp_path / "store"))
    assert time.process_time() - started < 2
    assert peak < PEAK, f"held {peak} bytes skipping {len(garbage)}"
    assert [type(r) for r in records] == [KafkaRecord, Oversized, KafkaRecord]
    assert (records[1].size, records[1].start) == (len(garbage), len(entries[0]))


@pytest.mark.parametrize("header", ["WARC", "HTTP"])
def test_a_length_ending_before_a_swallowed_header_blocks_crlfs_is_no_page(tmp_path, header):
    """Too long by just enough to end before the two CRLFs ending the next record's WARC (or HTTP) header
    block: what follows looks like a record's end, then garbage; the record's block holds the next
    record's start, so it is a dead letter, not a page with that record in it, and that record reads."""
    entries = [warc_record(n, http_message(body(n)))[0] for n in range(3)]
    block = http_message(body(0))
    target = entries[1].index(b"\r\n\r\n") if header == "WARC" else entries[1].index(b"\r\n\r\n<html>")
    longer = len(block) + 4 + target
    entries[0] = entries[0].replace(b"Content-Length: %d" % len(block), b"Content-Length: %d" % longer)
    records = read(write(tmp_path, "", b"".join(entries)), tmp_path / "store")
    assert [type(r) for r in records] == [Oversized, KafkaRecord, KafkaRecord]
    assert records[0].dead_letter().message.startswith(OVERRUN)
    assert OriginalStore(tmp_path / "store").get(records[0].ref) == block
    assert [json.loads(r.value)["html"] for r in records[1:]] == [body(1).decode(), body(2).decode()]


@pytest.mark.parametrize("last", [True, False])
def test_a_length_ending_just_before_its_own_http_heads_blank_line_is_no_page(tmp_path, last):
    """Too short by the body and the HTTP header block's last CRLFs: what follows the record starts with
    two CRLFs, as a record's end does, then the body (garbage to the reader). The HTTP head has no blank
    line, so the record is cut: a dead letter, not an empty page (hypothesis found it for the last record)."""
    entries = [warc_record(n, http_message(body(n)))[0] for n in range(3)]
    index = 2 if last else 1
    block = http_message(body(index))
    shorter = block.index(b"\r\n\r\n")  # up to the head's last header line, without its line end
    entries[index] = entries[index].replace(
        b"Content-Length: %d" % len(block), b"Content-Length: %d" % shorter
    )
    records = read(write(tmp_path, "", b"".join(entries)), tmp_path / "store")
    got = {r.offset: json.loads(r.value)["html"] for r in records if isinstance(r, KafkaRecord)}
    start = len(entries[0]) + (len(entries[1]) if last else 0)
    assert start not in got, "the cut record passed as a page"
    assert body(0).decode() in got.values()
    assert any(
        "goes on past its Content-Length" in r.dead_letter().message
        for r in records
        if isinstance(r, Oversized)
    )


def test_a_too_long_record_whose_page_quotes_a_record_is_cut_at_the_quote_and_loses_no_byte(tmp_path):
    """Documented limit: a record with a length too large whose own page quotes a whole record (the two
    CRLFs, then a WARC header block) is cut at that quote; the quoted record reads as a record, the rest
    of the page is skipped to the next record (a dead letter), and the record after it reads. Every byte
    of the bad record but the two CRLFs taken for its end is in one of its two dead letters or the quoted
    record."""
    quoted = warc_record(9, http_message(b"<p>quoted</p>"))[0]
    page = b"<html><body><pre>\r\n\r\n" + quoted + b"</pre></body></html>"
    block = http_message(page)
    entries = [warc_record(0, block)[0], warc_record(1, http_message(body(1)))[0]]
    entries[0] = entries[0].replace(
        b"Content-Length: %d" % len(block), b"Content-Length: %d" % (len(block) + 50)
    )
    records = read(write(tmp_path, "", b"".join(entries)), tmp_path / "store")
    assert [type(r) for r in records] == [Oversized, KafkaRecord, Oversized, KafkaRecord]
    own, fake, rest, last = records
    assert own.dead_letter().message.startswith(OVERRUN) and b"quoted" in fake.value
    assert json.loads(last.value)["html"] == body(1).decode()
    store = OriginalStore(tmp_path / "store")
    cut = block.index(b"\r\n\r\n" + quoted)
    assert store.get(own.ref) == block[:cut]
    assert store.get(rest.ref) == block[cut + 4 + len(quoted) :] + b"\r\n\r\n"
