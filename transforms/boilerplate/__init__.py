"""Boilerplate removal and article metadata, for HTML pages and for already-extracted page text.

``extract_html`` and ``extract_text`` are pure functions returning an :class:`Extraction`; the pipeline
wraps them in a DoFn, ``newsflow process`` calls them directly. Learned per-source boilerplate sits on top
(:mod:`transforms.boilerplate.learned`). Failures are ``LimitExceeded`` (budget blown) or ``CleanError``
(nothing to keep); any other input yields an Extraction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

import lxml.html
from apache_beam.metrics import Metrics

from transforms.boilerplate import signals as sig
from transforms.boilerplate.cascade import run_cascade
from transforms.boilerplate.charset import decode_html
from transforms.boilerplate.html import main_text, parse_html, strip_non_content
from transforms.boilerplate.metadata import (
    detect_language,
    detect_text_language,
    html_authors,
    html_canonical,
    html_published,
    html_title,
)
from transforms.boilerplate.model import LineModel
from transforms.boilerplate.text import MAX_LINES, classify_lines, split_lines
from transforms.boilerplate.urls import canonicalize_url
from transforms.budget import Deadline
from transforms.errors import CleanError, LimitExceeded
from transforms.records import Caption, Removed

__all__ = [
    "Extraction",
    "canonicalize_url",
    "count_removed",
    "extract_html",
    "extract_text",
]

MAX_BYTES = 10 * 1024 * 1024
MAX_DEPTH = 400
TIME_BUDGET = 10.0
MIN_BODY_CHARS = 20
MAX_CAPTION_CHARS = 300


@dataclass
class Extraction:
    """The cleaned article: body paragraphs apart from captions, credits and what was removed (and why)."""

    title: str | None = None
    paragraphs: list[str] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)
    published_at: datetime | None = None
    language: str | None = None
    canonical_url: str | None = None
    captions: list[Caption] = field(default_factory=list)
    credits: list[str] = field(default_factory=list)
    removed: list[Removed] = field(default_factory=list)

    @property
    def body(self) -> str:
        return "\n\n".join(self.paragraphs)


def _same_text(a: str, b: str) -> bool:
    return sig.words(a.lower()) == sig.words(b.lower())


def _split_html_blocks(blocks: list[str], extraction: Extraction) -> None:
    """Move photo captions and reporting credits out of the extracted main content."""
    for block in blocks:
        split = sig.split_caption_credit(block) if len(block) <= MAX_CAPTION_CHARS else None
        if len(block) <= MAX_CAPTION_CHARS and sig.is_reporting_credit(block):
            extraction.credits.append(block)
        elif split and split[0] and sig.length_units(split[0]) < 40:
            extraction.captions.append(Caption(text=split[0], credit=split[1]))
        elif len(block) <= MAX_CAPTION_CHARS and sig.is_credit_only(block):
            extraction.captions.append(Caption(text="", credit=block))
        else:
            extraction.paragraphs.append(block)


def extract_html(
    html: str | bytes,
    url: str | None = None,
    *,
    max_bytes: int = MAX_BYTES,
    time_budget: float = TIME_BUDGET,
    max_depth: int = MAX_DEPTH,
) -> Extraction:
    """Main content and metadata of an HTML page (bytes are decoded from BOM, meta charset or detection)."""
    deadline = Deadline(time_budget)
    if len(html) > max_bytes:
        raise LimitExceeded(f"HTML of {len(html)} bytes exceeds the {max_bytes}-byte limit")
    text = decode_html(html) if isinstance(html, bytes) else html
    if not text.strip():
        raise CleanError("empty HTML")
    tree = parse_html(text, max_depth=max_depth)
    deadline.check("parsing")
    extraction = Extraction(
        title=html_title(tree),
        authors=html_authors(tree),
        canonical_url=html_canonical(tree, url),
        published_at=html_published(tree, url),
    )
    landmarks = strip_non_content(tree)
    page_words = tree.text_content().split()
    page_chars = sum(map(len, page_words)) + max(len(page_words) - 1, 0)  # whitespace collapsed
    deadline.check("metadata")
    first = main_text(tree, url, deadline)

    def unstripped() -> lxml.html.HtmlElement:
        deadline.check("fallback extraction")  # the fallbacks cost as much again: only within budget
        return parse_html(text, max_depth=max_depth, prescanned=True)

    chosen, fell_back = run_cascade(first, tree, len(page_words), unstripped, url)
    deadline.check("fallback extraction")
    if fell_back:
        Metrics.counter("newsflow", f"boilerplate.html.cascade.{chosen.name}").inc()
    blocks = list(chosen.blocks)
    while blocks and extraction.title and _same_text(blocks[0], extraction.title):
        blocks.pop(0)
    _split_html_blocks(blocks, extraction)
    if sum(len(p) for p in extraction.paragraphs) < MIN_BODY_CHARS:
        raise CleanError("no main content found in HTML")
    kept = sum(len(p) for p in extraction.paragraphs) + sum(len(c.text) for c in extraction.captions)
    extraction.removed.extend(landmarks)
    if page_chars > kept:
        extraction.removed.append(
            Removed(text="(other page text outside the main content)", reason="html:outside-main-content",
                    chars=page_chars - kept)
        )  # fmt: skip
    extraction.language = detect_language(extraction.body)
    return extraction


def extract_text(
    text: str,
    url: str | None = None,
    *,
    time_budget: float = TIME_BUDGET,
    max_chars: int = MAX_BYTES,
    model: LineModel | None = None,
) -> Extraction:
    """Title, body, captions and credits of page text that still carries the page's boilerplate
    (``model``: the line model, the shipped one by default; the benchmark passes held-out fits)."""
    deadline = Deadline(time_budget)
    if len(text) > max_chars:
        raise LimitExceeded(f"text of {len(text)} characters exceeds the {max_chars}-character limit")
    lines = split_lines(text)
    if len(lines) > MAX_LINES:
        raise LimitExceeded(f"text has {len(lines)} lines, more than the {MAX_LINES}-line limit")
    language = detect_text_language(lines)
    parts = classify_lines(text, language, model=model, deadline=deadline)
    if not parts.paragraphs:
        raise CleanError("no article body found in text")
    return Extraction(
        title=parts.title,
        paragraphs=parts.paragraphs,
        authors=parts.authors,
        language=language,
        canonical_url=canonicalize_url(url) if url else None,
        captions=parts.captions,
        credits=parts.credits,
        removed=parts.removed,
    )


def count_removed(items: Iterable[Removed]) -> None:
    """Beam counters of removed blocks and characters by reason."""
    for item in items:
        Metrics.counter("newsflow", f"boilerplate.blocks.{item.reason}").inc()
        Metrics.counter("newsflow", f"boilerplate.chars.{item.reason}").inc(item.chars)
