"""HTML mode: safe parsing, then main-content extraction by trafilatura's core on our pre-parsed tree.

The parser never touches the network, never expands entities (a document that declares its own entities is
rejected outright) and keeps libxml2's tree-size and depth limits; blowing them is a ``LimitExceeded``.
"""

from __future__ import annotations

import re

import lxml.etree
import lxml.html

from transforms.boilerplate import cascade, prescan
from transforms.boilerplate.prescan import HtmlBudget
from transforms.boilerplate.text import EXCERPT
from transforms.boilerplate.trafilatura_pass import extract_lines
from transforms.budget import Deadline
from transforms.errors import CleanError, LimitExceeded
from transforms.records import Removed

ENTITY_DECL = re.compile(r"<!ENTITY", re.IGNORECASE)
XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]{0,200}\?>", re.IGNORECASE)


# Every element is a plain HtmlElement, chosen in C. lxml.html's own parser asks a Python method for each
# element proxy it makes (to give <form>, <input>, <label> their own classes, which nothing here uses):
# half a million calls on 160 pages, in our passes and in trafilatura's, which keep the parser's lookup on
# their copies of the tree.
HTML_CLASSES = lxml.etree.ElementDefaultClassLookup(
    element=lxml.html.HtmlElement,
    comment=lxml.html.HtmlComment,
    pi=lxml.html.HtmlProcessingInstruction,
    entity=lxml.html.HtmlEntity,
)


def _parser() -> lxml.etree.HTMLParser:
    """A fresh parser (its error log is this page's) that never fetches and keeps libxml2's limits."""
    parser = lxml.etree.HTMLParser(
        no_network=True, huge_tree=False, remove_comments=True, remove_pis=True, collect_ids=False
    )
    parser.set_element_class_lookup(HTML_CLASSES)
    return parser


def parse_html(
    html: str, *, max_depth: int, budget: HtmlBudget = HtmlBudget(), prescanned: bool = False
) -> lxml.html.HtmlElement:
    """A tree for ``html``; ``LimitExceeded`` when it nests deeper than ``max_depth`` (or libxml2's cap), or
    asks more of the parser than ``budget`` (counted before parsing, and a page of over
    ``budget.trim_from`` tags cut of its runs of links: :mod:`transforms.boilerplate.prescan`;
    ``prescanned``: this text already passed the count, for a second parse of the same page)."""
    if ENTITY_DECL.search(html[:65536]):
        raise CleanError("HTML declares its own entities (DOCTYPE internal subset); rejected")
    html = prescan.bounded(html, budget, checked=prescanned)
    parser = _parser()
    declaration = XML_DECLARATION.match(html)  # lxml refuses decoded text that declares an encoding
    if declaration:
        html = html[declaration.end() :]
    try:
        tree = lxml.html.document_fromstring(html, parser=parser)
    except (lxml.etree.ParserError, ValueError) as exc:
        raise CleanError(f"unparseable HTML: {exc}") from exc
    if any(e.type_name == "ERR_RESOURCE_LIMIT" for e in parser.error_log):
        raise LimitExceeded("HTML exceeds the parser's depth or size limits")
    # libxml2 already refuses to nest deeper than 256; a lower budget is checked with one XPath probe.
    if max_depth < 256 and tree.xpath("boolean(" + "/*" * (max_depth + 1) + ")"):
        raise LimitExceeded(f"HTML nests deeper than {max_depth} elements")
    return tree


NEVER_CONTENT = ("script", "style", "noscript", "svg", "iframe", "template", "link")
# Elements that rarely hold article text: removed unless one holds most of the page's prose (a page that
# wraps its body in a <nav> or a <button> keeps it). trafilatura drops <aside> itself, but only after its
# raw-tree passes, copies and the cascade's link and prose counts have gone through the sidebars (7% of a
# page's elements): removing them here saves about 5% of HTML mode's CPU and changed 3 of 984 benchmark
# pages, each for the better (related-story teasers no longer taken).
USUALLY_NOT_CONTENT = ("select", "button", "nav", "footer", "aside")
LANDMARKS = ("nav", "footer")
MOST_OF_PAGE = 0.5


def strip_non_content(tree: lxml.html.HtmlElement) -> list[Removed]:
    """Drop elements that never hold article text (after metadata is read: JSON-LD lives in scripts).

    trafilatura would discard them too; doing it in one C pass first makes its Python passes shorter.
    Returns the text of the navigation and footer landmarks removed, as blocks named by their tag.
    """
    lxml.etree.strip_elements(tree, *NEVER_CONTENT, with_tail=False)
    most = MOST_OF_PAGE * len(tree.text_content().split())
    removed: list[Removed] = []
    doomed: set[lxml.html.HtmlElement] = set()
    for el in list(tree.iter(*USUALLY_NOT_CONTENT)):
        if any(a in doomed for a in el.iterancestors()):
            continue
        if len(el.text_content().split()) > most and cascade.non_link_words(el) > most:
            el.tag = "div"  # a plain container to every later pass, which would drop the tag whole
            continue
        doomed.add(el)
        if el.tag in LANDMARKS and (text := " ".join(" ".join(el.itertext()).split())):
            removed.append(Removed(text=text[:EXCERPT], reason=f"html:{el.tag}", chars=len(text)))
    for el in doomed:
        el.drop_tree()
    return removed


def main_text(tree: lxml.html.HtmlElement, url: str | None, deadline: Deadline) -> list[str]:
    """The main-content blocks of a parsed page, one per paragraph, list item or table row.

    The page's ``<head>`` goes first (metadata has been read from it): trafilatura drops it too, but only
    after copying the tree with it up to five times and running its XPath prunes over it (about 1% of the
    pass).
    """
    for head in tree.findall("head"):
        head.drop_tree()
    try:
        lines = extract_lines(tree, url, fast=True)
    except Exception as exc:  # noqa: BLE001 - a third-party failure on one page is that page's problem
        raise CleanError(f"main-content extraction failed: {type(exc).__name__}") from exc
    deadline.check("main-content extraction")
    return lines
