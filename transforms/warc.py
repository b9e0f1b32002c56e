"""warcio with every read bounded: header blocks, lines, HTTP chunks and content decoding.

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
* the payload is de-chunked and decoded (gzip, deflate, br, zstd) a block at a time (:class:`Dechunked`,
  :class:`Decoded`), so the caller's read size is all a payload holds; a body cut short or corrupt part
  way raises :class:`~transforms.errors.ParseError` instead of passing the page on cut short;
* where no record starts after one (a wrong ``Content-Length``, garbage), the archive resynchronises on the
  next WARC version line followed by a WARC header block, the bytes skipped streamed into a *spill*
  (:meth:`BoundedArchive._resync`), instead of failing the rest of the file;
* what is read of a record is kept as read (:class:`Recorded`), with a CPU deadline checked on every read,
  so a record whose payload cannot be read right, or in time, is dead-lettered as stored.

The wrappers lean on warcio internals (checked on 1.8.1): the reader's ``buff``, ``_fillbuff``,
``_init_decomp``, ``_process_read``, ``rem_length`` and ``decompressor``, the iterator's
``reader``/``loader``/``fh``, ``_consume_blanklines`` and ``close``, the loader's parser attributes. Recheck them on a warcio upgrade; ``tests/unit/test_warc_*.py``
fail if one moves.
"""

from __future__ import annotations

import io
import re
import zlib
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
from transforms.errors import ParseError

log = structlog.get_logger(__name__)

LINE_BLOCK = 1 << 16
"""Most bytes of a line read at once: a longer line comes in pieces."""
CHUNK_LINE = 64
"""Bytes read for an HTTP chunk-size line, as warcio does: a longer one is not chunked data."""
MAX_CHUNK = 2**31
"""A larger stated chunk size is not chunked data (warcio's bound)."""
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
        return b"".join(parts)


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
        self.warc_parser = BoundedHeaders(
            self.WARC_TYPES, True, limit, spill, keep=["Content-Length"], closed_blocks=True
        )
        self.http_parser = BoundedHeaders(self.HTTP_TYPES, False, limit, spill)
        self.http_req_parser = BoundedHeaders(self.HTTP_VERBS, False, limit, spill)

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


def holds_record_start(data: bytes) -> bool:
    """Whether ``data`` has a line that starts a WARC record (a version line, then a WARC header block):
    a record's block that does has swallowed the start of the next (its ``Content-Length`` is too
    large). A header block that ``data`` ends in counts as ended there: the length may end the block
    just before its blank line."""
    for found in _VERSION_AT_LINE_START.finditer(data):
        rest = data[found.end() : found.end() + PROBE_BYTES]
        end = _block_end(rest)
        if end is None and found.end() + len(rest) == len(data):
            rest, end = rest.rstrip(b"\r\n") + b"\r\n\r\n", len(rest.rstrip(b"\r\n")) + 4
        if end is not None and header_block_starts_record(rest[:end]):
            return True
    return False


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


class Dechunked:
    """An HTTP body in chunked transfer-encoding, de-chunked a read at a time (warcio reads a chunk whole).

    As warcio's: a chunk-size line that does not parse means the body is not chunked after all, and it is
    passed on as it is from there. Unlike warcio's, the trailer after the last chunk is read and dropped
    (warcio appended it to the page), a chunk without its line end goes on unchunked with nothing
    dropped, and a body that ends before its last chunk (inside a chunk, its line end or a chunk-size
    line, or where the next chunk-size line should be) raises :class:`~transforms.errors.ParseError`:
    warcio ended the page there, which passed on cut short."""

    def __init__(self, stream) -> None:
        self.stream = stream
        self.left = 0  # bytes of the current chunk still to read
        self.plain = False  # not chunked (any more): pass the rest on
        self.done = False
        self.pending = b""  # bytes to give before reading on
        self.at = 0  # bytes of the chunked body read

    def read(self, size: int = -1) -> bytes:
        size = LINE_BLOCK if size is None or size < 0 else size
        while size > 0:
            if self.pending:
                data, self.pending = self.pending[:size], self.pending[size:]
                return data
            if self.plain:
                return self.stream.read(size)
            if self.done:
                return b""
            if self.left:
                data = self.stream.read(min(size, self.left))
                self.left -= len(data)
                self.at += len(data)
                if not data:
                    raise self._cut()
                if not self.left:
                    end = self.stream.read(2)
                    self.at += len(end)
                    if len(end) < 2:
                        raise self._cut()
                    if end != b"\r\n":
                        self.plain, self.pending = True, end
                return data
            self._next_chunk()
        return b""

    def _cut(self) -> ParseError:
        return ParseError(
            f"the body's chunked transfer coding ends at byte {self.at}, before its last chunk: the page is "
            "cut short",
            stage="read",
        )

    def _next_chunk(self) -> None:
        line = self.stream.readline(CHUNK_LINE)
        self.at += len(line)
        ended = not line.endswith(b"\n") and len(line) < CHUNK_LINE  # the body ends in this line
        if ended and (not line or _CHUNK_SIZE.fullmatch(line.rstrip(b"\r"))):
            if self.at:
                raise self._cut()
            self.done = True  # an empty body: an empty page
            return
        try:
            if not line.endswith(b"\r\n"):
                raise ValueError(line)
            size = int(line[:-2].split(b";")[0], 16)
            if not 0 <= size <= MAX_CHUNK:
                raise ValueError(size)
        except ValueError:
            self.plain, self.pending = True, line
            return
        if size:
            self.left = size
            return
        self.done = True
        while (trailer := self.stream.readline(LINE_BLOCK)) and trailer.strip(b"\r\n"):
            pass


_CHUNK_SIZE = re.compile(rb"[0-9A-Fa-f]+(?:[ \t]*;[^\r\n]*)?")
"""A chunk-size line without its line end: the start of one, cut (more than hex digits is no chunking)."""


CODED_PIECE = 1 << 10
"""Coded bytes given to a decoder at a time: a corrupt byte is then found within one piece, and a piece of
gzip or deflate cannot make more than about 1 MiB (deflate's ~1,032:1) in one call."""
DECODE_STEP = "reading the WARC record's payload"


class _Zlib:
    """gzip or deflate (zlib or raw), through zlib: a corrupt byte is found exactly (:meth:`failed_at`)."""

    def __init__(self, wbits: int) -> None:
        self.wbits = wbits
        self.inflate = zlib.decompressobj(wbits)
        self.before = self.inflate  # its state before the last call, to find where that call failed
        self.last = b""  # the input of the last call
        self.tail = b""  # input given but not yet consumed (the output limit was reached)

    @property
    def wants_input(self) -> bool:
        return not self.tail

    @property
    def done(self) -> bool:
        return self.inflate.eof

    def decode(self, data: bytes, size: int) -> bytes:
        self.before, self.last = self.inflate.copy(), self.tail or data
        out = self.inflate.decompress(self.last, size)
        self.tail = self.inflate.unconsumed_tail
        return out

    def failed_at(self) -> int:
        """Where in the last call's input decoding fails: the shortest prefix that fails, found by halving
        (each try makes at most ~1 MiB: the input is at most a piece)."""
        low, high = 0, len(self.last)  # last[:low] decodes, last[:high] fails
        while high - low > 1:
            middle = (low + high) // 2
            try:
                self.before.copy().decompress(self.last[:middle])
            except zlib.error:
                high = middle
            else:
                low = middle
        return low

    def error(self) -> type[Exception]:
        return zlib.error

    def claims(self, head: bytes) -> bool:
        """Whether a body starting with ``head`` is in this format beyond doubt (gzip's magic number, a
        zlib header's check bits): raw deflate has no header."""
        if self.wbits > zlib.MAX_WBITS:
            return head[:2] == b"\x1f\x8b"
        if self.wbits > 0:
            return len(head) >= 2 and head[0] & 0x0F == 8 and (head[0] << 8 | head[1]) % 31 == 0
        return False


class _Brotli:
    """``br`` (Google's ``brotli``): ``process`` with an output limit, more output fetched with no input."""

    def __init__(self) -> None:
        import brotli

        self.brotli = brotli
        self.decompressor = brotli.Decompressor()

    @property
    def wants_input(self) -> bool:
        return self.decompressor.can_accept_more_data()

    @property
    def done(self) -> bool:
        return self.decompressor.is_finished()

    def decode(self, data: bytes, size: int) -> bytes:
        return self.decompressor.process(data if self.wants_input else b"", output_buffer_limit=size)

    def error(self) -> type[Exception]:
        return self.brotli.error

    def claims(self, head: bytes) -> bool:
        """Brotli has no magic number: a body is taken as brotli once it has decoded some of it."""
        return False


class _Zstd:
    """``zstd`` (RFC 8878), one frame, output limited by ``max_length`` as zlib's."""

    def __init__(self) -> None:
        from backports import zstd

        self.zstd = zstd
        self.decompressor = zstd.ZstdDecompressor()

    @property
    def wants_input(self) -> bool:
        return self.decompressor.needs_input

    @property
    def done(self) -> bool:
        return self.decompressor.eof

    def decode(self, data: bytes, size: int) -> bytes:
        return self.decompressor.decompress(data if self.wants_input else b"", size)

    def error(self) -> type[Exception]:
        return self.zstd.ZstdError

    def claims(self, head: bytes) -> bool:
        """A zstd frame starts with its magic number."""
        return head[:4] == b"\x28\xb5\x2f\xfd"


DECODERS: dict[str, tuple[Callable[[], _Zlib | _Brotli | _Zstd], ...]] = {
    "gzip": (lambda: _Zlib(16 + zlib.MAX_WBITS),),
    "x-gzip": (lambda: _Zlib(16 + zlib.MAX_WBITS),),
    "deflate": (lambda: _Zlib(zlib.MAX_WBITS), lambda: _Zlib(-zlib.MAX_WBITS)),
    "br": (_Brotli,),
    "zstd": (_Zstd,),
}
"""Content codings decoded, and the formats tried for each, in turn (deflate: zlib-wrapped, then raw)."""


class Decoded:
    """A content-coded body (gzip, deflate, br, zstd) decoded a read at a time: never more than asked.

    As warcio's (and browsers'): a body that is not in its coding (not starting with gzip's or zstd's
    magic number or a zlib header, or, for raw deflate and brotli, which have none, failing before any
    output; deflate tries zlib, then raw) is passed on as it is, mislabelled; decoding ends with the first
    gzip member or zstd frame.
    Unlike warcio's, which ends the page where the error is, a body corrupt part way, or cut short before
    its coding ends, raises :class:`~transforms.errors.ParseError` with the byte: the page would pass cut
    short or garbled, so the record is dead-lettered as stored. ``deadline`` is checked on every read."""

    HELD = LINE_BLOCK
    """Coded input kept until the first output, to pass a mislabelled body on whole: past it, decoding
    without output (e.g. empty deflate blocks) is taken as decoding."""

    def __init__(self, stream, encoding: str, deadline: Deadline | None = None) -> None:
        self.stream = stream
        self.encoding = encoding
        self.deadline = deadline
        self.formats = list(DECODERS[encoding])
        self.codec = self.formats.pop(0)()
        self.fed: list[bytes] | None = []  # the coded input while nothing is decoded (None: decoding)
        self.replay: list[bytes] = []  # coded input to give the next format before reading on
        self.consumed = 0  # coded bytes given to the decoder before the current piece
        self.piece = b""  # the coded piece being decoded
        self.plain = False
        self.pending = b""  # bytes to give before reading on, when passed on as it is
        self.ahead = b""  # decoded bytes past the size asked, to give first

    def read(self, size: int = -1) -> bytes:
        size = LINE_BLOCK if size is None or size < 0 else size
        while size > 0:
            if self.deadline is not None:
                self.deadline.check(DECODE_STEP)
            if self.plain:
                if self.pending:
                    data, self.pending = self.pending[:size], self.pending[size:]
                    return data
                return self.stream.read(size)
            if self.ahead:  # brotli's output limit is loose: what it gave past the size asked
                data, self.ahead = self.ahead[:size], self.ahead[size:]
                return data
            if self.codec.done:
                return b""
            if self.codec.wants_input:
                self.consumed += len(self.piece)
                self.piece = self.replay.pop(0) if self.replay else self.stream.read(CODED_PIECE)
                if not self.piece:
                    if not self.consumed:
                        return b""  # an empty body
                    if out := self._decode(b"", size):  # output the decoder still holds
                        return out
                    if self.codec.done:
                        return b""
                    raise ParseError(
                        f"the body's {self.encoding} content coding ends at byte {self.consumed}, before "
                        "its end: the page is cut short",
                        stage="read",
                    )
                if self.fed is not None:
                    self.fed.append(self.piece)
            try:
                out = self._decode(self.piece, size)
            except self.codec.error() as exc:
                if self.fed is None or self.codec.claims(b"".join(self.fed[:4])[:4]):
                    raise self._corrupt() from exc
                self._next_format()
                continue
            if out or (self.fed is not None and self.consumed + len(self.piece) > self.HELD):
                self.fed = None
            if out:
                return out
        return b""

    def _decode(self, data: bytes, size: int) -> bytes:
        out = self.codec.decode(data, size)
        if len(out) > size:
            out, self.ahead = out[:size], out[size:]
        return out

    def _next_format(self) -> None:
        """The body did not decode from its start: the next format from it, else the body as it is."""
        fed, self.fed, self.consumed, self.piece = self.fed or [], [], 0, b""
        if self.formats:
            self.codec, self.replay = self.formats.pop(0)(), fed
        else:
            self.plain, self.pending = True, b"".join(fed)

    def _corrupt(self) -> ParseError:
        if isinstance(self.codec, _Zlib):
            at = self.consumed + len(self.piece) - len(self.codec.last) + self.codec.failed_at()
            where = f"at byte {at}"
        else:
            where = f"in bytes {self.consumed}-{self.consumed + len(self.piece)}"
        return ParseError(
            f"the body's {self.encoding} content coding is corrupt {where} of the coded body: the page "
            "would be cut short or garbled",
            stage="read",
        )


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


def content_stream(record: ArcWarcRecord, stream=None, deadline: Deadline | None = None):
    """The record's payload as warcio's ``content_stream()`` gives it (de-chunked when the HTTP message says
    ``Transfer-Encoding: chunked``, then content-decoded), but read a block at a time, from ``stream``
    (default: the record's).

    Transfer and content codings are read as HTTP defines them: names in any case, a list applied in
    order (``gzip, chunked``: de-chunked, then inflated); warcio took only the exact value ``chunked``, so
    a ``Chunked`` body came out with its chunk sizes in the page, and decoded only a single content coding
    (br only with brotli installed). A body with a coding not known here passes on as it is (as browsers
    pass a body whose Content-Encoding they do not know)."""
    stream = record.raw_stream if stream is None else stream
    headers = record.http_headers
    if not headers:
        return stream
    transfer = _codings(headers.get_header("transfer-encoding"))
    if transfer and transfer[-1] == "chunked":
        stream = Dechunked(stream)
        if not all(name in DECODERS for name in transfer[:-1]):
            return stream
        for name in reversed(transfer[:-1]):
            stream = Decoded(stream, name, deadline)
    content = _codings(headers.get_header("content-encoding"))
    if all(name in DECODERS for name in content):
        for name in reversed(content):
            stream = Decoded(stream, name, deadline)
    return stream


def _codings(value: str | None) -> list[str]:
    """The codings a Transfer- or Content-Encoding header lists, in the order applied, without identity."""
    names = [name.strip().lower() for name in (value or "").split(",")]
    return [name for name in names if name and name != "identity"]
