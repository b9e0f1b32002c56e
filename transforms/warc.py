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
* the payload is de-chunked and decoded a block at a time (:class:`Dechunked`, :class:`Decoded`), so the
  caller's read size is all a payload holds.

The wrappers lean on warcio internals (checked on 1.8.1): the reader's ``buff``, ``_fillbuff``,
``_init_decomp`` and ``_process_read``, the iterator's ``reader``/``loader``, ``_consume_blanklines`` and
``close``, the loader's parser attributes. Recheck them on a warcio upgrade; ``tests/unit/test_warc_*.py``
fail if one moves.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Callable, Iterable
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

log = structlog.get_logger(__name__)

LINE_BLOCK = 1 << 16
"""Most bytes of a line read at once: a longer line comes in pieces."""
CHUNK_LINE = 64
"""Bytes read for an HTTP chunk-size line, as warcio does: a longer one is not chunked data."""
MAX_CHUNK = 2**31
"""A larger stated chunk size is not chunked data (warcio's bound)."""


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

    A block within the limit parses exactly as warcio parses it. A larger one is read through to its end
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
            return super().parse(io.BytesIO(b"".join(held)))
        result = StatusAndHeaders("", kept, protocol="", total_len=size)
        result.spill = sink
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


class BoundedArchive(ArchiveIterator):
    """An ``ArchiveIterator`` reading through :class:`LineReader` and :class:`BoundedLoader`."""

    def __init__(self, fileobj: IO[bytes], limit: int, spill: Callable[[], Sink], block_size: int) -> None:
        super().__init__(fileobj, block_size=block_size)
        self.reader = LineReader(self.fh, block_size=block_size)
        self.loader = BoundedLoader(limit, spill)
        self.cut = False  # the last gzip member ended before its end: warcio stops there without a word

    def close(self) -> None:
        reader = self.reader
        if reader is not None and reader.decompressor is not None:
            self.cut = reader.fed and not reader.decompressor.eof
        super().close()

    def _consume_blanklines(self) -> tuple[bytes | None, int]:
        """warcio's, but a record not followed by its blank lines (a wrong ``Content-Length``) is logged by
        offset only: warcio printed the line found there, page content, to stderr."""
        empty_size, first_line = 0, True
        while True:
            line = self.reader.readline()
            if not line:
                return None, empty_size
            if not line.rstrip() or first_line:
                empty_size += len(line)
                if line.rstrip():
                    offset = self.fh.tell() - self.reader.rem_length() - empty_size
                    log.warning("warc_record_not_followed_by_newline", offset=offset)
                    self.err_count += 1
                first_line = False
                empty_size += self.reader.skip_line_ends()
                continue
            return line, empty_size


def spill_of(record: ArcWarcRecord) -> tuple[str, Sink] | None:
    """("WARC" or "HTTP", its sink) when one of the record's header blocks was over the limit."""
    for kind, headers in (("WARC", record.rec_headers), ("HTTP", record.http_headers)):
        sink = getattr(headers, "spill", None)
        if sink is not None:
            return kind, sink
    return None


class Dechunked:
    """An HTTP body in chunked transfer-encoding, de-chunked a read at a time (warcio reads a chunk whole).

    As warcio's: a chunk-size line that does not parse means the body is not chunked after all, and it is
    passed on as it is from there; a body cut short ends where it is cut. Unlike warcio's, the trailer
    after the last chunk is read and dropped (warcio appended it to the page), and a chunk without its
    line end goes on unchunked with nothing dropped."""

    def __init__(self, stream) -> None:
        self.stream = stream
        self.left = 0  # bytes of the current chunk still to read
        self.plain = False  # not chunked (any more): pass the rest on
        self.done = False
        self.pending = b""  # bytes to give before reading on

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
                if not data:  # cut short
                    self.done = True
                elif not self.left:
                    end = self.stream.read(2)
                    if end != b"\r\n":
                        self.plain, self.pending = True, end
                return data
            self._next_chunk()
        return b""

    def _next_chunk(self) -> None:
        line = self.stream.readline(CHUNK_LINE)
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


DECODERS: dict[str, tuple[int, ...]] = {
    "gzip": (16 + zlib.MAX_WBITS,),
    "deflate": (zlib.MAX_WBITS, -zlib.MAX_WBITS),
}
"""Content codings warcio decodes (without brotli installed) and the zlib formats tried for each, in turn."""


class Decoded:
    """A content-coded body (gzip, deflate) inflated a read at a time: never more than asked.

    As warcio's: if the first block does not decode (with each format in turn for deflate), the body is
    passed on as it is; decoding ends with the first member; an error after output has begun ends it."""

    def __init__(self, stream, encoding: str) -> None:
        self.stream = stream
        self.formats = list(DECODERS[encoding])
        self.inflate = zlib.decompressobj(self.formats.pop(0))
        self.started = False  # some output given: an error now ends the body
        self.ended = False
        self.plain = False
        self.pending = b""  # input not yet inflated (when passed on as it is: not yet given)

    def read(self, size: int = -1) -> bytes:
        size = LINE_BLOCK if size is None or size < 0 else size
        while size > 0:
            if self.plain:
                if self.pending:
                    data, self.pending = self.pending[:size], self.pending[size:]
                    return data
                return self.stream.read(size)
            if self.ended or self.inflate.eof:
                return b""
            data = self.pending or self.stream.read(LINE_BLOCK)
            if not data:
                return b""
            try:
                out = self.inflate.decompress(data, size)
            except zlib.error:
                if self.started:
                    self.ended = True
                    return b""
                if self.formats:
                    self.inflate, self.pending = zlib.decompressobj(self.formats.pop(0)), data
                else:
                    self.plain, self.pending = True, data
                continue
            self.pending = self.inflate.unconsumed_tail
            if out:
                self.started = True
                return out
        return b""


def content_stream(record: ArcWarcRecord):
    """The record's payload as warcio's ``content_stream()`` gives it (de-chunked when the HTTP message says
    ``Transfer-Encoding: chunked``, then content-decoded), but read a block at a time.

    Transfer codings are read as HTTP defines them, names in any case and a list with ``chunked`` last
    (``gzip, chunked``: de-chunked, then inflated); warcio took only the exact value ``chunked``, so a
    ``Chunked`` body came out with its chunk sizes in the page."""
    stream = record.raw_stream
    headers = record.http_headers
    if not headers:
        return stream
    transfer = [name.strip().lower() for name in (headers.get_header("transfer-encoding") or "").split(",")]
    transfer = [name for name in transfer if name and name != "identity"]
    if transfer and transfer[-1] == "chunked":
        stream = Dechunked(stream)
        for name in reversed(transfer[:-1]):
            if name not in DECODERS:
                return stream
            stream = Decoded(stream, name)
    encoding = (headers.get_header("content-encoding") or "").lower()
    if encoding in DECODERS:
        stream = Decoded(stream, encoding)
    return stream
