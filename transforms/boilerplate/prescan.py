"""A linear pre-scan of HTML before lxml sees it: the work a page asks for is bounded before the call that
cannot be stopped.

libxml2's HTML parser checks each attribute of an element against all the earlier ones, so one tag with n
attributes costs n² (20k attributes: 2 CPU-s; 100k: minutes), and the time budget, checked between steps,
could only see it afterwards. Counting tags and attributes is one regular-expression pass over the text
(tens of milliseconds per megabyte), so a page over the budget is refused with ``LimitExceeded`` before it
is parsed.

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
COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.DOTALL)
# Script and style bodies are raw text to the parser ("a<b" in JavaScript is no tag): skipped, the opening
# tag kept (its attributes count). The body is skipped with str.find: a lazy regex up to "</script" costs
# more than parsing the page.
RAW_OPEN = re.compile(r"""<(script|style)\b(?:"[^"]*"?|'[^']*'?|[^"'>])*>?""", re.IGNORECASE)


def without_raw_text(html: str) -> str:
    """``html`` with the bodies of its script and style elements left out."""
    lower = html.lower()
    parts, pos = [], 0
    while (match := RAW_OPEN.search(html, pos)) is not None:
        parts.append(html[pos : match.end()])
        close = lower.find("</" + match.group(1).lower(), match.end())
        pos = len(html) if close < 0 else close
    parts.append(html[pos:])
    return "".join(parts)


@dataclass(frozen=True)
class HtmlBudget:
    """The most a page may ask of the parser (defaults: far above any real news page)."""

    max_tags: int = 250_000
    max_attributes: int = 500_000
    max_attributes_per_tag: int = 1_000


@dataclass(frozen=True)
class Census:
    tags: int
    attributes: int
    most_attributes: int


def census(html: str, budget: HtmlBudget) -> Census:
    """Start tags and attributes in ``html``; stops counting (early) once a budget is certainly blown."""
    tags = attributes = most = 0
    html = COMMENT.sub("", html) if "<!--" in html else html
    html = without_raw_text(html)
    for inside in START_TAG.findall(html):
        tags += 1
        if len(inside) > 2 * budget.max_attributes_per_tag:  # may hold more: count, but stop past the cap
            count = sum(1 for _ in islice(ATTRIBUTE.finditer(inside), budget.max_attributes_per_tag + 1))
        elif inside.strip():  # cannot hold more than the cap (an attribute takes two characters): count in C
            count = len(ATTRIBUTE.findall(inside))
        else:
            count = 0
        if count:
            attributes += count
            most = max(most, count)
        if (
            tags > budget.max_tags
            or attributes > budget.max_attributes
            or most > budget.max_attributes_per_tag
        ):
            break
    return Census(tags, attributes, most)


def check(html: str, budget: HtmlBudget) -> Census:
    """The page's census; ``LimitExceeded`` (stage clean) naming the budget it blows."""
    seen = census(html, budget)
    if seen.most_attributes > budget.max_attributes_per_tag:
        raise LimitExceeded(
            f"HTML has an element with over {budget.max_attributes_per_tag} attributes "
            f"({seen.most_attributes} counted); refused before parsing"
        )
    if seen.attributes > budget.max_attributes:
        raise LimitExceeded(f"HTML has over {budget.max_attributes} attributes; refused before parsing")
    if seen.tags > budget.max_tags:
        raise LimitExceeded(f"HTML has over {budget.max_tags} elements; refused before parsing")
    return seen
