"""HTML mode: main content, captions and credits, charsets, hostile markup and budgets."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.sample_story import PARAGRAPHS
from transforms.boilerplate import extract_html
from transforms.boilerplate.charset import declared_charset, decode_html
from transforms.errors import CleanError, LimitExceeded

PARAS = [
    "Зеленський заявив у понеділок, що Україна готова до переговорів, але не визнає окупацію жодної території.",
    *PARAGRAPHS[:3],
]


def page(body_paras: list[str], head: str = "", extra: str = "") -> str:
    paras = "".join(f"<p>{p}</p>" for p in body_paras)
    return (
        f"<html><head>{head}<title>Council Expands Bus Network - Example News</title></head><body>"
        "<nav><ul><li><a href='/'>Home</a></li><li><a href='/world'>World</a></li></ul></nav>"
        f"<article><h1>Council Expands Bus Network</h1>{paras}"
        "<p>AFP contributed reporting.</p></article>"
        f"{extra}<footer><p>© 2024 Example Media. All rights reserved.</p></footer></body></html>"
    )


HEAD = (
    '<meta charset="utf-8"><link rel="canonical" href="https://Example.com/news/bus?utm_source=x&id=2#top">'
    '<meta name="author" content="Jane Doe and John Roe">'
    '<meta property="article:published_time" content="2024-03-05T10:00:00Z">'
)


def test_main_content_and_metadata():
    got = extract_html(page(PARAS[1:], HEAD), "https://example.com/news/bus")
    assert got.paragraphs == PARAS[1:]
    assert got.credits == ["AFP contributed reporting."]
    assert got.title == "Council Expands Bus Network"
    assert got.authors == ["Jane Doe", "John Roe"]
    assert got.canonical_url == "https://example.com/news/bus?id=2"
    assert got.published_at is not None and got.published_at.date().isoformat() == "2024-03-05"
    assert got.published_at.tzinfo is not None
    assert got.language == "en"
    reasons = {r.reason: r for r in got.removed}
    assert reasons["html:nav"].text == "Home World"
    assert reasons["html:footer"].text.startswith("© 2024 Example Media")
    assert reasons["html:outside-main-content"].chars > 0


def test_bytes_with_declared_legacy_charset():
    html = page(
        PARAS[:1] + PARAS[1:3], '<meta http-equiv="Content-Type" content="text/html; charset=windows-1251">'
    )
    raw = html.encode("cp1251")
    assert declared_charset(raw) == "cp1251"
    got = extract_html(raw)
    assert got.paragraphs[0] == PARAS[0]


def test_bytes_with_bom_and_undeclared_charset():
    assert decode_html("hé".encode("utf-8-sig")) == "hé"
    assert decode_html("<p>Привет, мир! Это обычный текст страницы.</p>".encode("cp1251")).startswith(
        "<p>Привет"
    )


@pytest.mark.parametrize(
    "charset", ["undefined", "unicode_escape", "raw-unicode-escape", "utf-7", "base64", "rot13", "palmos"]
)
def test_a_meta_charset_that_is_no_web_charset_is_ignored(charset):
    """``<meta charset>`` names a Python codec, not a web charset: ``undefined`` raised UnicodeError out of
    extract_html, ``base64`` LookupError, and ``unicode_escape`` turned a script's ``\\u0041`` into ``A``. The
    page is decoded as if it declared none, as the WARC reader does for its Content-Type (one rule:
    ``text_repair.web_charset``)."""
    raw = (
        page(PARAS, f'<meta charset="{charset}">')
        .encode("cp1252", "xmlcharrefreplace")
        .replace(b"bus", b"b\xfcs")
    )
    raw += b"<script>var s = '\\u0041';</script>"
    assert declared_charset(raw) is None
    text = decode_html(raw)
    # not UTF-8, so detected: one character for the byte, whichever single-byte charset detection picks
    assert re.search("b[^\\x00-\\x7f]s network", text) and "'\\u0041'" in text
    assert re.search("b[^\\x00-\\x7f]s network", extract_html(raw).body)


def test_broken_markup_still_extracts():
    html = page(PARAS[1:]).replace("</p>", "").replace("</article>", "<div><span>")
    assert "bus network" in extract_html(html).body


def test_xhtml_with_an_xml_declaration():
    html = '<?xml version="1.0" encoding="utf-8"?>' + page(PARAS[1:])
    assert extract_html(html).paragraphs == PARAS[1:]
    assert extract_html(html.encode("utf-8")).paragraphs == PARAS[1:]


def test_entity_declarations_are_rejected():
    html = '<!DOCTYPE html [<!ENTITY boom "x">]>' + page(PARAS[1:])
    with pytest.raises(CleanError):
        extract_html(html)


def test_depth_and_size_limits():
    deep = "<html><body>" + "<div>" * 300 + "<p>x</p>" + "</div>" * 300 + "</body></html>"
    with pytest.raises(LimitExceeded):
        extract_html(deep)
    with pytest.raises(LimitExceeded):
        extract_html(page(PARAS[1:]), max_depth=3)
    with pytest.raises(LimitExceeded):
        extract_html(page(PARAS[1:]), max_bytes=100)


def test_time_budget():
    with pytest.raises(LimitExceeded):
        extract_html(page(PARAS[1:]), time_budget=0.0)


def test_page_without_content_is_a_clean_error():
    with pytest.raises(CleanError):
        extract_html("<html><body><nav><a href='/'>Home</a></nav></body></html>")
    with pytest.raises(CleanError):
        extract_html(b"")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.one_of(
            st.sampled_from(
                ["<p>", "</p>", "<div>", "</div>", "<script>", "<!--", "&amp;", "<meta charset=x>"]
            ),
            st.text(max_size=40),
        ),
        max_size=30,
    )
)
def test_arbitrary_markup_only_raises_pipeline_errors(chunks):
    html = "".join(chunks)
    try:
        got = extract_html(html)
    except (CleanError, LimitExceeded):
        return
    assert len(got.body) <= len(html)
