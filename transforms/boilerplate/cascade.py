"""HTML mode's cascade: our fast pass first, fallback extractors only when its result looks wrong.

The fast pass (trafilatura's core on the pre-stripped tree) is right on most pages. It goes wrong in a few
recognisable ways: it keeps only an intro or a teaser while the page holds far more prose, or nothing at all,
or mostly link text. Only then do the fallbacks run: trafilatura with its own fallbacks (which weighs
readability and jusText against its core), and the whole ``<article>``/``<main>`` element. The choice among
candidates uses general signals only: prose words (sentence-shaped blocks), link density against the
page's anchors, and agreement with the fast pass. No publisher rules, no fitted weights.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import lxml.etree
import lxml.html

from transforms.boilerplate import signals as sig
from transforms.boilerplate.trafilatura_pass import extract_lines

PROSE_BLOCK_WORDS = 10  # a paragraph of the page counts as prose from this many non-link words
SHORT_WORDS = 200  # a fast pass below this while the page holds twice its words in prose is suspect
MIN_SHARE = 0.2  # ... as is a longer one that keeps less than this share of the page's prose
MAX_LINK_DENSITY = 0.3  # ... or one with this share of its words in blocks that are whole links
BODY_LINK_DENSITY = 0.1  # a replacement may carry at most this: teaser lists are whole-link headlines
GAIN = 1.3  # a fallback must bring this much more clean prose than the fast pass to replace it


@dataclass
class Candidate:
    """One extraction of the page, with the signals the chooser weighs."""

    name: str
    blocks: list[str]
    words: int = 0
    prose: int = 0
    link_density: float = 0.0

    @property
    def clean_prose(self) -> float:
        return self.prose * (1.0 - self.link_density)


def text_of(el: lxml.html.HtmlElement) -> str:
    """``el.text_content()``; a leaf's is its own text, read without the XPath call text_content() makes
    (most links are leaves, and a page has hundreds)."""
    return (el.text or "") if len(el) == 0 else el.text_content()


def non_link_words(el: lxml.html.HtmlElement) -> int:
    """Words (whitespace-separated, counted in C) of an element's text that are not inside a link."""
    total = len(text_of(el).split())
    links = sum(len(text_of(a).split()) for a in el.iter("a")) if total else 0
    return max(total - links, 0)


def page_prose_words(tree: lxml.html.HtmlElement) -> int:
    """Words in the page's prose paragraphs: ``<p>`` elements, and text runs written straight into a
    ``<div>`` or ``<td>`` (pages laid out with ``<br>``), of at least ``PROSE_BLOCK_WORDS`` non-link words."""
    total = 0
    for el in tree.iter("p", "div", "td"):
        if el.tag == "p":
            n = non_link_words(el)
        else:
            n = sum(len(t.split()) for t in [el.text, *(c.tail for c in el)] if t)
        if n >= PROSE_BLOCK_WORDS:
            total += n
    return total


def anchor_texts(tree: lxml.html.HtmlElement) -> frozenset[str]:
    """Normalised texts of the page's links: a block that is one of them is link text."""
    return frozenset(t for t in (" ".join(text_of(a).split()).lower() for a in tree.iter("a")) if t)


def describe(name: str, blocks: list[str], anchors: frozenset[str]) -> Candidate:
    """A candidate with its word count, prose words (long sentence-shaped blocks) and link density."""
    words = prose = linked = 0
    for block in blocks:
        n = len(sig.words(block))
        words += n
        if block.lower() in anchors:
            linked += n
        elif n >= PROSE_BLOCK_WORDS and (sig.ends_like_sentence(block) or n >= 3 * PROSE_BLOCK_WORDS):
            prose += n
    return Candidate(name, blocks, words, prose, linked / words if words else 0.0)


def prose_needed(first: Candidate) -> int:
    """Page prose words above which the fast pass is suspect: twice its words when it is short (an intro,
    a teaser), five times when it is not (it kept a fifth of the page's prose)."""
    return 2 * first.words if first.words < SHORT_WORDS else int(first.words / MIN_SHARE)


def looks_wrong(first: Candidate, page_prose: int) -> bool:
    """The fast pass's tell-tale failures: nothing, mostly links, only a small part of the page's prose."""
    if first.words == 0 or first.link_density > MAX_LINK_DENSITY:
        return True
    return page_prose >= prose_needed(first)


def agreement(a: Candidate, b: Candidate) -> float:
    """Share of ``a``'s word 4-grams that ``b`` also has (1.0 when ``b`` contains all of ``a``)."""
    grams_a = _grams(a.blocks)
    return len(grams_a & _grams(b.blocks)) / len(grams_a) if grams_a else 0.0


def _grams(blocks: list[str]) -> set[tuple[str, ...]]:
    toks = [t.lower() for block in blocks for t in sig.words(block)]
    return {tuple(toks[i : i + 4]) for i in range(max(len(toks) - 3, 0))}


def choose(first: Candidate, fallbacks: list[Candidate]) -> Candidate:
    """The fast pass unless a fallback brings clearly more clean prose while keeping what the fast pass
    found (it adds the missing body rather than taking another part of the page); of those, the smallest:
    the least that repairs the fast pass takes the least furniture with it."""
    if first.words == 0 or first.link_density > MAX_LINK_DENSITY:  # nothing worth keeping: the best
        usable = [c for c in fallbacks if c.words and c.link_density <= MAX_LINK_DENSITY]
        best = max(usable, key=lambda c: c.clean_prose, default=first)
        return best if best.clean_prose > first.clean_prose or not first.words else first
    better = [
        c
        for c in fallbacks
        if c.link_density <= BODY_LINK_DENSITY
        and c.clean_prose > GAIN * first.clean_prose
        and agreement(first, c) >= 0.5
    ]
    return min(better, key=lambda c: c.words, default=first)


def landmark_text(tree: lxml.html.HtmlElement) -> list[str]:
    """The blocks of the page's one ``<article>`` (else ``<main>``), if it has exactly one."""
    for tag in ("article", "main"):
        found = list(tree.iter(tag))
        if len(found) == 1:
            return text_blocks(found[0])
    return []


BLOCK_TAGS = frozenset(
    ["p", "div", "li", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "dd", "dt",
     "section", "article", "main", "header", "figcaption", "tr", "ul", "ol", "table", "br"]
)  # fmt: skip


NEVER_TEXT = frozenset(
    ["script", "style", "noscript", "svg", "template", "iframe", "select", "button", "nav"]
)


def text_blocks(el: lxml.html.HtmlElement) -> list[str]:
    """An element's text as paragraphs: a new block at every block-level element."""
    blocks: list[str] = []
    current: list[str] = []

    def flush() -> None:
        text = " ".join(" ".join(current).split())
        if text:
            blocks.append(text)
        current.clear()

    def walk(node, root: bool = False) -> None:
        if not isinstance(node.tag, str) or (node.tag in NEVER_TEXT and not root):
            return
        block = node.tag in BLOCK_TAGS
        if block:
            flush()
        if node.text:
            current.append(node.text)
        for child in node:
            walk(child)
            if child.tail:
                current.append(child.tail)
        if block:
            flush()

    walk(el, root=True)
    flush()
    return blocks


HIDDEN = lxml.etree.XPath(
    "//*[@hidden or @aria-hidden='true' or contains(translate(@style, ' ', ''), 'display:none') "
    "or contains(translate(@style, ' ', ''), 'visibility:hidden')]"
)


def drop_hidden(tree: lxml.html.HtmlElement) -> None:
    """Remove what a reader never sees (``hidden``, ``display:none``): fallbacks would otherwise take it."""
    for el in HIDDEN(tree):
        if el.getparent() is not None and el.tag not in ("html", "body"):
            el.drop_tree()


def fallback_candidates(tree: lxml.html.HtmlElement, url: str | None) -> list[tuple[str, list[str]]]:
    """The fallback extractions of an unstripped tree: trafilatura with its fallbacks (readability and
    jusText weighed by its own rules), the page's ``<article>``/``<main>``, the densest prose container."""
    drop_hidden(tree)
    return [
        ("trafilatura-fallbacks", extract_lines(tree, url, fast=False)),
        ("landmark", landmark_text(tree)),
        ("prose-container", prose_container_text(tree)),
    ]


def prose_container_text(tree: lxml.html.HtmlElement) -> list[str]:
    """The blocks of the element that directly holds the most prose paragraphs (their parent gets the
    paragraph's words, the grandparent half of them: the classic text-density container)."""
    credit: dict[lxml.html.HtmlElement, float] = {}
    for p in tree.iter("p"):
        n = non_link_words(p)
        if n < PROSE_BLOCK_WORDS:
            continue
        parent = p.getparent()
        if parent is None:
            continue
        credit[parent] = credit.get(parent, 0.0) + n
        grand = parent.getparent()
        if grand is not None:
            credit[grand] = credit.get(grand, 0.0) + n / 2
    if not credit:
        return []
    return text_blocks(max(credit, key=credit.__getitem__))


def run_cascade(
    first_blocks: list[str],
    stripped: lxml.html.HtmlElement,
    page_words: int,
    unstripped: Callable[[], lxml.html.HtmlElement],
    url: str | None,
) -> tuple[Candidate, bool]:
    """The chosen candidate, and whether the fallbacks ran (``unstripped`` is only called when they do).

    ``page_words`` (all words of the stripped page) bounds its prose: the prose count is skipped when
    even that bound would not make the fast pass suspect."""
    first = describe("fast-pass", first_blocks, anchor_texts(stripped))
    junk = first.words == 0 or first.link_density > MAX_LINK_DENSITY
    if not junk and (page_words < prose_needed(first) or not looks_wrong(first, page_prose_words(stripped))):
        return first, False
    tree = unstripped()
    anchors = anchor_texts(tree)
    others = [describe(name, blocks, anchors) for name, blocks in fallback_candidates(tree, url)]
    return choose(first, others), True
