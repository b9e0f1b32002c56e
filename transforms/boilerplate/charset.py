"""Decode page bytes: BOM, then the page's own declaration (``<meta charset>``/http-equiv), then detection."""

from __future__ import annotations

import codecs
import re

from transforms.text_repair import web_charset

BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
META_CHARSET = re.compile(
    rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9._:-]{1,40})""", re.IGNORECASE
)
SNIFF_BYTES = 4096


def declared_charset(data: bytes) -> str | None:
    """The charset the document declares in its first bytes (meta charset or http-equiv content-type)."""
    match = META_CHARSET.search(data[:SNIFF_BYTES])
    return web_charset(match.group(1).decode("ascii")) if match else None


def decode_html(data: bytes) -> str:
    """Text of an HTML document given as bytes; undecodable bytes become U+FFFD, never an exception."""
    for bom, encoding in BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(encoding, errors="replace")
    encoding = declared_charset(data)
    if encoding:
        # A page that declares a charset but is valid UTF-8 is nearly always UTF-8 with a stale header.
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return data.decode(encoding, errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data[: 256 * 1024]).best()
    return data.decode(best.encoding if best else "cp1252", errors="replace")
