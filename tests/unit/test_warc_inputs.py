"""Broken WARC archives a crawler can write: each is read as far as it can be, never stops the other inputs,
and what it cannot give is a dead letter with its reason."""

from __future__ import annotations

import gzip
import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.cli.inputs import iter_messages
from tests.unit.test_file_io_limits import COMPRESS, LIMIT
from tests.unit.test_warc_limits import GOOD_BODY, http_message, warc_record, write_archive
from transforms.errors import ParseError
from transforms.file_io import Oversized, iter_file
from transforms.kafka_io import KafkaRecord
from transforms.parse import parse_json_bytes
from transforms.warc import LineReader


def test_a_response_without_a_target_uri_is_read_as_an_article_without_url(tmp_path):
    """warcio failed with an AttributeError on it (``uri.startswith``), which ended ``newsflow process`` with
    exit code 1 and failed a backfill; the URL is optional in the input contract, the page is not lost."""
    entry = warc_record(2, http_message(GOOD_BODY % 2))[0]
    entry = entry.replace(b"WARC-Target-URI: https://n.example/2\r\n", b"")
    skipped: Counter = Counter()
    records = list(iter_file(str(write_archive(tmp_path, "", entry)), skipped=skipped))
    assert [type(r) for r in records] == [KafkaRecord] * 3 and not skipped
    envelope = json.loads(records[1].value)
    assert "url" not in envelope and envelope["html"] == (GOOD_BODY % 2).decode()
    assert records[1].key is None


def test_a_record_without_a_target_uri_and_without_http_is_skipped_as_one(tmp_path):
    """No URI and a block that is no HTTP message: skipped and counted (as `status`: no 2xx status line), as
    a record with an http: URI and such a block is."""
    entry = warc_record(2, b"<p>a page without HTTP headers</p>")[0]
    entry = entry.replace(b"WARC-Target-URI: https://n.example/2\r\n", b"")
    skipped: Counter = Counter()
    records = list(iter_file(str(write_archive(tmp_path, "", entry)), skipped=skipped))
    assert len(records) == 2 and skipped == Counter(status=1)


@pytest.mark.parametrize("suffix", ["", ".gz", ".zst"])
def test_a_record_with_a_wrong_length_is_a_dead_letter_and_the_rest_is_read(tmp_path, suffix):
    """A Content-Length shorter than the record leaves the next record starting mid-page: warcio raised
    ArchiveLoadFailed, which ended ``newsflow process`` with exit code 1; then the rest of the file was one
    read error. Now the bytes from there to the next record are one dead letter naming their byte range
    (never their content), the records after them pass, and the next file is read."""
    entry = warc_record(2, http_message(GOOD_BODY % 2))[0].replace(
        b"Content-Length: 93", b"Content-Length: 20"
    )
    (tmp_path / "a").mkdir()
    path = write_archive(tmp_path / "a", suffix, entry)
    other = tmp_path / "b.jsonl"
    other.write_bytes(b'{"text": "next"}\n')
    errors: list[tuple[str, BaseException]] = []
    messages = list(iter_messages([str(path), str(other)], unreadable=lambda p, e: errors.append((p, e))))
    assert [Path(position.topic).name for _, position in messages] == [path.name, path.name, "b.jsonl"]
    assert b"<p>1</p>" in messages[0][0] and b"<p>3</p>" in messages[1][0]
    ((where, error),) = errors
    assert where == str(path) and isinstance(error, ParseError)
    assert "the WARC archive holds no record in " in str(error)
    assert "<p>" not in str(error)  # the bytes found are page content: never in a reason or a log


def test_a_record_longer_than_its_length_is_read_on_without_printing_its_bytes(tmp_path, capfd):
    """warcio printed the line found after a record too short for its bytes to stderr: page content in
    the log, which newsflow never writes. The record is a dead letter (its page is cut short), the bytes
    left of its block another (logged by offset and size only), and the archive reads on."""
    block = http_message(b"<p>2</p>\r\nSECRET-PAGE-LINE")
    entry = warc_record(2, block)[0]
    entry = entry.replace(b"Content-Length: %d" % len(block), b"Content-Length: %d" % (len(block) - 16))
    records = list(iter_file(str(write_archive(tmp_path, "", entry))))
    assert [type(r) for r in records] == [KafkaRecord, Oversized, Oversized, KafkaRecord]
    assert b"<p>1</p>" in records[0].value and b"<p>3</p>" in records[3].value
    assert "goes on past its Content-Length" in records[1].dead_letter().message
    assert records[2].size == len(b"SECRET-PAGE-LINE\r\n\r\n")
    out, err = capfd.readouterr()
    assert "SECRET" not in out + err


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(short=st.integers(1, 100), suffix=st.sampled_from(["", ".gz"]))
def test_a_length_too_short_never_passes_a_cut_page(tmp_path_factory, short, suffix):
    """A Content-Length short by a few bytes (less than the block's last line) passed the page without them
    (warcio only warns): now the record is a dead letter and the archive reads on (the bytes left of its
    block are skipped, see test_warc_resync)."""
    block = http_message(b"<html><body><p>" + b"two " * 20 + b"</p></body></html>")
    entry = warc_record(2, block)[0]
    entry = entry.replace(b"Content-Length: %d" % len(block), b"Content-Length: %d" % (len(block) - short))
    records = list(iter_file(str(write_archive(tmp_path_factory.mktemp("short"), suffix, entry))))
    assert b"<p>1</p>" in records[0].value and b"<p>3</p>" in records[-1].value
    assert not any(isinstance(r, KafkaRecord) and b"two two" in r.value for r in records)


def test_a_warc_gz_compressed_as_one_gzip_stream_reads_every_record(tmp_path):
    """``gzip crawl.warc`` makes one gzip stream, not a member a record: warcio refused it after its first
    record (ArchiveLoadFailed: newsflow process ended with exit 1, a backfill failed). Every record is
    read, offsets in the decompressed archive as for .warc.zst."""
    entries = [warc_record(n, http_message(GOOD_BODY % n))[0] for n in (1, 2, 3)]
    path = tmp_path / "crawl.warc.gz"
    path.write_bytes(gzip.compress(b"".join(entries)))
    records = list(iter_file(str(path)))
    assert [b"<p>%d</p>" % n in r.value for n, r in zip((1, 2, 3), records, strict=True)] == [True] * 3
    assert [r.offset for r in records] == [0, len(entries[0]), len(entries[0]) + len(entries[1])]


BIG = (
    b"<html><body>"
    + b"".join(b"<p>paragraph %d of the third page.</p>" % i for i in range(6000))
    + b"</body></html>"
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    share=st.floats(0.0, 1.0),
    suffix=st.sampled_from(["", ".gz", ".zst"]),
    oversized=st.booleans(),
)
def test_an_archive_cut_inside_a_record_is_a_read_error_after_the_records_before_it(
    tmp_path_factory, share, suffix, oversized
):
    """A cut archive's last page passed as a whole article, cut short (a .warc.gz's member ends without a
    word in warcio): now, as for a cut .jsonl.gz, the records before it pass and the file is a read error;
    an oversized page cut short leaves nothing in the original store."""
    directory = tmp_path_factory.mktemp("cut")
    entries = [warc_record(n, http_message(GOOD_BODY % n if n < 3 else BIG))[0] for n in (1, 2, 3)]
    if suffix == ".gz":
        members = [gzip.compress(e) for e in entries]
        keep = len(members[0]) + len(members[1]) + 1 + int(share * (len(members[2]) - 40))
        data = b"".join(members)[:keep]
    else:
        start = len(entries[0]) + len(entries[1])  # then anywhere in the third record, headers or page
        data = COMPRESS[suffix](b"".join(entries)[: start + 1 + int(share * (len(entries[2]) - 6))])
    path = directory / f"cut.warc{suffix}"
    path.write_bytes(data)
    store = directory / "state"
    records: list = []
    with pytest.raises(EOFError):
        records.extend(iter_file(str(path), limit=LIMIT if oversized else len(BIG), store_dir=str(store)))
    assert [b"<p>%d</p>" % n in r.value for n, r in zip((1, 2), records, strict=True)] == [True, True]
    assert [p for p in store.rglob("*") if p.is_file()] == []


@pytest.mark.parametrize(
    ("date", "fetched"),
    [
        (b"9999-12-31T23:59:59-12:00", None),
        (b"0001-01-01T00:30:00+01:00", None),
        (b"2026-11-02T10:20:60Z", "2026-11-02T10:20:59+00:00"),
        (b"2026-11-02t10:20:30z", "2026-11-02T10:20:30+00:00"),
        (b"2026-11-02T12:20:30+02:00", "2026-11-02T10:20:30+00:00"),
        (b"not a date", None),
    ],
)
def test_a_warc_date_is_read_as_a_fetch_time_is_and_never_loses_the_page(tmp_path, date, fetched):
    """A WARC-Date outside years 1-9999 in UTC was passed on as the envelope's fetched_at and dead-lettered
    a good page for its crawl metadata; a leap second lost the fetch time. Now the date is read as the
    envelope's fetched_at is, and one it refuses is left out (the file's time stamps the record)."""
    entry = warc_record(2, http_message(GOOD_BODY % 2))[0].replace(b"2026-11-02T10:20:30Z", date)
    (record,) = list(iter_file(str(write_archive(tmp_path, "", entry))))[1:2]
    raw = parse_json_bytes(record.value)  # no ParseError: the page goes on
    assert json.loads(record.value).get("fetched_at") == fetched
    assert raw.html == (GOOD_BODY % 2).decode()


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_blank_lines_between_records_are_skipped_at_once(tmp_path, suffix, monkeypatch):
    """Two million blank lines (4 MB; a 100 KB .warc.gz holds 50 million) cost a readline each: 0.4 CPU-µs a
    line, unbounded by any budget. They are skipped a buffer at a time, and offsets stay exact."""
    first, second = (warc_record(n, http_message(GOOD_BODY % n))[0] for n in (1, 2))
    data = first + b"\r\n" * 2_000_000 + second
    path = tmp_path / f"blank.warc{suffix}"
    member = gzip.compress(data[: -len(second)])  # the blank lines end the first record's gzip member
    path.write_bytes(member + gzip.compress(second) if suffix else data)
    calls = [0]
    readline = LineReader.readline

    def counted(self, length=None):
        calls[0] += 1
        return readline(self, length)

    monkeypatch.setattr(LineReader, "readline", counted)
    records = list(iter_file(str(path)))
    assert [b"<p>%d</p>" % n in r.value for n, r in zip((1, 2), records, strict=True)] == [True, True]
    assert records[1].offset == (len(member) if suffix else len(data) - len(second))
    assert calls[0] < 100


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    moment=st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59)),
    millis=st.booleans(),
)
def test_an_arc_style_date_is_read_as_the_fetch_time(tmp_path_factory, moment, millis):
    """ARC headers, Wayback and Heritrix write ``20261203120000`` (UTC; 17 digits with milliseconds), and
    archives converted from ARC keep it in ``WARC-Date``: it fell back to the file's time."""
    moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000 if millis else 0)
    stamp = moment.strftime("%Y%m%d%H%M%S").rjust(14, "0") + (
        f"{moment.microsecond // 1000:03d}" if millis else ""
    )
    entry = warc_record(2, http_message(GOOD_BODY % 2))[0].replace(b"2026-11-02T10:20:30Z", stamp.encode())
    path = write_archive(tmp_path_factory.mktemp("arc"), "", entry)
    record = list(iter_file(str(path)))[1]
    fetched = moment.replace(tzinfo=UTC)
    assert json.loads(record.value)["fetched_at"] == fetched.isoformat()
    if moment.year >= 1970:
        assert record.timestamp_ms == int(fetched.timestamp() * 1000)


@pytest.mark.parametrize("date", [b"20261332120000", b"2026120312000", b"202612031200001", b"00000101000000"])
def test_a_malformed_arc_style_date_leaves_the_fetch_time_out(tmp_path, date):
    """Not a date (month 13, year 0) or not 14/17 digits: the page goes on, stamped with the file's time."""
    entry = warc_record(2, http_message(GOOD_BODY % 2))[0].replace(b"2026-11-02T10:20:30Z", date)
    record = list(iter_file(str(write_archive(tmp_path, "", entry))))[1]
    assert "fetched_at" not in json.loads(record.value) and b"<p>2</p>" in record.value


@pytest.mark.parametrize(
    "charset", ["undefined", "unicode_escape", "raw-unicode-escape", "utf-7", "base64", "rot13", "palmos"]
)
def test_a_charset_that_is_no_web_charset_is_not_used_and_the_archive_reads_on(tmp_path, charset):
    """Python's codec registry is not the web's charsets: ``charset=undefined`` raised UnicodeError on a
    page that is not UTF-8, read as a read error that ended the archive there; ``unicode_escape`` made a
    script's ``\\u0041`` an ``A``. Such a charset is ignored: the page is decoded as if it declared none."""
    body = b"<html><body><p>caf\xe9 cr\xe8me</p><script>var s = '\\u0041+AGEAYgBj-';</script></body></html>"
    message = http_message(body).replace(b"charset=utf-8", b"charset=" + charset.encode())
    records = list(iter_file(str(write_archive(tmp_path, "", warc_record(2, message)[0]))))
    assert len(records) == 3 and b"<p>3</p>" in records[2].value
    html = json.loads(records[1].value)["html"]
    assert "café crème" in html and "'\\u0041+AGEAYgBj-'" in html
