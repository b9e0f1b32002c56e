"""File inputs of backfills: globs, JSONL (plain and compressed), pages and WARC archives as KafkaRecords."""

from __future__ import annotations

import bz2
import gzip
import io
import json
from collections import Counter
from pathlib import Path

import apache_beam as beam
import pytest
import zstandard
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to
from hypothesis import given, settings
from hypothesis import strategies as st
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from pipelines.cli.inputs import READ_ERRORS
from transforms.file_io import (
    UNREADABLE,
    ClaimRangesDoFn,
    FileRange,
    ReadFiles,
    expand_inputs,
    file_kind,
    iter_file,
    iter_range,
    iter_warc,
    open_stream,
    plan_ranges,
)

LINES = [b'{"url": "https://a.example/1", "text": "one"}', b"", b"not json", b'{"text": "caf\xc3\xa9"}']


def write_warc(path: Path, responses: list[tuple[str, str, bytes, str]]) -> None:
    """(url, status line, body, content type) responses, each after its request record, gzip members."""
    with open(path, "wb") as out:
        writer = WARCWriter(out, gzip=path.name.endswith(".gz"))
        for url, status, body, content_type in responses:
            request = writer.create_warc_record(
                url, "request", payload=io.BytesIO(b"GET / HTTP/1.1\r\n\r\n"), warc_headers_dict={}
            )
            writer.write_record(request)
            headers = StatusAndHeaders(status, [("Content-Type", content_type)], protocol="HTTP/1.1")
            record = writer.create_warc_record(
                url,
                "response",
                payload=io.BytesIO(body),
                http_headers=headers,
                warc_headers_dict={"WARC-Date": "2026-11-02T10:20:30Z"},
            )
            writer.write_record(record)


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("a.jsonl", "jsonl"),
        ("a.ndjson.gz", "jsonl"),
        ("a.JSON.zst", "jsonl"),
        ("CC-NEWS-20261102.warc.gz", "warc"),
        ("x.warc", "warc"),
        ("p.html.gz", "html"),
        ("p.htm", "html"),
        ("t.txt.bz2", "text"),
        ("image.png", None),
        ("notes.md", None),
    ],
)
def test_file_kind_ignores_compression_suffixes(name, kind):
    assert file_kind(name) == kind


def test_expand_inputs_globs_walks_directories_and_skips_other_files(tmp_path):
    (tmp_path / "pages" / "deep").mkdir(parents=True)
    for name in ("pages/a.html", "pages/deep/b.txt", "pages/logo.png", "x.jsonl", "y.jsonl.gz"):
        (tmp_path / name).write_bytes(b"x")
    paths = expand_inputs([str(tmp_path / "*.jsonl*"), str(tmp_path / "pages")])
    names = [Path(p).relative_to(tmp_path).as_posix() for p in paths]
    assert names == ["pages/a.html", "pages/deep/b.txt", "x.jsonl", "y.jsonl.gz"]
    assert expand_inputs([str(tmp_path / "**" / "*.txt")]) == [str(tmp_path / "pages" / "deep" / "b.txt")]
    with pytest.raises(FileNotFoundError, match="no input matches"):
        expand_inputs([str(tmp_path / "missing-*.warc.gz")])


@pytest.mark.parametrize(
    ("suffix", "compress"),
    [
        ("", lambda b: b),
        (".gz", gzip.compress),
        (".zst", lambda b: zstandard.ZstdCompressor().compress(b)),
        (".bz2", bz2.compress),
    ],
)
def test_jsonl_lines_pass_as_they_are_with_line_numbers(tmp_path, suffix, compress):
    path = tmp_path / f"in.jsonl{suffix}"
    path.write_bytes(compress(b"\n".join(LINES) + b"\r\n"))
    records = list(iter_file(str(path)))
    assert [(r.topic, r.partition, r.offset, r.value) for r in records] == [
        (str(path), 0, 1, LINES[0]),
        (str(path), 0, 3, LINES[2]),
        (str(path), 0, 4, LINES[3]),
    ]
    assert records[0].position().key() == f"{path}:0"


def test_page_file_becomes_one_envelope(tmp_path):
    path = tmp_path / "story.html.gz"
    path.write_bytes(gzip.compress("<html><body><p>Grüße</p></body></html>".encode()))
    (record,) = iter_file(str(path), source="example.org")
    envelope = json.loads(record.value)
    assert envelope["html"].startswith("<html>") and "Grüße" in envelope["html"]
    assert envelope["source"] == "example.org" and envelope["metadata"] == {"file": "story.html.gz"}
    assert record.offset == 0 and envelope["fetched_at"].startswith("20")


@pytest.mark.parametrize("name", ["crawl.warc.gz", "crawl.warc"])
def test_warc_yields_html_responses_with_url_date_and_seekable_offset(tmp_path, name):
    path = tmp_path / name
    latin = "<html><body><p>Übersee café</p></body></html>".encode("iso-8859-1")
    write_warc(
        path,
        [
            ("https://news.example/a", "200 OK", b"<html><body><p>First</p></body></html>", "text/html"),
            ("https://news.example/gone", "404 Not Found", b"<html>missing</html>", "text/html"),
            ("https://news.example/logo.png", "200 OK", b"\x89PNG...", "image/png"),
            ("https://news.example/b", "200 OK", latin, "text/html; charset=ISO-8859-1"),
        ],
    )
    skipped: Counter = Counter()
    records = list(iter_warc(str(path), source="cc-news", skipped=skipped))
    assert skipped == Counter(not_response=4, status=1, not_html=1)
    envelopes = [json.loads(r.value) for r in records]
    assert [e["url"] for e in envelopes] == ["https://news.example/a", "https://news.example/b"]
    assert "Übersee café" in envelopes[1]["html"]
    assert all(e["fetched_at"] == "2026-11-02T10:20:30+00:00" and e["source"] == "cc-news" for e in envelopes)
    assert all(e["metadata"]["warc_file"] == name and e["metadata"]["warc_record_id"] for e in envelopes)
    assert records[0].timestamp_ms == 1793614830000 and records[1].key == b"https://news.example/b"
    for record, envelope in zip(records, envelopes, strict=True):
        with open(path, "rb") as stream:
            stream.seek(record.offset)
            first = next(iter(ArchiveIterator(stream)))
            assert first.rec_headers.get_header("WARC-Target-URI") == envelope["url"]


def test_open_stream_leaves_warc_gz_compressed_for_warcio(tmp_path):
    path = tmp_path / "a.warc.gz"
    write_warc(path, [("https://news.example/a", "200 OK", b"<p>x</p>", "text/html")])
    with open_stream(str(path)) as stream:
        assert stream.read(2) == b"\x1f\x8b"


def test_read_files_transform_reads_every_file(tmp_path):
    (tmp_path / "a.jsonl").write_bytes(b'{"text": "a"}\n{"text": "b"}\n')
    (tmp_path / "c.txt").write_text("plain text page")
    ranges = plan_ranges(expand_inputs([str(tmp_path)]), pieces=4)
    assert any(r.stop is not None for r in ranges), "the JSONL file is read in pieces"
    with TestPipeline() as p:
        positions = (p | ReadFiles(ranges)).records | beam.Map(lambda r: (Path(r.topic).name, r.offset))
        assert_that(positions, equal_to([("a.jsonl", 1), ("a.jsonl", 2), ("c.txt", 0)]))


@pytest.mark.parametrize("claims", [False, True])
def test_a_file_that_fails_part_way_is_a_dead_letter_and_the_job_reads_on(tmp_path, claims):
    """A cut .gz and a corrupt .zst among the inputs of a backfill: their lines read before the failure and
    every other file go on, and each bad file is one dead letter of stage 'read' (it failed the whole job)."""
    packed = gzip.compress(CONTENT)
    (tmp_path / "cut.jsonl.gz").write_bytes(packed[: len(packed) // 2])
    (tmp_path / "corrupt.jsonl.zst").write_bytes(b"\x28\xb5\x2f\xfd" + b"not zstd at all" * 4)
    (tmp_path / "good.jsonl").write_bytes(b'{"text": "a"}\n')
    ranges = plan_ranges(expand_inputs([str(tmp_path)]), pieces=2)
    shared = {"claims": str(tmp_path / "claims"), "readers": 2} if claims else {}
    if claims:
        (tmp_path / "claims").mkdir()
    with TestPipeline() as p:
        read = p | ReadFiles(ranges, **shared)
        names = read.records | beam.Map(lambda r: Path(r.topic).name) | beam.Distinct()
        letters = read[UNREADABLE] | beam.Map(
            lambda d: (Path(d.source_position.topic).name, d.stage, d.error_type, d.original)
        )
        assert_that(names, equal_to(["cut.jsonl.gz", "good.jsonl"]), label="records")
        expected = [("corrupt.jsonl.zst", "read", "OSError", b""), ("cut.jsonl.gz", "read", "EOFError", b"")]
        assert_that(letters, equal_to(expected), label="letters")


def test_claimed_ranges_are_each_read_by_exactly_one_reader(tmp_path):
    path = tmp_path / "big.jsonl"
    path.write_bytes(b"".join(json.dumps({"text": f"line {i}"}).encode() + b"\n" for i in range(200)))
    ranges = plan_ranges([str(path)], pieces=16)
    claims = tmp_path / "claims"
    claims.mkdir()
    readers = [ClaimRangesDoFn(ranges, str(claims)) for _ in range(2)]
    for reader in readers:
        reader.setup()
    streams = [reader.process(token) for token, reader in enumerate(readers)]
    taken: list[list[int]] = [[], []]
    done = [False, False]
    while not all(done):  # the two readers take turns, one record at a time, as two workers would race
        for i, stream in enumerate(streams):
            record = next(stream, None)
            if record is None:
                done[i] = True
            else:
                taken[i].append(record.offset)
    assert sorted(taken[0] + taken[1]) == list(range(1, 201))  # every line once, none twice
    assert taken[0] and taken[1]  # both readers had their share
    assert len(list(claims.iterdir())) == len(ranges)


def test_read_files_with_claims_reads_every_line_once_on_the_runner(tmp_path):
    path = tmp_path / "big.jsonl"
    path.write_bytes(b"".join(json.dumps({"text": f"line {i}"}).encode() + b"\n" for i in range(50)))
    claims = tmp_path / "claims"
    claims.mkdir()
    with TestPipeline() as p:
        read = (p | ReadFiles(plan_ranges([str(path)], pieces=8), claims=str(claims), readers=3)).records
        assert_that(read | beam.Map(lambda r: r.offset), equal_to(list(range(1, 51))))


def test_plain_jsonl_is_cut_at_line_starts_into_ranges_that_read_each_line_once(tmp_path):
    path = tmp_path / "big.jsonl"
    lines = [json.dumps({"text": "x" * (7 * i % 113)}).encode() if i % 9 else b"" for i in range(300)]
    path.write_bytes(b"\r\n".join(lines) + b"\n")
    ranges = plan_ranges([str(path)], pieces=7)
    assert len(ranges) == 7 and [r.size for r in ranges] == sorted((r.size for r in ranges), reverse=True)
    ordered = sorted(ranges, key=lambda r: r.start)
    assert ordered[0].start == 0 and ordered[-1].stop is None
    assert [r.start for r in ordered[1:]] == [r.stop for r in ordered[:-1]]
    data = path.read_bytes()
    assert all(data[r.start - 1 : r.start] == b"\n" for r in ordered[1:]), "every range starts a line"
    assert sum(r.size for r in ranges) == len(data) and max(r.size for r in ranges) < len(data) / 5
    pieces = [(r.offset, r.value) for part in ranges for r in iter_range(part)]
    assert sorted(pieces) == [(r.offset, r.value) for r in iter_file(str(path))]


@pytest.mark.parametrize("name", ["big.jsonl.gz", "crawl.warc", "page.html"])
def test_compressed_files_archives_and_pages_stay_whole(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(gzip.compress(b"{}\n" * 1000) if name.endswith(".gz") else b"x" * 3000)
    small = tmp_path / "small.jsonl"
    small.write_bytes(b"{}\n")
    ranges = plan_ranges([str(path), str(small)], pieces=8)
    assert ranges == [
        FileRange(str(path), path.stat().st_size),
        FileRange(str(small), 3),
    ], "largest first; a file smaller than a piece is not cut either"


def _zstd_frames(data: bytes) -> bytes:
    """Two frames, the second with a checksum, as ``cat a.zst b.zst`` or a multi-threaded writer makes them."""
    half = data.rfind(b"\n", 0, len(data) // 2) + 1
    first = zstandard.ZstdCompressor().compress(data[:half])
    return first + zstandard.ZstdCompressor(write_checksum=True).compress(data[half:])


COMPRESSORS = {".gz": gzip.compress, ".bz2": bz2.compress, ".zst": _zstd_frames}
RECORDS = [
    json.dumps({"url": f"https://c.example/{i}", "text": f"story {i} " * (i % 7 + 1)}) for i in range(400)
]
CONTENT = "\n".join(RECORDS).encode() + b"\n"


@settings(max_examples=60, derandomize=True, deadline=None, database=None)
@given(suffix=st.sampled_from(sorted(COMPRESSORS)), share=st.floats(0, 1, exclude_max=True))
def test_a_truncated_compressed_file_is_a_read_error_after_the_lines_it_held(tmp_path_factory, suffix, share):
    """Nothing is lost without a word: the lines before the cut are read, then the file fails to read."""
    packed = COMPRESSORS[suffix](CONTENT)
    path = tmp_path_factory.mktemp("cut") / f"cut.jsonl{suffix}"
    path.write_bytes(packed[: max(1, int(len(packed) * share))])  # an empty file holds no lines
    read = []
    with pytest.raises(READ_ERRORS):
        read.extend(record.value for record in iter_file(str(path)))
    whole = [line.encode() for line in RECORDS[: len(read)]]
    assert read[:-1] == whole[:-1] and (not read or whole[-1].startswith(read[-1]))


@pytest.mark.parametrize("suffix", sorted(COMPRESSORS))
def test_a_whole_compressed_file_reads_every_line(tmp_path, suffix):
    path = tmp_path / f"whole.jsonl{suffix}"
    path.write_bytes(COMPRESSORS[suffix](CONTENT))
    assert [record.value for record in iter_file(str(path))] == [line.encode() for line in RECORDS]


LEGACY = ["iso-8859-1", "windows-1252", "iso-8859-15"]
# ASCII and U+00C0..U+00FF: in these charsets each accented letter is one byte that can only start a UTF-8
# sequence, never continue one, so such text in them is never valid UTF-8.
words = st.text(st.sampled_from("abc XYZ.,àçéèêëïîñôöøüÿßÆÉÑÖÜ"), min_size=1, max_size=40).filter(
    lambda t: not t.isascii()
)


@settings(max_examples=60, derandomize=True, deadline=None, database=None)
@given(text=words, charset=st.sampled_from(LEGACY), utf8=st.booleans())
def test_a_warc_page_reads_as_written_whatever_charset_its_header_declares(
    tmp_path_factory, text, charset, utf8
):
    """UTF-8 under a stale legacy declaration stays UTF-8; legacy bytes follow the declaration."""
    page = f"<html><head><title>t</title></head><body><p>{text}</p></body></html>"
    path = tmp_path_factory.mktemp("charset") / "a.warc"
    content_type = f"text/html; charset={charset}"
    write_warc(
        path, [("https://c.example/1", "200 OK", page.encode("utf-8" if utf8 else charset), content_type)]
    )
    (record,) = iter_warc(str(path))
    assert json.loads(record.value)["html"] == page
