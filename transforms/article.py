"""From a validated raw envelope to a clean :class:`Article`: the per-article core, no Beam, no Kafka.

Each step is a plain function of its input; :mod:`pipelines.chain` wraps them in DoFns and
``newsflow process`` calls them directly, so what you debug is what runs.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from transforms.boilerplate import Extraction, canonicalize_url, extract_html, extract_text
from transforms.dedup.index import BodyPrint
from transforms.dedup.shingles import input_hash
from transforms.errors import CleanError
from transforms.parse import Parsed
from transforms.records import Article, RawArticle, stable_id
from transforms.settings import Limits

MAX_TITLE_CHARS = 1_000
"""A title is one line; a longer one (a page's 9 MB ``<title>``, a text's first line) is cut to this, at a
space if there is one in its second half, and noted in ``metadata.title_cut`` (its length before). Salience
looks every entity up in the title: a 9 MB one cost 4 CPU-s with 1,000 entities, 13 with 3,000 (a watchdog
dead letter for a sound body), and it was written out whole next to the body."""


def extract(raw: RawArticle, limits: Limits) -> tuple[Extraction, str]:
    """Main text and metadata: HTML mode when there is markup, text mode otherwise."""
    if raw.html and raw.html.strip():
        extraction = extract_html(
            raw.html,
            raw.url,
            max_bytes=limits.max_message_bytes,
            time_budget=limits.doc_time_budget,
            max_depth=limits.max_html_depth,
        )
        return extraction, "html"
    extraction = extract_text(
        raw.text or "", raw.url, time_budget=limits.doc_time_budget, max_chars=limits.max_message_bytes
    )
    return extraction, "text"


def build_article(
    parsed: Parsed, limits: Limits, printer: Callable[[str], BodyPrint] | None = None
) -> Article:
    """The clean article: body, metadata and what was removed; raises CleanError without a body.

    ``printer`` (dedup's :func:`~transforms.dedup.index.body_print` for its settings): a text input that
    cleans to itself takes its input key from the body's print, made here once (normalising a text is up to
    1 ms) instead of normalising the same text again for the key; dedup then uses that print while the body
    stays as it is."""
    raw = parsed.raw
    extraction, input_format = extract(raw, limits)
    body = "\n\n".join(p for p in extraction.paragraphs if p)
    if not body.strip():
        raise CleanError(f"no article text found in the {input_format} input")
    canonical = extraction.canonical_url or (canonicalize_url(raw.url) if raw.url else None)
    printed = printer(body) if printer is not None and input_format == "text" and body == raw.text else None
    title, metadata = extraction.title, raw.metadata
    if title is not None and len(title) > MAX_TITLE_CHARS:
        metadata = {**metadata, "title_cut": str(len(title))}
        title = _cut_title(title)
    return Article(
        id=stable_id(canonical, body),
        body=body,
        url=raw.url,
        canonical_url=canonical,
        source=raw.source or _domain(canonical or raw.url),
        title=title,
        language=raw.language or extraction.language,
        published_at=raw.published_at or extraction.published_at,
        fetched_at=raw.fetched_at,
        authors=extraction.authors,
        captions=extraction.captions,
        credits=extraction.credits,
        boilerplate=extraction.removed,
        source_position=parsed.position,
        input_format=input_format,
        metadata=metadata,
        origin=parsed.origin,
        input_hash=printed.content_hash if printed is not None else input_hash(raw.text, raw.html),
        body_print=printed,
    )


def _cut_title(title: str) -> str:
    """``title`` cut to MAX_TITLE_CHARS, at the last space of its second half if there is one."""
    space = title.rfind(" ", MAX_TITLE_CHARS // 2, MAX_TITLE_CHARS + 1)
    return title[: space if space > 0 else MAX_TITLE_CHARS].rstrip()


def _domain(url: str | None) -> str | None:
    if not url:
        return None
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:  # "http://[::1": the producer's URL is kept as it is, it just names no domain
        return None
    return host.removeprefix("www.") or None
