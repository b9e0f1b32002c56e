"""Lossless text at the door: every string that enters a record is valid Unicode, and every repair is counted.

Two things make a string unusable downstream (``str.encode("utf-8")`` fails in the Avro writer, the dedup
fingerprint, the learned-boilerplate key):

* a **lone surrogate** (U+D800..U+DFFF), which JSON lets a producer write as ``"\\ud800"``;
* **bytes that are not UTF-8** in a message that is otherwise UTF-8: three stray bytes in ``url`` must not
  make the whole message decode as some legacy charset (``’`` becoming ``ŌĆÖ`` in a body that was fine).

So a JSON message is decoded *per field*: the bytes are read as UTF-8 with ``surrogateescape`` (each invalid
byte becomes one U+DC80..U+DCFF stand-in), JSON is parsed, and only then does each string decide:

* **mostly valid UTF-8** (the valid non-ASCII characters outnumber the invalid bytes): the invalid bytes of
  each field become U+FFFD where they are; nothing else changes.
* **mostly invalid** (a message written in one legacy charset, e.g. cp1251): the charset is detected on the
  whole message and every field is decoded with it; the record is flagged ``metadata.charset_repaired``.

A string that would be more than half U+FFFD after repair is not text: the message goes to the DLQ with
the field's name (:class:`transforms.errors.ParseError`).
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from itertools import islice

from transforms.errors import ParseError

REPLACEMENT = "\ufffd"
SURROGATES = re.compile("[\ud800-\udfff]")
ESCAPED_BYTES = re.compile("[\udc80-\udcff]")  # what surrogateescape makes of each invalid byte
JSON_SURROGATES = re.compile("[\ud800-\udc7f\udd00-\udfff]")  # never an escaped byte
NON_ASCII_VALID = re.compile("[^\x00-\x7f\ud800-\udfff]")
MAX_REPAIRED_SHARE = 0.5
"""A string more than this share U+FFFD after repair is binary, not text: the message is dead-lettered."""
MIN_UNREPAIRABLE = 4
"""...and has at least this many repaired characters (one bad byte in a two-letter language code is
repaired, not rejected)."""
DETECT_BYTES = 1024 * 1024
HIGH_BYTES = re.compile(rb"[\x80-\xff]+")
MAX_SAMPLE_RUNS = 4000


@dataclass
class Repairs:
    """What repairing one message changed: characters replaced per field, and a detected charset."""

    chars: dict[str, int] = field(default_factory=dict)
    charset: str | None = None

    @property
    def total(self) -> int:
        return sum(self.chars.values())

    def add(self, name: str, count: int) -> None:
        if count:
            self.chars[name] = self.chars.get(name, 0) + count

    def metadata(self) -> dict[str, str]:
        """The notes a record carries about its repairs (empty when nothing was changed)."""
        notes = {}
        if self.chars:
            notes["repaired_chars"] = ",".join(f"{k}:{v}" for k, v in sorted(self.chars.items()))[:200]
        if self.charset:
            notes["charset_repaired"] = self.charset
        return notes


def decode_json_text(value: bytes) -> tuple[str, bool]:
    """The message as text for ``json.loads``; True when invalid bytes are kept as escaped stand-ins."""
    for bom, encoding in (
        (b"\xef\xbb\xbf", "utf-8"),
        (b"\xff\xfe\x00\x00", "utf-32-le"),
        (b"\x00\x00\xfe\xff", "utf-32-be"),
        (b"\xff\xfe", "utf-16-le"),
        (b"\xfe\xff", "utf-16-be"),
    ):
        if value.startswith(bom):
            try:
                return value[len(bom) :].decode(encoding), False
            except UnicodeDecodeError:
                break  # a BOM that lies: treat the bytes like any others
    wide = bomless_wide_encoding(value)
    if wide is not None:
        try:
            return value.decode(wide), False
        except UnicodeDecodeError:
            pass
    try:
        return value.decode("utf-8"), False
    except UnicodeDecodeError:
        return value.decode("utf-8", "surrogateescape"), True


def bomless_wide_encoding(value: bytes) -> str | None:
    """UTF-16 or UTF-32 without a BOM, told by where the first four bytes are NUL (RFC 4627, section 3: the
    first two characters of a JSON text are ASCII), as .NET's ``Encoding.Unicode.GetBytes`` writes it. NUL
    bytes are valid UTF-8, so these would otherwise decode as UTF-8 and fail as JSON; no UTF-8 JSON text starts
    with one."""
    if len(value) < 4:
        return None
    nul = tuple(b == 0 for b in value[:4])
    return {
        (True, True, True, False): "utf-32-be",
        (False, True, True, True): "utf-32-le",
        (True, False, True, False): "utf-16-be",
        (False, True, False, True): "utf-16-le",
    }.get(nul)


def is_mostly_legacy(strings: list[str]) -> bool:
    """True when invalid bytes outnumber valid non-ASCII characters: one legacy charset, not stray bytes."""
    invalid = sum(len(ESCAPED_BYTES.findall(s)) for s in strings)
    valid = sum(len(NON_ASCII_VALID.findall(s)) for s in strings)
    return invalid > valid


def detect_charset(value: bytes) -> str | None:
    """The charset of a message that is not UTF-8, or None.

    Detection runs first on the non-ASCII runs with a little context: in a news envelope they are a small
    share of the bytes (a Cyrillic phrase in an English wire story), and the ASCII around them drowns the
    signal (cp1251 read as cp850). Then on the whole message. UTF-16 and UTF-32 are only believed for the
    whole message (a few bytes of sample often have an even length that decodes as UTF-16).
    """
    from charset_normalizer import from_bytes

    head = value[:DETECT_BYTES]
    runs = islice(HIGH_BYTES.finditer(head), MAX_SAMPLE_RUNS)
    sample = b" ".join(head[max(0, m.start() - 16) : m.end() + 16] for m in runs)
    for data, wide in ((sample, False), (head, True)):
        best = from_bytes(data).best() if data else None
        if best is None or not best.encoding:
            continue
        if wide or not best.encoding.startswith(("utf_16", "utf_32")):
            return best.encoding
    return None


def repair_string(text: str, name: str, repairs: Repairs, *, escaped: bool) -> str:
    """``text`` with lone surrogates (and, when ``escaped``, invalid bytes) replaced by U+FFFD.

    Escaped invalid bytes are decoded again as UTF-8 with ``replace`` so that only they change; a JSON
    escape of a lone surrogate becomes one U+FFFD. Raises ParseError when the result is mostly U+FFFD.
    """
    if not SURROGATES.search(text):
        return text
    before = text.count(REPLACEMENT)
    if escaped:
        text = JSON_SURROGATES.sub(REPLACEMENT, text)
        text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    else:
        text = SURROGATES.sub(REPLACEMENT, text)
    count = text.count(REPLACEMENT) - before
    if count >= MIN_UNREPAIRABLE and count > MAX_REPAIRED_SHARE * len(text):
        raise ParseError(
            f"field {name!r} is not text: {count} of {len(text)} characters are invalid UTF-8 or lone "
            "surrogates"
        )
    repairs.add(name, count)
    return text


NOT_WEB_CHARSETS = frozenset(
    ["undefined", "unicode-escape", "raw-unicode-escape", "idna", "punycode", "utf-7", "palmos"]
)
"""Python codecs that are no page's charset (the Encoding Standard has none of them): ``undefined`` raises
UnicodeError on any bytes (which read as a read error ended the archive), the escapes turn a script's
``\\u0041`` into ``A``, and UTF-7 is the classic filter bypass."""


def web_charset(label: str | None) -> str | None:
    """The Python codec for a declared charset, None for one unknown, not a text encoding (``base64``,
    ``rot13``) or not a web charset (:data:`NOT_WEB_CHARSETS`)."""
    try:
        info = codecs.lookup(label or "")
    except LookupError:
        return None
    if not getattr(info, "_is_text_encoding", True) or info.name.replace("_", "-") in NOT_WEB_CHARSETS:
        return None
    return info.name


def printable(text: str) -> str:
    """``text`` in valid Unicode, for a terminal or a JSON line: a file name that is not UTF-8 (an old
    archive's Latin-1, a share mounted with another charset) reaches Python with its bytes as lone
    surrogates, which a terminal shows as garbage and which no UTF-8 encoder takes; they are written as
    ``\\xe9`` instead, which names the file unambiguously (any other lone surrogate as ``\\udXXX``)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        try:
            return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        except UnicodeEncodeError:  # a lone surrogate that is no escaped byte (JSON's "\\ud800")
            return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text
