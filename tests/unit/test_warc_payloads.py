"""WARC payloads that cannot be read right, or only slowly: a page in tiny HTTP chunks (over the CPU budget),
a content coding corrupt or cut short part way, brotli and zstd bodies. Each becomes the page exactly or a
dead letter whose original is the record's HTTP message as stored; the archive reads on."""

from __future__ import annotations

import gzip
import hashlib
import json
import time
import zlib
from pathlib import Path

import brotli
import pytest
from backports import zstd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.test_file_io_limits import BOMB, LIMIT, PEAK, read_traced
from tests.unit.test_warc_limits import (
    GOOD_BODY,
    assert_read_on,
    chunked,
    http_message,
    warc_record,
    write_archive,
)
from transforms.file_io import Oversized, iter_file
from transforms.kafka_io import KafkaRecord
from transforms.original_store import OriginalStore

CODERS = {
    "gzip": lambda page: gzip.compress(page, mtime=0),
    "deflate": zlib.compress,
    "br": brotli.compress,
    "zstd": zstd.compress,
}


def page_of(size: int, seed: int = 0) -> bytes:
    """An HTML page of ``size`` bytes whose text does not repeat much (so its coding is not all one run)."""
    words = b" ".join(hashlib.sha256(b"%d-%d" % (seed, n)).hexdigest()[:7].encode() for n in range(size // 8))
    return (b"<html><body><p>" + words + b"</p></body></html>")[:size]


def assert_kept_as_stored(
    middle: Oversized, message: bytes, store: Path, error_type: str, says: str | tuple[str, ...]
) -> None:
    """``middle`` is a read dead letter whose original is ``message`` (the HTTP message as stored), its
    reason saying ``says`` (or one of them)."""
    assert middle.problem is not None
    assert (middle.size, middle.sha256) == (len(message), hashlib.sha256(message).hexdigest())
    assert OriginalStore(store).get(middle.ref) == message
    letter = middle.dead_letter()
    assert (letter.stage, letter.error_type, letter.original_size) == ("read", error_type, len(message))
    assert any(said in letter.message for said in ((says,) if isinstance(says, str) else says)), (
        letter.message
    )
    assert (
        f"original: the HTTP message of the WARC record at byte {middle.offset}, as stored" in letter.message
    )
    assert [p.name for p in store.rglob(".partial-*")] == []


@pytest.mark.parametrize("suffix", ["", ".gz", ".zst"])
@pytest.mark.parametrize("encoding", [None, "gzip"])
def test_a_payload_in_tiny_chunks_is_dead_lettered_at_its_cpu_budget_as_stored(tmp_path, suffix, encoding):
    """De-chunking costs ~2.4 CPU-µs a chunk: a 10 MB page in 1-byte chunks held its archive 24 CPU-s, with
    no budget. Now the read stops at the record's budget, the HTTP message as stored is the original, and
    the records after it are read; with the default budget the same page reads whole."""
    page = page_of(200_000)
    coded = gzip.compress(page, mtime=0) if encoding else page
    headers = [b"Transfer-Encoding: chunked"] + ([b"Content-Encoding: gzip"] if encoding else [])
    message = http_message(chunked(coded, list(range(len(coded)))), headers)
    path = write_archive(tmp_path, suffix, warc_record(2, message)[0])
    store = tmp_path / "state"
    started = time.thread_time()
    records = list(iter_file(str(path), store_dir=str(store), budget=0.02))
    assert time.thread_time() - started < 0.5 + 0.02
    middle = assert_read_on(records)
    assert_kept_as_stored(middle, message, store, "LimitExceeded", "CPU time budget of 0.02s exceeded")
    whole = list(iter_file(str(path)))[1]
    assert isinstance(whole, KafkaRecord) and json.loads(whole.value)["html"].encode() == page


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    size=st.integers(3_000, 60_000),
    encoding=st.sampled_from(["gzip", "deflate"]),
    chunks=st.booleans(),
    damage=st.one_of(
        st.tuples(st.just("flip"), st.floats(0.0, 1.0), st.integers(1, 255)),
        st.tuples(st.just("cut"), st.floats(0.0, 0.999), st.just(0)),
    ),
)
def test_a_body_whose_coding_breaks_part_way_is_the_page_or_a_dead_letter_never_cut(
    tmp_path_factory, size, encoding, chunks, damage
):
    """A gzip or deflate body with a byte changed, or cut short, anywhere past its header: warcio (and
    browsers) passed the page on up to the error, cut short or garbled. Now the page is exact (a change
    the format ignores) or the record is a dead letter naming the byte, the HTTP message as stored its
    original."""
    kind, where, xor = damage
    page = page_of(size, seed=size)
    coded = bytearray(CODERS[encoding](page))
    at = 20 + int(where * (len(coded) - 21))  # past gzip's header (10 bytes and more) and zlib's (2)
    if kind == "flip":
        coded[at] ^= xor
    else:
        del coded[at:]
    body = chunked(bytes(coded), [len(coded) // 3]) if chunks else bytes(coded)
    headers = [b"Content-Encoding: " + encoding.encode()] + (
        [b"Transfer-Encoding: chunked"] if chunks else []
    )
    message = http_message(body, headers)
    directory = tmp_path_factory.mktemp("coded")
    store = directory / "state"
    records = list(
        iter_file(str(write_archive(directory, "", warc_record(2, message)[0])), store_dir=str(store))
    )
    assert len(records) == 3 and b"<p>3</p>" in records[2].value
    middle = records[1]
    if isinstance(middle, KafkaRecord):
        assert json.loads(middle.value)["html"].encode() == page
        return
    # A changed byte breaks the format where it is read, or (in a length or a code) leaves the decoder
    # wanting more than the body holds: a dead letter either way.
    flipped = ("content coding is corrupt at byte", "content coding ends at byte")
    says = flipped if kind == "flip" else f"content coding ends at byte {at},"
    said = tuple(f"the body's {encoding} {s}" for s in ((says,) if isinstance(says, str) else says))
    assert_kept_as_stored(middle, message, store, "ParseError", said)


@pytest.mark.parametrize("encoding", ["br", "zstd"])
def test_brotli_and_zstd_bodies_are_decoded_and_one_cut_short_is_a_dead_letter(tmp_path, encoding):
    """``Content-Encoding: br`` (most browsers' first choice) passed on undecoded: binary into extraction."""
    page = page_of(100_000)
    coded = CODERS[encoding](page)
    for body, exact in ((coded, True), (coded[: len(coded) // 2], False)):
        message = http_message(body, [b"Content-Encoding: " + encoding.encode()])
        store = tmp_path / f"state-{exact}"
        records = list(
            iter_file(str(write_archive(tmp_path, "", warc_record(2, message)[0])), store_dir=str(store))
        )
        if exact:
            assert json.loads(records[1].value)["html"].encode() == page
        else:
            middle = assert_read_on(records)
            assert_kept_as_stored(
                middle, message, store, "ParseError", f"{encoding} content coding ends at byte"
            )


@pytest.mark.parametrize("encoding", ["br", "zstd"])
def test_a_brotli_or_zstd_bomb_is_never_held(tmp_path, encoding):
    """A few KB of br or zstd make 16 MB of page: decoded a block at a time, dead-lettered as too large."""
    page = b"<html><body><p>" + b"a" * (BOMB - 33) + b"</p></body></html>"
    message = http_message(CODERS[encoding](page), [b"Content-Encoding: " + encoding.encode()])
    store = tmp_path / "state"
    records, peak = read_traced(write_archive(tmp_path, "", warc_record(2, message)[0]), str(store))
    assert peak < PEAK, f"held {peak} bytes decoding a {BOMB}-byte {encoding} page"
    middle = assert_read_on(records)
    assert middle.problem is None and (middle.size, middle.limit) == (len(page), LIMIT)
    assert OriginalStore(store).get(middle.ref) == page


@pytest.mark.parametrize("codings", [b"gzip, br", b"x-gzip", b"identity, zstd", b"BR", b"deflate, identity"])
def test_content_codings_are_read_as_http_lists_them(tmp_path, codings):
    """Content-Encoding lists the codings in the order applied (RFC 9110 8.4); names are case-insensitive and
    x-gzip is gzip."""
    page = page_of(5_000)
    coded = page
    for name in codings.decode().lower().split(","):
        name = name.strip().removeprefix("x-")
        coded = coded if name == "identity" else CODERS[name](coded)
    message = http_message(coded, [b"Content-Encoding: " + codings])
    records = list(iter_file(str(write_archive(tmp_path, "", warc_record(2, message)[0]))))
    assert json.loads(records[1].value)["html"].encode() == page


def test_a_mislabelled_body_and_an_unknown_coding_pass_on_as_they_are(tmp_path):
    """As browsers: a body that does not decode from its first byte, or whose coding is not known, is the
    page as it is (a server that says gzip and sends HTML)."""
    page = GOOD_BODY % 2
    for coding in (b"gzip", b"deflate", b"br", b"zstd", b"utf-8", b"gzip, x-unknown"):
        message = http_message(page, [b"Content-Encoding: " + coding])
        records = list(iter_file(str(write_archive(tmp_path, "", warc_record(2, message)[0]))))
        assert json.loads(records[1].value)["html"].encode() == page, coding


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    size=st.integers(0, 20_000),
    cuts=st.lists(st.integers(0, 20_000), max_size=5),
    encoding=st.sampled_from([None, "gzip"]),
    keep=st.floats(0.0, 1.0),
    suffix=st.sampled_from(["", ".gz"]),
)
def test_a_chunked_body_cut_short_is_a_dead_letter_never_a_cut_page(
    tmp_path_factory, size, cuts, encoding, keep, suffix
):
    """A chunked body whose record ends before its last chunk (a crawler that stopped reading, its length
    limit): warcio ended the page where the body ended, and it passed on cut short. Cut anywhere, the page
    is whole (only the closing line ends are missing) or the record is a dead letter, as stored."""
    page = page_of(size, seed=size)
    coded = gzip.compress(page, mtime=0) if encoding else page
    body = chunked(coded, cuts)
    body = body[: int(keep * len(body))]
    headers = [b"Transfer-Encoding: chunked"] + ([b"Content-Encoding: gzip"] if encoding else [])
    message = http_message(body, headers)
    directory = tmp_path_factory.mktemp("cut")
    store = directory / "state"
    path = write_archive(directory, suffix, warc_record(2, message)[0])
    records = list(iter_file(str(path), store_dir=str(store)))
    middle = assert_read_on(records) if isinstance(records[1], Oversized) else records[1]
    if isinstance(middle, KafkaRecord):  # whole, or an empty body (an empty page)
        assert json.loads(middle.value)["html"].encode() == (page if body else b"")
        return
    assert_kept_as_stored(middle, message, store, "ParseError", "ends at byte")


def test_a_record_the_crawler_marked_truncated_is_a_dead_letter_as_stored(tmp_path):
    """``WARC-Truncated: length`` (the crawler's size limit; also ``time``, ``disconnect``): the page is a
    prefix of the page, which extraction cannot tell from a whole one."""
    message = http_message(GOOD_BODY % 2)
    entry = warc_record(2, message, [b"WARC-Truncated: length"])[0]
    store = tmp_path / "state"
    records = list(iter_file(str(write_archive(tmp_path, ".gz", entry)), store_dir=str(store)))
    middle = assert_read_on(records)
    assert_kept_as_stored(middle, message, store, "ParseError", "truncated (WARC-Truncated: length)")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(extra=st.integers(5, 5_000), kind=st.sampled_from(["response", "request"]))
def test_a_length_past_its_gzip_member_is_a_dead_letter_and_the_archive_reads_on(
    tmp_path_factory, extra, kind
):
    """In a .warc.gz each record is a gzip member; a Content-Length too large ran past the member's end,
    which warcio reads as the end of the file: a read error that lost every record after it. The record is
    a dead letter (a request record, no article, is skipped) and the next member is read."""
    message = http_message(GOOD_BODY % 2)
    entry = warc_record(2, message)[0].replace(
        b"Content-Length: %d" % len(message), b"Content-Length: %d" % (len(message) + extra)
    )
    if kind == "request":
        entry = entry.replace(b"WARC-Type: response", b"WARC-Type: request")
    directory = tmp_path_factory.mktemp("overrun")
    store = directory / "state"
    records = list(iter_file(str(write_archive(directory, ".gz", entry)), store_dir=str(store)))
    if kind == "request":
        assert [b"<p>%d</p>" % n in r.value for n, r in zip((1, 3), records, strict=True)] == [True, True]
        return
    middle = assert_read_on(records)
    assert_kept_as_stored(
        middle, message + b"\r\n\r\n", store, "ParseError", "past the end of its gzip member"
    )
