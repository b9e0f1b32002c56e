"""warcio with every read bounded: header blocks, lines, and (through ``http_body``) the payload.

warcio frames WARC records well (gzip members, offsets, record types), but it trusts the sizes a file
states: its header parser reads a line whole however long (and joins a long line's blocks in quadratic
time) and keeps every header of a block; its de-chunker reads an HTTP chunk whole (up to 2 GiB), and its
content decoders inflate a read whole (16 KiB of gzip can become 16 MiB). A hostile or broken archive made
one record hold gigabytes. Here, wrapping warcio's own classes rather than replacing them:

* the archive's lines are read in blocks of at most :data:`LINE_BLOCK` bytes (:class:`LineReader`);
* a header block (the WARC record's or its HTTP message's) is held up to the message limit; past it, the
  block is read through into a *spill* (the original store or a hash, see ``file_io``) and marked with it,
  so the record is dead-lettered whole and the archive reads on (:class:`BoundedHeaders`);
* a header block of over :data:`MAX_HEADER_LINES` lines is read through the same way;
* the payload is de-chunked and decoded a block at a time by ``transforms.http_body``, so the caller's
  read size is all a payload holds; a body cut short or corrupt part way raises
  :class:`~transforms.errors.ParseError` instead of passing the page on cut short;
* where no record starts after one (a wrong ``Content-Length``, garbage), the archive resynchronises on the
  next WARC version line followed by a WARC header block, the bytes skipped streamed into a *spill*
  (:meth:`BoundedArchive._resync`), instead of failing the rest of the file; before that, a record's block
  (kept as read, up to the limit) that holds the two CRLFs ending a record and then a record start is cut
  there, its ``Content-Length`` too large, and the records it swallowed are read on
  (:meth:`BoundedArchive.overrun`);
* what is read of a record is kept as read (:class:`Recorded`), with a CPU deadline checked on every read,
  so a record whose payload cannot be read right, or in time, is dead-lettered as stored.

The wrappers lean on warcio internals (checked on 1.8.1): the reader's ``buff``, ``_fillbuff``,
``_init_decomp``, ``_process_read``, ``rem_length`` and ``decompressor``, the iterator's
``reader``/``loader``/``fh``, ``_consume_blanklines`` and ``close``, the loader's parser attributes.
Recheck them on a warcio upgrade; ``tests/unit/test_warc_*.py`` fail if one moves.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import IO, Protocol

import structlog
from warcio.archiveiterator import ArchiveIterator
from warcio.bufferedreaders import DecompressingBufferedReader
from warcio.limitreader import LimitReader
from warcio.recordloader import ArcWarcRecord, ArcWarcRecordLoader
from warcio.statusandheaders import (
    StatusAndHeaders,
    StatusAndHeadersParser,
    StatusAndHeadersParserException,
)

from transforms.budget import Deadline
from transforms.http_body import DECODE_STEP

log = structlog.get_logger(__name__)

LINE_BLOCK = 1 << 16
"""Most bytes of a line read at once: a longer line comes in pieces."""
MAX_HEADER_LINES = 10_000
"""Most lines a header block may have (HTTP servers take 100 fields; browsers a few hundred): 1.8 million
short lines, within the size limit, took 3.5 CPU-s to parse and ~100 MB to hold."""


class Sink(Protocol):
    """Where a record over the limit goes piece by piece (an original store writer, or a hash)."""

    def write(self, data: bytes) -> None: ...


class CutShort(Exception):
    """The file ends inside a record (warcio reads an EOFError as the archive's end: this is not one)."""


class LineReader(DecompressingBufferedReader):
    """warcio's archive reader whose ``readline`` returns at most :data:`LINE_BLOCK` bytes and joins the
    pieces of a line once (warcio's appends them one by one: quadratic on a long line). ``fed`` says
    whether the current gzip member has been given any bytes (one that has and does not end is cut)."""

    fed = False
    tee: list[bytes] | None = None
    tee_left = 0

    def begin_tee(self, limit: int) -> None:
        """Keep the bytes read from here on (a record's block), up to ``limit`` bytes (past it: none), so
        that a block read too far can be given back (:meth:`BoundedArchive.overrun`)."""
        self.tee, self.tee_left = [], limit

    def end_tee(self) -> bytes | None:
        """The bytes kept since :meth:`begin_tee` (None: none kept, or more than its limit); stops keeping."""
        tee, self.tee = self.tee, None
        return None if tee is None else b"".join(tee)

    def _teed(self, data: bytes) -> bytes:
        if self.tee is not None and data:
            self.tee_left -= len(data)
            if self.tee_left < 0:
                self.tee = None
            else:
                self.tee.append(data)
        return data

    def read(self, length: int | None = None) -> bytes:
        return self._teed(super().read(length))

    def _init_decomp(self, decomp_type) -> None:
        super()._init_decomp(decomp_type)
        self.fed = False

    def _process_read(self, data: bytes) -> None:
        self.fed = self.fed or bool(data)
        super()._process_read(data)

    def skip_line_ends(self) -> int:
        """Skips the CR and LF bytes ahead at once (to the end of the gzip member at most); their count.
        A run of blank lines between records cost a ``readline`` each: 0.4 CPU-µs a line, 20 s for the
        50 million a 100 KB .warc.gz can hold."""
        skipped = 0
        while True:
            self._fillbuff()
            if self.empty():
                return skipped
            start = self.buff.tell()
            ahead = self.buff.read(LINE_BLOCK)
            rest = ahead.lstrip(b"\r\n")
            self.buff.seek(start + len(ahead) - len(rest))
            skipped += len(ahead) - len(rest)
            if rest:
                return skipped

    def ends_record(self) -> bool | None:
        """Whether the bytes ahead (those already read into the buffer: it looks no further) are what
        follows a record read to its ``Content-Length``: line ends, then the next record or the end (True).
        False when the record's block goes on there (its ``Content-Length`` is too small). None for the
        standard's two CRLFs, then something else: garbage after a right record, or a record too long
        whose end fell before the two CRLFs that end a header block of the record it swallowed."""
        self._fillbuff()
        if self.empty():
            return True
        start = self.buff.tell()
        ahead = self.buff.read(64)
        self.buff.seek(start)
        rest = ahead.lstrip(b"\r\n")
        if not rest or rest.startswith(b"WARC/") or b"WARC/".startswith(rest):
            return True
        return None if ahead.startswith(b"\r\n\r\n") else False

    def unread(self, data: bytes) -> None:
        """Puts ``data``, the bytes just read, back in front of the buffer: the next reads give them again.
        Offsets (the file's position less :meth:`rem_length`) stay right."""
        rest = self.buff.read() if self.buff is not None else b""
        self.buff = io.BytesIO(data + rest)
        self.buff_size = len(data) + len(rest)

    def readline(self, length: int | None = None) -> bytes:
        left = LINE_BLOCK if length is None else min(length, LINE_BLOCK)
        parts: list[bytes] = []
        while left > 0:
            self._fillbuff()
            if self.empty():
                break
            part = self.buff.readline(left)
            parts.append(part)
            left -= len(part)
            if part.endswith(b"\n"):
                break
        return self._teed(b"".join(parts))


def _blank(line: bytes) -> bool:
    """A line that ends a header block, as warcio's parser decides it (decoded, then stripped)."""
    return not StatusAndHeadersParser.decode_header(line).rstrip()


class BoundedHeaders(StatusAndHeadersParser):
    """warcio's status-and-headers parser, holding a block only up to ``limit`` bytes.

    A block within the limit (and :data:`MAX_HEADER_LINES`) parses exactly as warcio parses it. A larger
    one is read through to its end
    into ``spill()`` (the bytes held first, then the rest as read) and parsed as a block of the headers
    named in ``keep`` only (read from lines of one piece: the framing, ``Content-Length``, needs no more);
    the result's ``spill`` attribute is that sink, None otherwise."""

    def __init__(
        self,
        statuslist: list[str],
        verify: bool,
        limit: int,
        spill: Callable[[], Sink],
        keep: Iterable[str] = (),
        closed_blocks: bool = False,
    ) -> None:
        super().__init__(statuslist, verify)
        self.limit = limit
        self.spill = spill
        self.keep = {name.lower() for name in keep}
        self.closed_blocks = closed_blocks  # a block ends with a blank line: one the file ends in is cut

    def parse(self, stream, full_statusline: bytes | None = None) -> StatusAndHeaders:
        first = full_statusline if full_statusline is not None else stream.readline(LINE_BLOCK)
        if not first:
            if isinstance(stream, LimitReader) and stream.limit > 0:  # warcio takes EOFError for the end
                raise CutShort("the file ends inside a WARC record, before its HTTP headers")
            raise EOFError()
        if self.closed_blocks and not first.endswith(b"\n") and len(first) < LINE_BLOCK:
            raise CutShort("the file ends inside a WARC record's first line")  # (a line is cut only there)
        if self.verify:  # refuse a record that starts wrong before reading any further
            status = self.decode_header(first).rstrip()
            if status and not self.split_prefix(status, self.statuslist):
                msg = f"Expected Status Line starting with {self.statuslist} - Found: {status[:200]}"
                raise StatusAndHeadersParserException(msg, first)
        held: list[bytes] = []  # the block's pieces, while it is within the limit
        sink: Sink | None = None
        many = False  # spilled for its line count, not its size
        kept: list[tuple[str, str]] = []  # the ``keep`` headers, from lines of one piece
        size, lines, piece = 0, 0, first
        while True:  # a line a turn, read in pieces
            head, whole = piece, True
            while True:
                size += len(piece)
                if sink is not None:
                    sink.write(piece)
                else:
                    held.append(piece)
                    if size > self.limit:
                        sink = self.spill()
                        for part in held:
                            sink.write(part)
                        held = []
                if not piece or piece.endswith(b"\n"):
                    break
                piece, whole = stream.readline(LINE_BLOCK), False
            lines += 1
            if lines > MAX_HEADER_LINES and sink is None:  # too many to parse: read through as too large
                sink, many = self.spill(), True
                for part in held:
                    sink.write(part)
                held = []
            if lines > 1 and whole and self.keep:
                name, colon, value = self.decode_header(head).partition(":")
                if colon and name.rstrip(" \t").lower() in self.keep:
                    kept.append((name.rstrip(" \t"), value.strip()))
            if not head and self.closed_blocks:
                raise CutShort("the file ends inside a WARC record's headers")
            if not head or (whole and _blank(head)):
                break  # the block's end (a blank status line is a block of its own, as in warcio)
            piece = stream.readline(LINE_BLOCK)
        if sink is None:
            block = b"".join(held)
            result = super().parse(io.BytesIO(block))
            result.raw = block  # the block as stored: a record dead-lettered for its payload starts with it
            return result
        result = StatusAndHeaders("", kept, protocol="", total_len=size)
        result.spill = sink
        result.many_lines = many
        return result


class BoundedLoader(ArcWarcRecordLoader):
    """warcio's record loader with :class:`BoundedHeaders` parsers. A WARC header block over the limit keeps
    only ``Content-Length`` (the record's extent), so no HTTP message is parsed from it: it is one
    oversized record. A record that can hold HTTP but names no target URI (``WARC-Target-URI`` is required,
    yet a broken writer can leave it out) is read as HTTP, its page an article without a URL: warcio
    failed on it with an AttributeError, which stopped the whole input."""

    def __init__(self, limit: int, spill: Callable[[], Sink]) -> None:
        super().__init__(verify_http=False, arc2warc=False)
        self.limit = limit
        self.warc_parser = BoundedHeaders(
            self.WARC_TYPES, True, limit, spill, keep=["Content-Length"], closed_blocks=True
        )
        self.http_parser = BoundedHeaders(self.HTTP_TYPES, False, limit, spill)
        self.http_req_parser = BoundedHeaders(self.HTTP_VERBS, False, limit, spill)

    def _detect_type_load_headers(self, stream, statusline=None, known_format=None):
        """warcio's; then the record's block is kept as read, up to the limit (:meth:`LineReader.begin_tee`)."""
        found = super()._detect_type_load_headers(stream, statusline, known_format)
        if isinstance(stream, LineReader):
            stream.begin_tee(self.limit)
        return found

    def load_http_headers(self, rec_type, uri, stream, length):
        return super().load_http_headers(rec_type, "http:" if uri is None else uri, stream, length)


VERSION_LINE = re.compile(rb"WARC/(?:1\.[01]|0\.1[78])\r?\n")
"""A WARC record's first line, for the versions warcio reads."""
VERSIONS = tuple(
    b"WARC/%s%s" % (v, end) for v in (b"1.0", b"1.1", b"0.17", b"0.18") for end in (b"\r\n", b"\n")
)
PROBE_BYTES = LINE_BLOCK
"""Most bytes of a header block read to check a resynchronising candidate (a WARC header block is a few
hundred bytes): a longer block after a skip is not taken as a record start, and is skipped too."""
_FIELD_NAME = re.compile(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


def header_block_starts_record(block: bytes) -> bool:
    """Whether ``block``, the lines after a WARC version line, is a WARC header block: ``name: value``
    lines (or folded continuations), ending with a blank line, with a ``WARC-Type`` and a decimal
    ``Content-Length``. Text that merely contains ``WARC/1.0`` is rejected by this."""
    rows = [row.removesuffix(b"\r") for row in block.split(b"\n")]
    if len(rows) < 3 or rows[-1] or rows[-2]:  # (the block ends with "\n", then the blank line)
        return False
    fields: dict[bytes, bytes] = {}
    for index, row in enumerate(rows[:-2]):
        if row[:1] in (b" ", b"\t") and index:
            continue
        name, colon, value = row.partition(b":")
        if not colon or not _FIELD_NAME.fullmatch(name):
            return False
        fields[name.lower()] = value.strip()
    return bool(fields.get(b"warc-type")) and fields.get(b"content-length", b"").isdigit()


_BLOCK_END = re.compile(rb"^\r?\n", re.MULTILINE)


def _block_end(data: bytes) -> int | None:
    """The end of the first blank line in ``data`` (the end of a header block), if there is one."""
    found = _BLOCK_END.search(data)
    return None if found is None else found.end()


_VERSION_AT_LINE_START = re.compile(rb"^WARC/(?:1\.[01]|0\.1[78])\r?\n", re.MULTILINE)


def http_head_closed(head: bytes) -> bool:
    """Whether an HTTP header block as stored ends with its blank line (or there is none to tell): one that
    a too-small ``Content-Length`` cut just before its blank line does not, while the bytes after the
    record then start with the two CRLFs that look like a record's end."""
    return not head or head.endswith((b"\n\n", b"\n\r\n"))


def holds_record_start(data: bytes) -> bool:
    """Whether ``data`` has a line that starts a WARC record (a version line, then a WARC header block):
    a record's block that does has swallowed the start of the next (its ``Content-Length`` is too
    large). A header block that ``data`` ends in counts as ended there: the length may end the block
    just before its blank line."""
    return any(_header_block_follows(data, found.end()) for found in _VERSION_AT_LINE_START.finditer(data))


def _header_block_follows(data: bytes, at: int) -> bool:
    """Whether a WARC header block starts at ``at`` in ``data`` (one that ``data`` ends in counts as ended
    there: a length may end it just before its blank line)."""
    rest = data[at : at + PROBE_BYTES]
    end = _block_end(rest)
    if end is None and at + len(rest) == len(data):
        rest, end = rest.rstrip(b"\r\n") + b"\r\n\r\n", len(rest.rstrip(b"\r\n")) + 4
    return end is not None and header_block_starts_record(rest[:end])


_SEPARATOR_THEN_VERSION = re.compile(rb"\r\n\r\nWARC/(?:1\.[01]|0\.1[78])\r?\n")


def swallowed_record_start(block: bytes, ahead: bytes = b"") -> int | None:
    """Where in ``block``, a record's block read to a ``Content-Length`` that was not followed by a record's
    end, the record ended and the next began: the first two CRLFs (the standard's record end) followed by a
    WARC version line and a WARC header block (looked for in ``block`` then ``ahead``, the bytes after it),
    the next record starting inside ``block``. None when there is none."""
    data = block + ahead
    for found in _SEPARATOR_THEN_VERSION.finditer(data):
        if found.start() + 4 >= len(block):
            break
        if _header_block_follows(data, found.end()):
            return found.start()
    return None


@dataclass(frozen=True)
class Skip:
    """Bytes between records that hold no record (after a wrong ``Content-Length``, or garbage): streamed
    into ``sink``. ``start`` is their first byte in the (decompressed) archive, or, in a gzip member, None
    (they lie in the member of the record at ``record``); ``found``: a record follows them (else the file
    or the member ends)."""

    start: int | None
    record: int
    size: int
    sink: Sink
    found: bool


class BoundedArchive(ArchiveIterator):
    """An ``ArchiveIterator`` reading through :class:`LineReader` and :class:`BoundedLoader`, which
    resynchronises: where a record should start and none does, it scans a buffer at a time for the next
    WARC version line followed by a WARC header block, streams the bytes skipped into ``spill()`` and reads on
    from there; each skip is appended to :attr:`skips`."""

    def __init__(self, fileobj: IO[bytes], limit: int, spill: Callable[[], Sink], block_size: int) -> None:
        super().__init__(fileobj, block_size=block_size)
        self.reader = LineReader(self.fh, block_size=block_size)
        self.loader = BoundedLoader(limit, spill)
        self.spill = spill
        self.cut = False  # the last gzip member ended before its end: warcio stops there without a word
        self.skips: list[Skip] = []

    def member_ended(self) -> bool:
        """Whether the gzip member being read has ended while the file goes on: a record's
        ``Content-Length`` ran past its member (warcio reads no further than a member's end)."""
        reader = self.reader
        if reader is None or reader.decompressor is None or not reader.decompressor.eof:
            return False
        peek = getattr(self.fh, "peek", None)
        return reader.rem_length() > 0 or bool(peek is not None and peek(1))

    def close(self) -> None:
        reader = self.reader
        if reader is not None and reader.decompressor is not None:
            self.cut = reader.fed and not reader.decompressor.eof
        super().close()

    def _consume_blanklines(self) -> tuple[bytes | None, int]:
        """warcio's: the blank lines after a record, and the next record's first line. Where that line is
        no WARC version line (a wrong ``Content-Length``, garbage between records), warcio skipped one
        line, then failed on the next; here the archive resynchronises (:meth:`_resync`)."""
        self.reader.tee = None  # the record's block is read: keep no more
        empty_size = 0
        while True:
            line = self.reader.readline()
            if not line:
                return None, empty_size
            if not line.rstrip():
                empty_size += len(line) + self.reader.skip_line_ends()
                continue
            if VERSION_LINE.fullmatch(line):
                block, ended = self._peek_block()
                if not ended or header_block_starts_record(block):  # (not ended: cut, or too long)
                    return line, empty_size
            elif not line.endswith(b"\n") and any(v.startswith(line) for v in VERSIONS):
                return line, empty_size  # the file ends inside a record's first line: it is cut
            return self._resync(line), empty_size

    def overrun(self, record: ArcWarcRecord) -> bytes | None:
        """After ``record``'s block was read to its ``Content-Length`` and no record's end follows (or the
        file ends first): when the block holds the two CRLFs that end a record, then a record start
        (:func:`swallowed_record_start`), the block up to there, and the archive reads on from that record
        (the bytes after it are given back to the reader); else None. Only a block kept whole (within the
        limit: :meth:`LineReader.begin_tee`) is looked at. (In a .warc.gz of a member a record, a length
        too large ends at its member instead; this is for archives read as one stream.)"""
        reader = self.reader
        block = reader.end_tee()
        if not block:
            return None
        ahead = b""
        reader._fillbuff()
        if not reader.empty():
            at = reader.buff.tell()
            with reader.buff.getbuffer() as view:
                ahead = bytes(view[at : at + PROBE_BYTES])
        cut = swallowed_record_start(block, ahead)
        if cut is None:
            return None
        if isinstance(record.raw_stream, LimitReader):
            record.raw_stream.limit = 0  # its block ends at the cut: nothing more of it to read
        reader.unread(block[cut + 4 :])
        log.warning("warc_length_overrun", record=self.offset, block=cut, given_back=len(block) - cut - 4)
        return block[:cut]

    def _resync(self, line: bytes) -> bytes | None:
        """From ``line`` (at a line start, not a record's first line), the bytes up to the next WARC version
        line that starts a line and is followed by a WARC header block (:func:`header_block_starts_record`)
        go into a :class:`Skip`; that version line, or None at the end of the file (or gzip member). Scans
        the reader's buffer a block at a time for a line starting with ``W``, reads only such lines, and
        holds at most :data:`PROBE_BYTES` of a candidate's header block, which is left to be scanned on
        when it is none. (A line at a time cost 0.65 CPU-µs a line: 5.2 s for 16 MB of 2-byte lines.)"""
        reader = self.reader
        in_member = reader.decompressor is not None
        start = None if in_member else self.fh.tell() - reader.rem_length() - len(line)
        sink = self.spill()
        sink.write(line)
        size, at_line_start, found = len(line), line.endswith(b"\n"), None
        while found is None:
            reader._fillbuff()
            if reader.empty():
                break
            at = reader.buff.tell()
            with reader.buff.getbuffer() as view:
                ahead = bytes(view[at:])
            if not (at_line_start and ahead.startswith(b"W")):
                newline = ahead.find(b"\nW")
                cut = len(ahead) if newline < 0 else newline + 1
                sink.write(ahead[:cut])
                size += cut
                reader.buff.seek(at + cut)
                at_line_start = ahead[cut - 1 : cut] == b"\n"
                continue
            line = reader.readline()
            if VERSION_LINE.fullmatch(line) and header_block_starts_record(self._peek_block()[0]):
                found = line
                continue
            sink.write(line)
            size += len(line)
            at_line_start = line.endswith(b"\n")
        self.skips.append(Skip(start, self.offset, size, sink, found is not None))
        log.warning(
            "warc_resynchronised", start=start, record=self.offset, skipped=size, found=found is not None
        )
        return found

    def _peek_block(self) -> tuple[bytes, bool]:
        """The lines ahead up to a blank line (included), at most :data:`PROBE_BYTES`, left to be read
        again; and whether they end with that blank line (False: the file, or the gzip member, ends
        first, or the block is longer than the probe)."""
        reader = self.reader
        reader._fillbuff()
        if not reader.empty():  # the block ahead is in the buffer already: most records
            at = reader.buff.tell()
            with reader.buff.getbuffer() as view:
                ahead = bytes(view[at : at + PROBE_BYTES])
            end = _block_end(ahead)
            if end is not None:
                return ahead[:end], True
        parts, size, ended = [], 0, False
        while size < PROBE_BYTES:
            line = reader.readline(PROBE_BYTES - size)
            if not line:
                break
            parts.append(line)
            size += len(line)
            if not line.rstrip(b"\r\n") and line.endswith(b"\n"):
                ended = True
                break
        block = b"".join(parts)
        reader.unread(block)
        return block, ended


def spill_of(record: ArcWarcRecord) -> tuple[str, Sink, bool] | None:
    """("WARC" or "HTTP", its sink, whether it was its line count) when one of the record's header blocks
    was over the limit (or over :data:`MAX_HEADER_LINES`)."""
    for kind, headers in (("WARC", record.rec_headers), ("HTTP", record.http_headers)):
        sink = getattr(headers, "spill", None)
        if sink is not None:
            return kind, sink, headers.many_lines
    return None


class Recorded:
    """A record's stream that keeps what is read from it, after ``head`` (its HTTP header block as
    stored): held up to ``limit`` bytes, then streamed into ``spill()``. A record whose payload turns out
    corrupt or too slow to read is then dead-lettered as stored, its HTTP message whole, without reading
    the file twice. ``deadline`` is checked on every read: de-chunking 1-byte chunks cost ~2.4 CPU-µs a
    byte (24 s for a 10 MB page)."""

    def __init__(
        self, stream, head: bytes, limit: int, spill: Callable[[], Sink], deadline: Deadline
    ) -> None:
        self.stream = stream
        self.limit = limit
        self.spill = spill
        self.deadline = deadline
        self.held: list[bytes] = [head]
        self.size = len(head)
        self.sink: Sink | None = None

    def _keep(self, data: bytes) -> bytes:
        if self.sink is not None:
            self.sink.write(data)
        else:
            self.held.append(data)
            self.size += len(data)
            if self.size > self.limit:
                self.sink = self.spill()
                for part in self.held:
                    self.sink.write(part)
                self.held = []
        self.deadline.check(DECODE_STEP)  # after keeping what was read: the original stays whole
        return data

    def read(self, size: int = -1) -> bytes:
        return self._keep(self.stream.read(size))

    def readline(self, size: int = -1) -> bytes:
        return self._keep(self.stream.readline(size))
