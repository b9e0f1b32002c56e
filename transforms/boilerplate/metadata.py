"""Article metadata: language, authors, dates, title and canonical URL, from HTML or from text."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from itertools import islice
from urllib.parse import urljoin, urlsplit

import lxml.html

from transforms.boilerplate.urls import canonicalize_url

# py3langid's cost grows with the sample (a Python loop over its bytes): on the 980 benchmark bodies, 500
# characters name the same language as 1,000 on all but one (a list of names, in no language).
LANG_SAMPLE = 500
MIN_WORD_CHARS = 20  # less than this is no language
WORD_CHAR = re.compile(r"\w")
TEXT_LANG_SAMPLE = 800  # py3langid's cost grows with the sample; this much prose is plenty
MAX_JSONLD_CHARS = 200_000
AUTHOR_SPLIT = re.compile(r"[,;&]|\b(?:and|und|et|y|e)\b")  # no \s* around: linear, parts get stripped
AUTHOR_NOISE = re.compile(
    r"^(?:by|von|par|por)\s+|\s?[|,-]\s*(?:staff|reporter|correspondent|editor).*$", re.I
)


def detect_language(text: str) -> str | None:
    """ISO 639-1 code from py3langid (offline, fast), on a sample of the text; None for too little text."""
    return _classify(" ".join(text[:LANG_SAMPLE].split()))


def detect_text_language(lines: list[str]) -> str | None:
    """Language of page text from its longest lines: prose, not the menus a page dump starts with."""
    sample, size = [], 0
    for line in sorted(lines, key=len, reverse=True):
        sample.append(line)
        size += len(line)
        if size >= TEXT_LANG_SAMPLE:
            break
    return _classify(" ".join(sample))


def _classify(sample: str) -> str | None:
    if sum(1 for _ in islice(WORD_CHAR.finditer(sample), MIN_WORD_CHARS)) < MIN_WORD_CHARS:
        return None
    from transforms.boilerplate.language_model import identifier

    lang, _ = identifier().classify(sample)
    return iso639_1(lang)


def iso639_1(code: str | None) -> str | None:
    """A two-letter ISO 639-1 code, mapping three-letter ones where one exists (else None)."""
    if not code or len(code) == 2:
        return code or None
    import pycountry

    language = pycountry.languages.get(alpha_3=code)
    return getattr(language, "alpha_2", None)


def _meta(tree: lxml.html.HtmlElement, *keys: str) -> list[str]:
    found = []
    for el in tree.iter("meta"):
        key = (el.get("property") or el.get("name") or el.get("itemprop") or "").strip().lower()
        if key in keys and (el.get("content") or "").strip():
            found.append(" ".join(el.get("content").split()))
    return found


def _jsonld(tree: lxml.html.HtmlElement) -> list[dict]:
    """JSON-LD objects of the page (graphs flattened); malformed blocks are skipped, and so are blocks nested
    deeper than Python's recursion limit (``[[[...`` in 200 KB raised RecursionError out of the clean stage,
    which retried the page and dead-lettered it under that crash type instead of reading its article)."""
    objects: list[dict] = []
    for el in tree.iter("script"):
        if (el.get("type") or "").lower() != "application/ld+json" or not el.text:
            continue
        if len(el.text) > MAX_JSONLD_CHARS:
            continue
        try:
            data = json.loads(el.text)
        except (ValueError, RecursionError):  # ValueError: also a number over Python's 4,300 digits
            continue
        stack = data if isinstance(data, list) else [data]
        while stack:
            item = stack.pop()
            if isinstance(item, dict):
                objects.append(item)
                stack.extend(x for x in item.get("@graph", []) if isinstance(x, dict))
            elif isinstance(item, list):
                stack.extend(item)
    return objects


def clean_author(name: str) -> str | None:
    name = AUTHOR_NOISE.sub("", " ".join(name.split())).strip(" ,;|-")
    if not name or len(name) > 80 or name.startswith(("http", "www.")) or "@" in name:
        return None
    return name


def split_authors(value: str) -> list[str]:
    return [a for a in (clean_author(p) for p in AUTHOR_SPLIT.split(value)) if a]


def _dedupe(items: list[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for item in items:
        if item.lower() not in seen:
            seen.add(item.lower())
            out.append(item)
    return out


def html_authors(tree: lxml.html.HtmlElement) -> list[str]:
    """Authors from JSON-LD, then ``<meta name=author>``-style tags, then ``rel=author`` links."""
    names: list[str] = []
    for obj in _jsonld(tree):
        author = obj.get("author")
        for a in author if isinstance(author, list) else [author]:
            if isinstance(a, dict) and isinstance(a.get("name"), str):
                names.extend(split_authors(a["name"]))
            elif isinstance(a, str):
                names.extend(split_authors(a))
    if not names:
        for value in _meta(tree, "author", "article:author", "dc.creator", "byl", "sailthru.author"):
            names.extend(split_authors(value))
    if not names:
        for el in tree.iter("a"):
            if "author" in (el.get("rel") or "").lower():
                names.extend(split_authors(el.text_content()))
    return _dedupe(names)[:10]


def html_title(tree: lxml.html.HtmlElement) -> str | None:
    for value in _meta(tree, "og:title", "twitter:title", "headline"):
        return value
    for el in tree.iter("h1"):
        text = " ".join(el.text_content().split())
        if text:
            return text
    titles = tree.xpath("//title")
    if titles:
        text = " ".join(titles[0].text_content().split())
        return text or None
    return None


def html_canonical(tree: lxml.html.HtmlElement, url: str | None) -> str | None:
    """The page's canonical link when it is an absolute web URL, else the envelope's URL.

    The id is a hash of the canonical URL, so a link that names no page ("javascript:void(0)", "about:blank",
    or "/" with no URL to resolve it against) would give unrelated articles one id."""
    for el in tree.iter("link"):
        if "canonical" in (el.get("rel") or "").lower().split() and el.get("href"):
            href = el.get("href").strip()
            try:
                joined = urljoin(url, href) if url else href
                if urlsplit(joined).scheme.lower() in ("http", "https") and urlsplit(joined).hostname:
                    return canonicalize_url(joined)
            except ValueError:  # a page's malformed link ("http://[x") is no reason to lose its article
                pass
            break
    return canonicalize_url(url) if url else None


def html_published(tree: lxml.html.HtmlElement, url: str | None) -> datetime | None:
    """Publication date by htmldate (original date, no extensive search), as a UTC datetime."""
    from htmldate import find_date

    try:
        found = find_date(tree, url=url, original_date=True, extensive_search=False, outputformat="%Y-%m-%d")
    except Exception:  # noqa: BLE001 - htmldate on hostile markup must not fail the article
        return None
    if not found:
        return None
    try:
        return datetime.strptime(found, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        return None
