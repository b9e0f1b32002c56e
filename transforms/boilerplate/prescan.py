"""A linear pre-scan of HTML before lxml sees it: the work a page asks for is bounded before the call that
cannot be stopped.

libxml2's HTML parser checks each attribute of an element against all the earlier ones, so one tag with n
attributes costs n² (20k attributes: 2 CPU-s; 100k: minutes), and the time budget, checked between steps,
could only see it afterwards. Finding the start tags is one regular-expression pass over the text (a
few milliseconds per 100 kB), so a page over the budget is refused with ``LimitExceeded`` before it is
parsed. Attributes are counted only where the tags' lengths cannot rule a budget out (an attribute takes
at least one character): in the few tags long enough to pass the per-tag cap, and on pages whose tags'
text is longer than the total budget.

The tag pattern follows the HTML tokenizer closely enough to count what the parser will build: quoted
attribute values may hold ``>`` and ``<``; script and style bodies are raw text; comments, CDATA, ``<!DOCTYPE>`` and ``<?...>`` are not elements.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import islice

from transforms.errors import LimitExceeded

# One attribute as the HTML tokenizer reads it: a name (quotes in a name are part of it: only a quote just
# after "=" opens a value), then optionally "=" and a quoted or bare value. A stray quote in real pages
# ('data-x="a""') must not swallow the rest of the page as one tag.
_ATTR = r"""(?:[^\s/>=][^\s/>=]*(?:\s*=\s*(?:"[^"]*"?|'[^']*'?|[^\s>]*))?|=[^\s>]*)"""
# One start tag: name, then everything up to the ">" that is not inside a value quoted after "=" (a quote
# anywhere else is an ordinary character), or the end of the text. Runs of ordinary characters are taken
# whole, which keeps this scan cheaper than parsing; it cannot backtrack, as nothing has to follow it.
START_TAG = re.compile(r"""<[A-Za-z][^\s/>]*((?:[^"'>=]+|=\s*"[^"]*"?|=\s*'[^']*'?|=|["'])*)""")
ATTRIBUTE = re.compile(_ATTR)
# Script and style bodies are raw text to the parser ("a<b" in JavaScript is no tag): skipped, the opening
# tag kept (its attributes count). The body runs to the closing tag, found by a literal "</" (a fast
# substring search in the regex engine) then the name in any case: lower-casing the whole page for
# str.find cost a third of the scan, and a lazy regex up to "</script" more than parsing the page.
RAW_OPEN = re.compile(r"""<(script|style)\b(?:"[^"]*"?|'[^']*'?|[^"'>])*>?""", re.IGNORECASE)
RAW_CLOSE = {"script": re.compile(r"</(?i:script)"), "style": re.compile(r"</(?i:style)")}


def without_comments(html: str) -> str:
    """``html`` with its comments left out (an unclosed comment runs to the end, as in the parser)."""
    parts, pos = [], 0
    while (start := html.find("<!--", pos)) >= 0:
        parts.append(html[pos:start])
        end = html.find("-->", start + 4)
        if end < 0:
            return "".join(parts)
        pos = end + 3
    parts.append(html[pos:])
    return "".join(parts)


def without_raw_text(html: str) -> str:
    """``html`` with the bodies of its script and style elements left out."""
    parts, pos = [], 0
    while (match := RAW_OPEN.search(html, pos)) is not None:
        parts.append(html[pos : match.end()])
        close = RAW_CLOSE[match.group(1).lower()].search(html, match.end())
        pos = len(html) if close is None else close.start()
    parts.append(html[pos:])
    return "".join(parts)


def start_tags(html: str) -> list[str]:
    """What follows the name in each start tag of ``html``, as the parser will read the page."""
    return START_TAG.findall(without_raw_text(without_comments(html)))


# A run of whole links, one after another with nothing but blanks, separators, list-item tags or character
# references between them: navigation (a sitemap, a tag cloud, an archive list), which extraction drops as
# link text anyway. Nothing between two links can start one, so nothing need be given back: the repeat is
# possessive, as a greedy one made the regex engine keep a backtracking frame per link (300 MB for 200,000).
LINK_RUN = re.compile(
    r"""(?:<a\b(?:"[^"]*"|'[^']*'|[^"'<>])*>[^<]{0,300}</a\s*>"""
    r"""(?:[\s|,;/\u00b7\u2022-]+|&#?\w{1,8};|</?li\b[^<>]*>)*){50,}+""",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class HtmlBudget:
    """The most a page may ask of the parser and of extraction (defaults: far above any real news page; the
    largest of the extraction benchmark's tuning pages has 9,888 start tags).

    Memory, not the parser's time, is what elements cost: libxml2's tree takes ~0.7 KB an element, and
    extraction (metadata, trafilatura's four copies of the tree) ~4 KB more, so a 7 MB page of 200,000 links
    peaked at 1.4 GB. Past ``trim_from`` tags, runs of 50 or more whole links are cut before parsing;
    a page still over ``max_tags`` is refused."""

    max_tags: int = 50_000
    max_attributes: int = 500_000
    max_attributes_per_tag: int = 1_000
    trim_from: int = 20_000


@dataclass(frozen=True)
class Census:
    tags: int
    attributes: int
    most_attributes: int


def census(html: str, budget: HtmlBudget) -> Census:
    """Start tags and attributes in ``html``; stops counting (early) once a budget is certainly blown."""
    return _count(start_tags(html), budget)


def attributes_in(inside: str, cap: int) -> int:
    """Attributes in one tag's text, counted up to ``cap + 1``.

    An attribute takes two characters (one, plus the blank or quote that ends it), so a tag of ``2 * cap``
    characters or fewer cannot hold more than ``cap``: those are counted in one C call."""
    if len(inside) > 2 * cap:
        return sum(1 for _ in islice(ATTRIBUTE.finditer(inside), cap + 1))
    return len(ATTRIBUTE.findall(inside)) if inside.strip() else 0


def _count(insides: list[str], budget: HtmlBudget) -> Census:
    tags = attributes = most = 0
    for inside in insides:
        tags += 1
        count = attributes_in(inside, budget.max_attributes_per_tag)
        attributes += count
        most = max(most, count)
        if (
            tags > budget.max_tags
            or attributes > budget.max_attributes
            or most > budget.max_attributes_per_tag
        ):
            break
    return Census(tags, attributes, most)


def bounded(html: str, budget: HtmlBudget, *, checked: bool = False) -> str:
    """``html`` as the parser may see it: with its runs of whole links cut (:data:`LINK_RUN`) when it has
    more than ``budget.trim_from`` start tags. ``LimitExceeded`` (stage clean) naming the budget it still
    blows, if it blows one (``checked``: it passed before, only the cut is wanted, for a second parse).

    A tag takes at least three characters, so a page shorter than three times ``trim_from`` is not
    scanned for the cut."""
    if checked and len(html) <= 3 * budget.trim_from:
        return html
    insides = start_tags(html)
    if len(insides) > budget.trim_from:
        cut = LINK_RUN.sub(" ", html)
        if len(cut) < len(html):
            html, insides = cut, start_tags(cut)
    if not checked:
        _check(insides, budget)
    return html


def check(html: str, budget: HtmlBudget) -> None:
    """``LimitExceeded`` (stage clean) naming the budget ``html`` blows, if it blows one."""
    _check(start_tags(html), budget)


def _check(insides: list[str], budget: HtmlBudget) -> None:
    """Only what could blow a budget is counted: the attributes of tags long enough to pass the cap, and
    all attributes only when the tags' text is longer than the total budget (an attribute takes at least
    one character). Real pages are judged from the tags' lengths."""
    cap = budget.max_attributes_per_tag
    most = max((attributes_in(inside, cap) for inside in insides if len(inside) > 2 * cap), default=0)
    if most > cap:
        raise LimitExceeded(
            f"HTML has an element with over {cap} attributes ({most} counted); refused before parsing"
        )
    if (
        sum(map(len, insides)) > budget.max_attributes
        and _count(insides, budget).attributes > budget.max_attributes
    ):
        raise LimitExceeded(f"HTML has over {budget.max_attributes} attributes; refused before parsing")
    if len(insides) > budget.max_tags:
        raise LimitExceeded(f"HTML has over {budget.max_tags} elements; refused before parsing")
