"""Local files and web archives -> :class:`KafkaRecord`, so a file backfill feeds the very chain of ``stream``.

A file record is shaped like a Kafka record whose topic is the file path and partition 0; its offset says
where in the file it was read, so dead letters and articles point back at their input:

* JSONL envelopes: the line number (from 1), each line passed on exactly as it is;
* ``.html``/``.htm``/``.txt`` files: 0, the whole file as one envelope;
* WARC/WARC.gz archives (e.g. Common Crawl's CC-NEWS): the record's byte offset in the file as stored
  (for ``.warc.gz``, the offset of its gzip member, so ``warcio`` can seek straight to it).

Compressed files (``.gz``, ``.zst``, ``.bz2``) are read as streams, never unpacked to disk or memory. No
line, page or WARC payload is held beyond the message limit (``Limits.max_message_bytes``): a larger one,
a decompression bomb's line say, is read through in blocks and becomes an :class:`Oversized` (a dead letter
of the parse stage, like a message over the limit on Kafka), its original streamed into the original store
when there is a state dir, and named by file, byte range and SHA-256 either way; the rest of the file reads
on. A plain
JSONL file is cut into byte ranges at line starts (:func:`plan_ranges`), so several workers read one big file
and each goes on to process what it read, without passing the records through a shuffle first.
"""

from __future__ import annotations

import bz2
import dataclasses
import glob
import gzip
import hashlib
import io
import json
import math
import os
import re
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

import apache_beam as beam
import structlog
from apache_beam.metrics import Metrics
from warcio.exceptions import ArchiveLoadFailed
from warcio.limitreader import LimitReader
from warcio.utils import BUFF_SIZE

from transforms.budget import Deadline
from transforms.deadletter import dead_letter
from transforms.errors import LimitExceeded, ParseError, PipelineError
from transforms.http_body import content_stream
from transforms.kafka_io import KafkaRecord
from transforms.original_store import PREFIX, OriginalStore
from transforms.parse import decode_bytes, parse_time, too_large
from transforms.records import DeadLetter, SourcePosition
from transforms.settings import Limits
from transforms.text_repair import bomless_wide_encoding, printable, web_charset
from transforms.warc import (
    MAX_HEADER_LINES,
    BoundedArchive,
    CutShort,
    Recorded,
    holds_record_start,
    http_head_closed,
    spill_of,
)

log = structlog.get_logger(__name__)

JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json")
HTML_SUFFIXES = (".html", ".htm", ".xhtml")
TEXT_SUFFIXES = (".txt", ".text")
WARC_SUFFIXES = (".warc",)
COMPRESSION_SUFFIXES = (".gz", ".zst", ".bz2")
HTML_TYPES = ("text/html", "application/xhtml+xml")
READ_ERRORS = (OSError, EOFError, zlib.error, ValueError)
"""What reading a damaged or unreadable file raises (gzip's, bz2's and, see :class:`ZstdFrames`, zstd's
errors are among these, and :class:`CorruptArchive`)."""
UNREADABLE = "unreadable"
"""The tag of :class:`ReadFiles`' dead letters: one per file that could not be read to its end, and one
per :class:`Oversized` record."""
SCAN_BLOCK = 1 << 20
READ_BLOCK = 1 << 16
"""Bytes read at a time past the message limit: all an oversized record holds in memory beyond it."""
MAX_MESSAGE_BYTES = Limits().max_message_bytes
READ_BUDGET = 2.0
"""CPU seconds reading one WARC record's payload may take (de-chunking, decoding). A 10 MB page, the
message limit, in 100-byte chunks takes about 0.25 s; in 1-byte chunks it took 24 s. Over it, the record is
a dead letter (its HTTP message as stored) and the archive reads on."""


@dataclass(frozen=True)
class Oversized:
    """A record over the message limit, read through in blocks and never held: its size, where it lies,
    its SHA-256, and its reference in the original store when there was one to stream it into. Also a
    WARC record whose payload cannot be read right (:attr:`problem`), kept apart the same way.

    ``offset`` is what a :class:`KafkaRecord` of it would have had (line number, 0, WARC record offset);
    ``start`` is its first byte in the decompressed file (None for a WARC payload, which the record at
    ``offset`` holds)."""

    path: str
    offset: int
    start: int | None
    size: int
    sha256: str
    ref: str | None
    limit: int
    headers: str | None = None
    """For a WARC record, "WARC" or "HTTP" when that header block was over the limit: the original is then
    the record as stored from that block to the record's end, not its payload."""
    problem: PipelineError | None = None
    """For a WARC record whose payload could not be read right (its content coding corrupt, or over its
    CPU budget), why: the original is then its HTTP message as stored, and the record need not be large."""
    place: str | None = None
    """Where the original lies when :attr:`start` cannot say (bytes skipped inside a gzip member)."""

    def error(self) -> PipelineError:
        """The reason a message over the limit gets on Kafka (or :attr:`problem`'s), and where the original
        is in its file (to trace or replay it, stored or not)."""
        if self.problem is not None and (self.start is not None or self.place):  # skipped WARC bytes
            where = f"{self.place or self._bytes()}, as stored"
            reason = f"{self.problem.reason}; original: {where}, sha256 {self.sha256}"
            return type(self.problem)(reason, stage=self.problem.stage)
        if self.problem is not None:
            part = "the WARC record" if self.headers == "WARC" else "the HTTP message of the WARC record"
            where = f"{part} at byte {self.offset}, as stored"
            reason = f"{self.problem.reason}; original: {where}, sha256 {self.sha256}"
            return type(self.problem)(reason, stage=self.problem.stage)
        if self.start is None and self.headers is None:
            where = f"the payload of the WARC record at byte {self.offset}"
        elif self.start is None:
            part = "the WARC record" if self.headers == "WARC" else "the HTTP message of the WARC record"
            where = f"{part} at byte {self.offset}, its {self.headers} headers over the limit"
        else:
            where = self._bytes()
        base = too_large(self.size, self.limit)
        return LimitExceeded(f"{base.reason}; original: {where}, sha256 {self.sha256}", stage=base.stage)

    def _bytes(self) -> str:
        """Where the original lies, from :attr:`start`: "bytes A-B of the (decompressed) file"."""
        assert self.start is not None
        decompressed = " decompressed" if self.path.lower().endswith(COMPRESSION_SUFFIXES) else ""
        return f"bytes {self.start}-{self.start + self.size} of the{decompressed} file"

    def dead_letter(self) -> DeadLetter:
        """Its dead letter: ``original_ref`` names the original when it was stored."""
        position = SourcePosition(self.path, 0, self.offset)
        return dead_letter(b"", self.error(), position, kept_apart=(self.size, self.ref))


def _read_up_to(stream: IO[bytes], size: int) -> bytes:
    """Up to ``size`` bytes, fewer only at the end (a decoding reader may return less than asked)."""
    parts, left = [], size
    while left > 0:
        part = stream.read(left)
        if not part:
            break
        parts.append(part)
        left -= len(part)
    return b"".join(parts)


def _blocks(first: bytes, stream: IO[bytes]) -> Iterator[bytes]:
    """``first``, then the rest of the stream in blocks."""
    yield first
    while block := stream.read(READ_BLOCK):
        yield block


@dataclass(frozen=True)
class _LineEnds:
    """How a line ends in a file's encoding: LF, with the CRs before it, in code units of ``width`` bytes."""

    width: int
    lf: bytes
    cr: bytes

    @classmethod
    def of(cls, encoding: str) -> _LineEnds:
        width = 4 if encoding.startswith("utf-32") else 2 if encoding.startswith("utf-16") else 1
        return cls(width, "\n".encode(encoding), "\r".encode(encoding))

    def body(self, line: bytes) -> bytes:
        """The line without its line end (the CR and LF units it ends with)."""
        end = len(line)
        while end and line[end - self.width : end] in (self.lf, self.cr):
            end -= self.width
        return line[:end]


UTF8_ENDS = _LineEnds.of("utf-8")


def _rest_of_line(
    first: bytes, readline: Callable[[], bytes], ends: _LineEnds, counted: list[int]
) -> Iterator[bytes]:
    """The pieces of a long line from ``first`` on, without its line end, read a block at a time by
    ``readline``; ``counted[0]`` grows by the bytes read after ``first``, line end included."""
    piece, returns = first, 0  # CR units held back: the line end if nothing else follows them
    while piece:
        body = ends.body(piece)
        if body:
            while returns:
                yield ends.cr * min(returns, READ_BLOCK)
                returns -= min(returns, READ_BLOCK)
            yield body
        if piece.endswith(ends.lf):
            return
        returns += (len(piece) - len(body)) // ends.width
        piece = readline()
        counted[0] += len(piece)


class _Spill:
    """An original streamed piece by piece: into the store under ``store_dir`` when given (its writer
    hashes what it writes: its reference is the digest), else only hashed."""

    def __init__(self, store_dir: str | None) -> None:
        self._writer = OriginalStore(store_dir).writer() if store_dir else None
        self._digest = hashlib.sha256()
        self._size = 0
        self._open = True

    def write(self, piece: bytes) -> None:
        if self._writer is not None:
            self._writer.write(piece)
        else:
            self._digest.update(piece)
            self._size += len(piece)

    def close(self) -> tuple[int, str, str | None]:
        """(size, SHA-256, store reference or None) of the complete original."""
        self._open = False
        if self._writer is None:
            return self._size, self._digest.hexdigest(), None
        self._writer.__exit__(None, None, None)
        assert self._writer.ref is not None  # set when the writer closed without an error
        return self._writer.size, self._writer.ref.removeprefix(PREFIX), self._writer.ref

    def abort(self, error: BaseException | None) -> None:
        """Leave nothing in the store: the original is incomplete (``error``) or not wanted (None). Once
        closed, nothing to do."""
        if self._writer is not None and self._open:
            error = error or ValueError("discarded")
            self._writer.__exit__(type(error), error, error.__traceback__)
        self._open = False


def _keep_apart(pieces: Iterable[bytes], store_dir: str | None) -> tuple[int, str, str | None]:
    """(size, SHA-256, store reference or None) of an original streamed piece by piece, into the store
    under ``store_dir`` when given; a read error part way leaves nothing in the store."""
    spill = _Spill(store_dir)
    try:
        for piece in pieces:
            spill.write(piece)
    except BaseException as exc:
        spill.abort(exc)
        raise
    return spill.close()


def source_name(path: str) -> str:
    """The path as a record's topic and in envelopes: valid Unicode. A name that is not UTF-8 (an old
    archive's Latin-1, a share mounted with another charset) reaches Python with lone surrogates, which no
    UTF-8 encoder takes, so it failed the whole backfill or ``newsflow process``; its bytes are written as
    ``\\xe9`` instead, which names the file unambiguously (:func:`~transforms.text_repair.printable`)."""
    return printable(path)


def _named(records: Iterable[KafkaRecord | Oversized], path: str) -> Iterator[KafkaRecord | Oversized]:
    """The records of the file at ``path`` with :func:`source_name` as their topic."""
    name = source_name(path)
    if name == path:
        yield from records
        return
    for record in records:
        if isinstance(record, Oversized):
            yield dataclasses.replace(record, path=name)
        else:
            yield dataclasses.replace(record, topic=name)


def file_kind(path: str) -> str | None:
    """jsonl | warc | html | text, from the name without its compression suffix; None for other files."""
    name = path.lower()
    for suffix in COMPRESSION_SUFFIXES:
        name = name.removesuffix(suffix)
    for kind, suffixes in (
        ("jsonl", JSONL_SUFFIXES),
        ("warc", WARC_SUFFIXES),
        ("html", HTML_SUFFIXES),
        ("text", TEXT_SUFFIXES),
    ):
        if name.endswith(suffixes):
            return kind
    return None


def expand_inputs(patterns: Iterable[str]) -> list[str]:
    """Sorted absolute paths of the readable files matched by globs (``**`` recurses; directories are walked).

    A pattern that matches nothing is an error: a backfill of nothing is almost always a typo.
    """
    return sorted(set(iter_inputs(patterns)))


def iter_inputs(patterns: Iterable[str]) -> Iterator[str]:
    """The absolute paths of :func:`expand_inputs`, as they are found (with repeats), so that whether there
    is any is known at the first. Raises ``FileNotFoundError`` for a pattern that matches nothing."""
    for pattern in patterns:
        matches = glob.glob(os.path.expanduser(pattern), recursive=True)
        if not matches:
            raise FileNotFoundError(f"no input matches {pattern!r}")
        for match in matches:
            path = Path(match)
            candidates = path.rglob("*") if path.is_dir() else [path]
            yield from (str(p.resolve()) for p in candidates if p.is_file() and file_kind(str(p)))


def open_stream(path: str) -> IO[bytes]:
    """A binary stream of the decompressed content (WARC.gz is left to warcio, which reads its members)."""
    lower = path.lower()
    if lower.endswith(".zst"):
        return io.BufferedReader(ZstdFrames(path))
    if lower.endswith(".bz2"):
        return bz2.open(path, "rb")
    if lower.endswith(".gz") and file_kind(path) != "warc":
        return gzip.open(path, "rb")
    return open(path, "rb")


ZSTD_INPUT = 4096
"""Compressed bytes read from the file at a time."""


class ZstdFrames(io.RawIOBase):
    """A .zst file's content, frame after frame; EOFError when the file ends inside a frame.

    ``zstandard``'s ``stream_reader`` ends quietly where a truncated file ends, so a cut archive lost the
    rest of its records without a word; gzip and bz2 raise this same EOFError there. Each call returns at
    most what was asked (``max_length``), as gzip and bz2 do: a zstd block can turn 4 bytes into 128 KiB,
    so decompressing whatever a read of the file held made up to 128 MiB at once from a hostile file."""

    def __init__(self, path: str) -> None:
        from backports import zstd

        self._source = open(path, "rb")  # noqa: SIM115 - closed with this stream
        self._zstd = zstd
        self._frame: zstd.ZstdDecompressor | None = None  # of the frame being read; None between frames
        self._input = b""  # compressed bytes read from the file and not yet given to a frame

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        size = len(buffer)
        while True:
            if self._frame is not None and not self._frame.needs_input:
                data = self._decompress(b"", size)  # output held back by the last call
            else:
                if not self._input:
                    self._input = self._source.read(ZSTD_INPUT)
                    if not self._input:
                        if self._frame is not None:
                            raise EOFError(
                                "Compressed file ended before the end-of-stream marker was reached"
                            )
                        return 0
                if self._frame is None:
                    self._frame = self._zstd.ZstdDecompressor()
                data, self._input = self._decompress(self._input, size), b""
            if self._frame.eof:
                self._input, self._frame = self._frame.unused_data, None
            if data:
                buffer[: len(data)] = data
                return len(data)

    def _decompress(self, data: bytes, size: int) -> bytes:
        assert self._frame is not None
        try:
            return self._frame.decompress(data, size)
        except self._zstd.ZstdError as exc:  # corrupt data: an OSError, as gzip's BadGzipFile is
            raise OSError(f"not zstd data or corrupt: {exc}") from exc

    def close(self) -> None:
        self._source.close()
        super().close()


def _mtime_ms(path: str) -> int:
    return int(os.stat(path).st_mtime * 1000)


def _envelope(**fields: object) -> bytes:
    return json.dumps({k: v for k, v in fields.items() if v is not None}, ensure_ascii=False).encode("utf-8")


def _decoded(data: bytes, charset: str | None = None) -> str | None:
    """The text of a page: UTF-8 when the bytes are valid UTF-8, else the declared charset when it decodes
    them, else the detected one.

    Valid UTF-8 goes first, as in :func:`~transforms.boilerplate.charset.decode_html`: a declared single-byte
    charset decodes any bytes, so a stale ``charset=iso-8859-1`` header turned a UTF-8 page into mojibake
    ("cafÃ©"), while legacy text is valid multi-byte UTF-8 almost never. Bytes with NULs may be UTF-16 and
    are left to the declaration."""
    if b"\x00" not in data:
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError:
            pass
    codec = web_charset(charset)
    if codec:
        try:
            return data.decode(codec)
        except UnicodeError:
            pass
    try:
        return decode_bytes(data)
    except ParseError:
        return None


def iter_jsonl(
    path: str,
    start: int = 0,
    stop: int | None = None,
    first_line: int = 1,
    *,
    limit: int = MAX_MESSAGE_BYTES,
    store_dir: str | None = None,
) -> Iterator[KafkaRecord | Oversized]:
    """Each non-blank line as it is (a malformed line dead-letters in the chain, like on Kafka); a line over
    ``limit`` bytes is read through in blocks and given as an :class:`Oversized`.

    ``start``/``stop`` (plain files only) select the lines that start in that byte range; ``start`` is a line
    start and ``first_line`` its number, both from :func:`plan_ranges`.
    """
    stamp = _mtime_ms(path)
    with open_stream(path) as stream:
        wide = None if start else _wide_encoding(stream.peek(4)[:4])
        if wide is not None:
            yield from _iter_wide_jsonl(path, stream, wide, stamp, limit, store_dir)
            return
        if start:
            stream.seek(start)
        position, number = start, first_line
        while stop is None or position < stop:
            line = stream.readline(limit + 2)  # room for a line of ``limit`` bytes and its CR LF
            if not line:
                break
            line_start = position
            position += len(line)
            body = line.rstrip(b"\r\n")
            if len(body) > limit or (len(line) == limit + 2 and not line.endswith(b"\n")):
                counted = [0]  # the line goes on past what was read: stream the rest
                rest = _rest_of_line(line, lambda: stream.readline(READ_BLOCK), UTF8_ENDS, counted)
                size, digest, ref = _keep_apart(rest, store_dir)
                position += counted[0]
                yield Oversized(path, number, line_start, size, digest, ref, limit)
            elif line.strip():
                yield KafkaRecord(path, 0, number, None, body, stamp)
            number += 1


WIDE_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)
"""Byte order marks of the encodings in which a line end is not the byte 0x0A (UTF-32's first: it starts
with UTF-16's)."""


ASCII_SPACE = " \t\n\r\x0b\x0c"
"""What ``bytes.strip()`` strips: a line of only these is blank in any encoding."""


def _wide_encoding(head: bytes) -> str | None:
    """The UTF-16/32 encoding a file's first bytes mark: a byte order mark (Windows PowerShell writes UTF-16
    with one by default) or, without one, the NULs of two ASCII characters, as the parser tells a message's
    (.NET's ``Encoding.Unicode`` writes none; a UTF-8 JSON line never starts with a NUL)."""
    marked = next((encoding for bom, encoding in WIDE_BOMS if head.startswith(bom)), None)
    return marked or bomless_wide_encoding(head)


class _WideLines:
    """The lines of a UTF-16/32 stream as their own bytes, cut at newline code units only: the byte 0x0A
    also occurs inside other characters (U+0A05, U+010A), and a cut there garbled every line after it."""

    def __init__(self, stream: IO[bytes], encoding: str) -> None:
        self.stream = stream
        self.ends = _LineEnds.of(encoding)
        self.width, self.lf = self.ends.width, self.ends.lf
        self.buffer = bytearray()
        self.scanned = 0  # bytes at the buffer's start known to hold no line end

    def readline(self, size: int) -> bytes:
        """A line with its line end, or its first ``size`` bytes (whole code units) when it is longer."""
        size -= size % self.width
        while True:
            end = self._line_end()
            if end is not None and end <= size:
                return self._take(end)
            if len(self.buffer) >= size:
                return self._take(size)
            block = self.stream.read(READ_BLOCK)
            if not block:
                return self._take(len(self.buffer))
            self.buffer += block

    def _line_end(self) -> int | None:
        at = self.scanned
        while (at := self.buffer.find(self.lf, at)) >= 0:
            if at % self.width == 0:
                return at + self.width
            at += 1
        self.scanned = max(len(self.buffer) // self.width - 1, 0) * self.width
        return None

    def _take(self, size: int) -> bytes:
        data = bytes(self.buffer[:size])
        del self.buffer[:size]
        self.scanned = max(self.scanned - size, 0)
        return data


def _iter_wide_jsonl(
    path: str, stream: IO[bytes], encoding: str, stamp: int, limit: int, store_dir: str | None
) -> Iterator[KafkaRecord | Oversized]:
    """:func:`iter_jsonl` for a UTF-16/32 file: each line passes as its own bytes (the first with the byte
    order mark if the file has one, which the parser reads; the others are told UTF-16/32 by their NUL
    bytes, as RFC 4627 says), cut at line-end code units."""
    lines = _WideLines(stream, encoding)
    room = 2 * lines.width  # a CR LF
    position, number = 0, 1
    while line := lines.readline(limit + room):
        line_start = position
        position += len(line)
        body = lines.ends.body(line)
        if len(body) > limit or (len(line) == limit + room and not line.endswith(lines.lf)):
            counted = [0]
            rest = _rest_of_line(line, lambda: lines.readline(READ_BLOCK), lines.ends, counted)
            size, digest, ref = _keep_apart(rest, store_dir)
            position += counted[0]
            yield Oversized(path, number, line_start, size, digest, ref, limit)
        elif body.decode(encoding, "replace").lstrip("\ufeff").strip(ASCII_SPACE):
            yield KafkaRecord(path, 0, number, None, body, stamp)
        number += 1


def iter_page(
    path: str,
    kind: str,
    source: str | None = None,
    *,
    limit: int = MAX_MESSAGE_BYTES,
    store_dir: str | None = None,
) -> Iterator[KafkaRecord | Oversized]:
    """A whole .html/.txt file as one envelope; undecodable bytes pass on raw so they dead-letter. A file
    over ``limit`` bytes is read through in blocks and given as an :class:`Oversized`."""
    with open_stream(path) as stream:
        data = _read_up_to(stream, limit + 1)
        if len(data) > limit:
            size, digest, ref = _keep_apart(_blocks(data, stream), store_dir)
            yield Oversized(path, 0, 0, size, digest, ref, limit)
            return
    stamp = _mtime_ms(path)
    text = _decoded(data)
    if text is None:
        yield KafkaRecord(path, 0, 0, None, data, stamp)
        return
    fetched = datetime.fromtimestamp(stamp / 1000, tz=UTC).isoformat()
    value = _envelope(
        source=source,
        fetched_at=fetched,
        metadata={"file": os.path.basename(source_name(path))},
        **{kind: text},
    )
    yield KafkaRecord(path, 0, 0, None, value, stamp)


def _charset(content_type: str) -> str | None:
    for part in content_type.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        if name.strip().lower() == "charset" and value.strip():
            return value.strip().strip("\"'")
    return None


_ARC_DATE = re.compile(r"(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d{3})?", re.ASCII)


def _warc_ms(date: str | None, fallback: int) -> tuple[str | None, int]:
    """(fetch time for the envelope, record time in ms) from ``WARC-Date``, read as the envelope's own
    ``fetched_at`` is (:func:`~transforms.parse.parse_time`: a leap second, lowercase ``t``/``z``); a date
    it refuses (one outside years 1-9999 in UTC too) leaves the fetch time out and the file's time stamps
    the record. Such a date was passed on and dead-lettered the page for its crawl metadata. An ARC-style
    date (``20261203120000``, 14 digits in UTC, or 17 with milliseconds, as ARC headers, Wayback and
    Heritrix write it; converted ARC files keep it) is read too: it fell back to the file's time. Other
    runs of digits are no date."""
    if date is not None and date.strip().isascii() and date.strip().isdigit():
        digits = _ARC_DATE.fullmatch(date.strip())
        if digits is None:  # Python's ISO parser reads 2026120312000 as 2026-12-03 20:00 (any separator)
            return None, fallback
        year, month, day, hour, minute, second, millis = digits.groups()
        date = f"{year}-{month}-{day}T{hour}:{minute}:{second}{'.' + millis if millis else ''}Z"
    try:
        parsed = parse_time(date, "WARC-Date")
    except ParseError:
        parsed = None
    if parsed is None:
        return None, fallback
    return parsed.isoformat(), int(parsed.timestamp() * 1000)


def warc_skip_reason(record) -> str | None:
    """Why a WARC record is not an article to process (None: it is a 2xx HTML response)."""
    if record.rec_type != "response":
        return "not_response"
    if record.http_headers is None:
        return "no_http"
    status = record.http_headers.get_statuscode() or ""
    if not status.startswith("2"):
        return "status"
    content_type = (record.http_headers.get_header("Content-Type") or "").lower()
    if not content_type.startswith(HTML_TYPES):
        return "not_html"
    return None


WARC_GZ_BLOCK = 1024
"""Compressed bytes warcio reads from a .warc.gz at a time: it decompresses a read whole, and deflate makes
at most about 1,032 bytes of one, so a member cannot turn one read into more than about 1 MiB (with its
default 16 KiB reads, a bomb's few KB became its whole record at once)."""


def iter_warc(
    path: str,
    source: str | None = None,
    skipped: Counter | None = None,
    *,
    limit: int = MAX_MESSAGE_BYTES,
    store_dir: str | None = None,
    budget: float = READ_BUDGET,
) -> Iterator[KafkaRecord | Oversized]:
    """2xx HTML responses as envelopes: URL and fetch time from the WARC headers, the payload decoded.

    The payload is de-chunked and content-decoded a block at a time (:mod:`transforms.warc`); one over
    ``limit`` bytes is read through in blocks and given as an :class:`Oversized`, and so is a record whose
    WARC or HTTP header block is over ``limit`` (its original: the record as stored from that block on).
    Other records are counted in ``skipped`` by reason (request, metadata, redirect, image...).
    ``.warc.zst``/``.warc.bz2`` are read as streams (offsets in the decompressed archive); warcio reads
    ``.warc.gz`` itself, member by member; a ``.warc.gz`` compressed as one gzip stream (``gzip
    crawl.warc``) is read as a stream too, offsets in the decompressed archive. Where no record starts
    where the last one ended (a wrong ``Content-Length``, garbage), the archive resynchronises on the next
    record (:class:`~transforms.warc.BoundedArchive`) and the bytes skipped are an :class:`Oversized` with
    a problem (stage ``read``), located by byte range. A file that does not start with a record (not WARC)
    is a :class:`CorruptArchive`, a read error.
    """
    read = [0]  # records read so far
    reading = _Reading(limit, store_dir, budget)
    try:
        yield from _iter_archive(path, source, skipped, reading, read, members=True)
    except _OneGzipStream:  # warcio reads a .warc.gz member by member: read on past the records it gave
        yield from _iter_archive(path, source, skipped, reading, read, members=False)


@dataclass(frozen=True)
class _Reading:
    """How a WARC archive's records are read: the message limit, the original store, the CPU budget."""

    limit: int
    store_dir: str | None
    budget: float


def _iter_archive(
    path: str,
    source: str | None,
    skipped: Counter | None,
    reading: _Reading,
    read: list[int],
    *,
    members: bool,
) -> Iterator[KafkaRecord | Oversized]:
    """:func:`iter_warc` from record ``read[0]`` on, counting the records it reads in ``read``;
    ``members=False`` reads a .warc.gz as one stream."""
    limit, store_dir = reading.limit, reading.store_dir
    stamp = _mtime_ms(path)
    name = os.path.basename(source_name(path))
    gzipped = members and path.lower().endswith(".gz")
    skip, read[0] = read[0], 0
    spills: list[_Spill] = []  # opened by the header parsers for the record being read

    def spill() -> _Spill:
        spills.append(_Spill(store_dir))
        return spills[-1]

    with open_stream(path) if members else gzip.open(path, "rb") as stream:
        archive = BoundedArchive(stream, limit, spill, WARC_GZ_BLOCK if gzipped else BUFF_SIZE)
        try:
            for record in _records(archive, gzipped):
                yield from _skipped(archive, path, limit, spills)
                read[0] += 1
                if read[0] <= skip:  # given by the first pass: framed as it framed them (overruns cut)
                    _read_to_next(record, archive, overrun=True)
                    continue
                over = spill_of(record)
                if over is not None:
                    headers, sink, many = over
                    for block in _blocks(b"", record.raw_stream):
                        sink.write(block)
                    _read_through(record)  # a cut record: the sink is aborted below, nothing stored
                    spills.remove(sink)
                    size, digest, ref = sink.close()  # type: ignore[attr-defined]
                    offset = archive.get_record_offset()
                    problem = None
                    if many:
                        reason = f"its {headers} header block has over {MAX_HEADER_LINES:,} lines"
                        problem = LimitExceeded(reason, stage="parse")
                    yield Oversized(path, offset, None, size, digest, ref, limit, headers, problem)
                    continue
                reason = warc_skip_reason(record)
                if reason is not None:
                    _read_to_next(record, archive, overrun=True)  # no article, but an overrun is cut
                    if skipped is not None:
                        skipped[reason] += 1
                    continue
                payload = _read_payload(record, reading, spill, spills, archive)
                offset = archive.get_record_offset()  # asked for after the payload: asking first consumes it
                if isinstance(payload, tuple):
                    size, digest, ref, problem = payload
                    yield Oversized(path, offset, None, size, digest, ref, limit, problem=problem)
                    continue
                yield _warc_envelope(path, name, source, record, payload, offset, stamp)
            yield from _skipped(archive, path, limit, spills)
        except BaseException as exc:  # a read error inside a header block: no partial original stays
            for sink in spills:
                sink.abort(exc)
            raise


def _skipped(archive: BoundedArchive, path: str, limit: int, spills: list[_Spill]) -> Iterator[Oversized]:
    """The byte ranges the archive skipped to resynchronise since last asked, each one dead letter (stage
    ``read``) whose original is those bytes, as stored."""
    while archive.skips:
        skip = archive.skips.pop(0)
        spills.remove(skip.sink)  # type: ignore[arg-type]
        size, digest, ref = skip.sink.close()  # type: ignore[attr-defined]
        after = "the next WARC record" if skip.found else "the end of the file"
        place = None
        if skip.start is None:
            place = f"{size} bytes in the gzip member of the WARC record at byte {skip.record}, after it"
            where = place
        else:
            where = f"bytes {skip.start}-{skip.start + size}"
        problem = ParseError(
            f"the WARC archive holds no record in {where} (a wrong Content-Length before them, or bytes "
            f"that are not WARC): skipped to {after}",
            stage="read",
        )
        offset = skip.record if skip.start is None else skip.start
        yield Oversized(path, offset, skip.start, size, digest, ref, limit, problem=problem, place=place)


def _read_through(record, archive: BoundedArchive | None = None, *, overrun: bool = False) -> None:
    """Reads the rest of the record's block; EOFError if the file ends before it does (its
    ``Content-Length``): a cut archive's last page passed cut short, as a whole article. In a .warc.gz
    whose gzip member ends before the record does while the file goes on (a ``Content-Length`` too large:
    warcio stops at the member's end), ParseError, the archive reading on with the next member; nothing
    with ``overrun`` (the record is dead-lettered already, or is no article)."""
    stream = record.raw_stream
    while stream.read(READ_BLOCK):
        pass
    if isinstance(stream, LimitReader) and stream.limit > 0:
        if archive is not None and archive.member_ended():
            if overrun:
                return
            raise ParseError(
                f"the WARC record's Content-Length runs {stream.limit} bytes past the end of its gzip "
                "member: the record is not what its headers say",
                stage="read",
            )
        raise EOFError(f"the file ends inside a WARC record, {stream.limit} bytes before its end")


OVERRUN = (
    "the WARC record's Content-Length overruns the next record (its block holds the two CRLFs that end "
    "a record, then a WARC record start): the record is kept up to there, the records after it read on"
)


def _read_to_next(record, archive: BoundedArchive, *, overrun: bool = False) -> bytes | None:
    """:func:`_read_through` the record; then, when no record's end follows its block (or the file ends
    inside it) and the block holds the next record's start (a ``Content-Length`` too large), the block up
    to that start, the archive reading on from there (:meth:`~transforms.warc.BoundedArchive.overrun`).
    None when the record ends as its length says, or no record start is found in it (the archive then
    resynchronises after it, or the file is cut)."""
    try:
        _read_through(record, archive, overrun=overrun)
    except EOFError:
        swallowed = archive.overrun(record)
        if swallowed is None:
            raise
        return swallowed
    return None if archive.reader.ends_record() is True else archive.overrun(record)


def _read_payload(
    record,
    reading: _Reading,
    spill: Callable[[], _Spill],
    spills: list[_Spill],
    archive: BoundedArchive,
) -> bytes | tuple[int, str, str | None, PipelineError | None]:
    """A response's payload, de-chunked and decoded, within ``reading``'s limit and CPU budget; else kept
    apart as (size, SHA-256, store reference or None, problem): the decoded payload past the limit
    (problem None), or, when it could not be read right (corrupt coding, a body cut short or a record the
    crawler marked ``WARC-Truncated``, over budget), the HTTP message as stored (the problem). The record
    is read through either way."""
    deadline = Deadline(reading.budget, stage="read")
    head = getattr(record.http_headers, "raw", b"")
    recorded = Recorded(record.raw_stream, head, reading.limit, spill, deadline)
    content = content_stream(record, recorded, deadline)
    try:
        if truncated := record.rec_headers.get_header("WARC-Truncated"):
            raise ParseError(
                f"the WARC record is truncated (WARC-Truncated: {truncated[:40]}): its page is cut short",
                stage="read",
            )
        payload = _read_up_to(content, reading.limit + 1)
        if len(payload) <= reading.limit:
            swallowed = _read_to_next(record, archive)
            if swallowed is not None:
                return *_keep_apart([swallowed], reading.store_dir), ParseError(OVERRUN, stage="read")
            ends = archive.reader.ends_record()
            if ends is None:  # garbage after it, it swallowed a record's start, or it cut its HTTP head
                ends = (
                    recorded.sink is None
                    and not holds_record_start(b"".join(recorded.held))
                    and http_head_closed(head)
                )
            if not ends:
                raise ParseError(
                    "the WARC record's block goes on past its Content-Length (the blank lines that end "
                    "a record are not there): its page, and the original kept, are cut short",
                    stage="read",
                )
            return payload
        return *_keep_apart(_then(_blocks(payload, content), record, archive), reading.store_dir), None
    except PipelineError as problem:
        return *_as_stored(recorded, record, reading.store_dir, archive), problem
    finally:
        if recorded.sink is not None:  # opened for this record, kept only as the original
            spills.remove(recorded.sink)
            recorded.sink.abort(None)


def _as_stored(
    recorded: Recorded, record, store_dir: str | None, archive: BoundedArchive
) -> tuple[int, str, str | None]:
    """(size, SHA-256, store reference or None) of the record's HTTP message as stored: what ``recorded``
    kept of it, then the rest of the record, read through (to its gzip member's end, if that comes
    first)."""
    rest = _then(_blocks(b"", record.raw_stream), record, archive, overrun=True)
    sink = recorded.sink
    if sink is None:
        return _keep_apart([*recorded.held, *rest], store_dir)
    for piece in rest:
        sink.write(piece)
    return sink.close()  # type: ignore[attr-defined]


def _then(
    pieces: Iterable[bytes], record, archive: BoundedArchive | None = None, *, overrun: bool = False
) -> Iterator[bytes]:
    """``pieces`` of the record's payload, then :func:`_read_through` the record: an original cut short
    raises before it is complete, so the store keeps nothing of it."""
    yield from pieces
    _read_through(record, archive, overrun=overrun)


class CorruptArchive(ValueError):
    """A WARC archive that cannot be read on: it does not start with a record (or a record the reader
    resynchronised on does not parse after all)."""


class _OneGzipStream(Exception):
    """A .warc.gz that is not a gzip member a record: warcio refuses to read past its first record."""


def _records(archive: BoundedArchive, gzipped: bool) -> Iterator:
    try:
        yield from archive
        if archive.cut:
            raise EOFError("the file ends inside a gzip member: its last record is cut short")
    except CutShort as exc:
        raise EOFError(str(exc)) from exc
    except ArchiveLoadFailed as exc:  # its message quotes the bytes found: no payload in a reason or log
        if gzipped and "non-chunked gzip" in str(exc):
            raise _OneGzipStream from exc
        raise CorruptArchive(
            f"corrupt WARC archive: no record starts at byte {archive.offset} (a wrong Content-Length "
            "before it, or not a WARC file)"
        ) from exc


def _warc_envelope(
    path: str, name: str, source: str | None, record, payload: bytes, offset: int, stamp: int
) -> KafkaRecord:
    """A response's envelope; its payload as it is when it does not decode (it dead-letters then). The
    offset is asked for after the payload is read: asking first would consume it."""
    fetched, ms = _warc_ms(record.rec_headers.get_header("WARC-Date"), stamp)
    html = _decoded(payload, _charset(record.http_headers.get_header("Content-Type") or ""))
    if html is None:
        return KafkaRecord(path, 0, offset, None, payload, ms)
    metadata = {"warc_file": name}
    record_id = record.rec_headers.get_header("WARC-Record-ID")
    if record_id:
        metadata["warc_record_id"] = record_id
    url = record.rec_headers.get_header("WARC-Target-URI")
    value = _envelope(url=url, source=source, html=html, fetched_at=fetched, metadata=metadata)
    return KafkaRecord(path, 0, offset, url.encode() if url else None, value, ms)


@dataclass(frozen=True)
class FileRange:
    """What one reader reads: a whole file, or (plain JSONL) the lines that start in ``[start, stop)``, the
    first of them being line ``first_line``. ``size`` is its bytes on disk, what reading it costs."""

    path: str
    size: int
    start: int = 0
    stop: int | None = None
    first_line: int = 1


def splittable(path: str) -> bool:
    """Plain JSONL can be cut at any line start; compressed files, pages, WARC archives and UTF-16/32 JSONL
    (whose line ends are not found by byte) are read whole."""
    if file_kind(path) != "jsonl" or path.lower().endswith(COMPRESSION_SUFFIXES):
        return False
    with open(path, "rb") as stream:
        return _wide_encoding(stream.read(4)) is None


def plan_ranges(paths: Iterable[str], pieces: int) -> list[FileRange]:
    """The files as about ``pieces`` ranges of similar bytes, largest first (so dealing them out in turn
    balances workers): plain JSONL files bigger than a piece are cut at line starts, others stay whole."""
    sizes = {path: os.path.getsize(path) for path in paths}
    target = max(math.ceil(sum(sizes.values()) / max(pieces, 1)), 1)
    ranges: list[FileRange] = []
    for path, size in sizes.items():
        if splittable(path) and size > target:
            ranges += _cut_lines(path, size, math.ceil(size / target))
        else:
            ranges.append(FileRange(path, size))
    return sorted(ranges, key=lambda r: (-r.size, r.path, r.start))


def _cut_lines(path: str, size: int, parts: int) -> list[FileRange]:
    """``parts`` ranges of about ``size / parts`` bytes, each starting at a line start, with its line number
    (one pass counting newlines: cheap next to parsing, and it keeps positions as line numbers)."""
    with open(path, "rb") as stream:
        cuts = [0]
        for k in range(1, parts):
            stream.seek(k * size // parts - 1)
            stream.readline()  # to the end of the line holding the byte before the cut
            if cuts[-1] < stream.tell() < size:
                cuts.append(stream.tell())
        stream.seek(0)
        lines, position, first_lines = 1, 0, []
        for cut in cuts:
            while position < cut:
                block = stream.read(min(SCAN_BLOCK, cut - position))
                if not block:
                    break
                lines += block.count(b"\n")
                position += len(block)
            first_lines.append(lines)
    ends = [*cuts[1:], size]
    stops = [*cuts[1:], None]
    return [
        FileRange(path, end - start, start, stop, line)
        for start, stop, end, line in zip(cuts, stops, ends, first_lines, strict=True)
    ]


def iter_range(
    part: FileRange,
    source: str | None = None,
    skipped: Counter | None = None,
    *,
    limit: int = MAX_MESSAGE_BYTES,
    store_dir: str | None = None,
) -> Iterator[KafkaRecord | Oversized]:
    """The records of one planned range."""
    if part.start or part.stop is not None:
        lines = iter_jsonl(
            part.path, part.start, part.stop, part.first_line, limit=limit, store_dir=store_dir
        )
        yield from _named(lines, part.path)
    else:
        yield from iter_file(part.path, source, skipped, limit=limit, store_dir=store_dir)


def iter_file(
    path: str,
    source: str | None = None,
    skipped: Counter | None = None,
    *,
    limit: int = MAX_MESSAGE_BYTES,
    store_dir: str | None = None,
    budget: float = READ_BUDGET,
) -> Iterator[KafkaRecord | Oversized]:
    """The records of one input file, by its kind; those over ``limit`` bytes as :class:`Oversized`, their
    originals streamed into the original store under ``store_dir`` when given; ``budget``: CPU seconds
    for reading one WARC record's payload."""
    kind = file_kind(path)
    if kind == "jsonl":
        records = iter_jsonl(path, limit=limit, store_dir=store_dir)
    elif kind == "warc":
        records = iter_warc(path, source, skipped, limit=limit, store_dir=store_dir, budget=budget)
    elif kind in ("html", "text"):
        records = iter_page(path, kind, source, limit=limit, store_dir=store_dir)
    else:
        raise ValueError(f"not a readable input file: {source_name(path)}")
    yield from _named(records, path)


class ReadFileDoFn(beam.DoFn):
    """FileRange -> its records; counts files, records and skipped WARC records."""

    def __init__(
        self, source: str | None = None, limit: int = MAX_MESSAGE_BYTES, store_dir: str | None = None
    ) -> None:
        self.source = source
        self.limit = limit
        self.store_dir = store_dir

    def setup(self) -> None:
        self._files = Metrics.counter("newsflow", "files.read")
        self._records = Metrics.counter("newsflow", "files.records_read")

    def process(self, part: FileRange) -> Iterator[KafkaRecord | beam.pvalue.TaggedOutput]:
        """The range's records; a file that fails part way (cut short, corrupt, unreadable) keeps the records
        read before, and gives a dead letter tagged :data:`UNREADABLE` instead of failing the whole job; so
        does each record over the limit (:class:`Oversized`), and the range reads on."""
        skipped: Counter = Counter()
        count = 0
        try:
            for record in iter_range(part, self.source, skipped, limit=self.limit, store_dir=self.store_dir):
                if isinstance(record, Oversized):  # too large, or (``problem``) a WARC record not read right
                    kind = "oversized" if record.problem is None else "bad_records"
                    Metrics.counter("newsflow", f"files.{kind}").inc()
                    yield beam.pvalue.TaggedOutput(UNREADABLE, record.dead_letter())
                    continue
                count += 1
                self._records.inc()
                yield record
        except READ_ERRORS as exc:
            Metrics.counter("newsflow", "files.unreadable").inc()
            log.warning("file_unreadable", path=part.path, error=type(exc).__name__, records=count)
            position = SourcePosition(source_name(part.path), 0, 0)  # the file, as newsflow process says
            yield beam.pvalue.TaggedOutput(UNREADABLE, dead_letter(b"", exc, position, stage="read"))
        for reason, n in skipped.items():
            Metrics.counter("newsflow", f"files.warc_skipped.{reason}").inc(n)
        if part.start == 0:
            self._files.inc()
        log.debug("file_read", path=part.path, start=part.start, records=count, skipped=sum(skipped.values()))


def claim(claims: str, index: int) -> bool:
    """Whether this caller is the first to claim range ``index`` (an exclusive create: atomic on a local
    file system, so of several workers asking at once exactly one gets it)."""
    try:
        os.close(os.open(os.path.join(claims, str(index)), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        return False
    return True


class ClaimRangesDoFn(ReadFileDoFn):
    """A reader token -> the records of every range this worker claims first, in plan order (largest
    first). Each worker runs one token and takes the next unclaimed range whenever it is free, so a worker
    on a slower or busier core simply reads fewer ranges: the read stage ends on all workers together."""

    def __init__(
        self,
        ranges: list[FileRange],
        claims: str,
        source: str | None = None,
        limit: int = MAX_MESSAGE_BYTES,
        store_dir: str | None = None,
    ) -> None:
        super().__init__(source, limit, store_dir)
        self.ranges = ranges
        self.claims = claims

    def process(self, _token: int) -> Iterator[KafkaRecord]:
        for index, part in enumerate(self.ranges):
            if claim(self.claims, index):
                yield from super().process(part)


class ReadFiles(beam.PTransform):
    """Planned ranges (:func:`plan_ranges`) -> KafkaRecords, one range per call.

    By default the ranges are elements, which the runner cuts into one share per worker up front. With
    ``claims``, a directory all workers share (the local runner's workers, on one machine), ``readers``
    tokens are spread instead and the workers claim the ranges one at a time as they get free
    (:class:`ClaimRangesDoFn`): dynamic balancing that Beam's local runner does not do itself. Only for a
    runner that never runs a bundle twice (the local one): a repeated bundle would find its ranges claimed.
    An unsplittable file much bigger than a range is read by one worker: reshuffle after it then. Records
    over ``limit`` bytes become dead letters, their originals streamed into the store under ``store_dir``
    when given (:class:`Oversized`)."""

    def __init__(
        self,
        ranges: list[FileRange],
        source: str | None = None,
        *,
        claims: str | None = None,
        readers: int = 1,
        limit: int = MAX_MESSAGE_BYTES,
        store_dir: str | None = None,
    ) -> None:
        super().__init__()
        self.ranges = ranges
        self.source = source
        self.claims = claims
        self.readers = readers
        self.limit = limit
        self.store_dir = store_dir

    def expand(self, pbegin: beam.pvalue.PBegin) -> beam.pvalue.DoOutputsTuple:
        """``.records`` and, tagged :data:`UNREADABLE`, the dead letters of files that could not be read
        and of records over the limit."""
        if self.claims is None:
            return (
                pbegin
                | "Ranges" >> beam.Create(self.ranges)
                | "ReadFile"
                >> beam.ParDo(ReadFileDoFn(self.source, self.limit, self.store_dir)).with_outputs(
                    UNREADABLE, main="records"
                )
            )
        return (
            pbegin
            | "Readers" >> beam.Create(range(self.readers))
            | "ClaimAndRead"
            >> beam.ParDo(
                ClaimRangesDoFn(self.ranges, self.claims, self.source, self.limit, self.store_dir)
            ).with_outputs(UNREADABLE, main="records")
        )
