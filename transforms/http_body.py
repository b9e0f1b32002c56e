"""The payload of an HTTP message as stored, de-chunked and content-decoded a read at a time.

warcio's de-chunker reads an HTTP chunk whole (up to 2 GiB) and its content decoders inflate a read whole
(16 KiB of gzip can become 16 MiB), took only the exact value ``chunked`` and one content coding. Here the
transfer and content codings are read as HTTP names them (any case, a list applied in order), and decoded
(gzip, deflate, br, zstd) a block at a time, so the caller's read size is all a payload holds; a body cut
short or corrupt part way raises :class:`~transforms.errors.ParseError` instead of passing the page on cut
short (:class:`Dechunked`, :class:`Decoded`, :func:`content_stream`). ``transforms.warc`` frames the
records around them.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable

from warcio.recordloader import ArcWarcRecord

from transforms.budget import Deadline
from transforms.errors import ParseError

BLOCK = 1 << 16
"""Bytes given by a read that asks for everything (``read()``, ``read(-1)``)."""

CHUNK_LINE = 64
"""Bytes read for an HTTP chunk-size line, as warcio does: a longer one is not chunked data."""
MAX_CHUNK = 2**31
"""A larger stated chunk size is not chunked data (warcio's bound)."""


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
        size = BLOCK if size is None or size < 0 else size
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
        while (trailer := self.stream.readline(BLOCK)) and trailer.strip(b"\r\n"):
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

    HELD = BLOCK
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
        size = BLOCK if size is None or size < 0 else size
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
