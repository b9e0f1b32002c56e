"""trafilatura's extraction on a tree we parsed, as text lines.

Its options are built once per process and mode: building them reads trafilatura's config file values
one by one (about 1% of HTML mode's time when done per page). trafilatura never changes the options it
is given (its recall retry works on a copy), so one object serves every page; the URL is set on a copy
only so its log lines name the page (it steers nothing here: links and images are off).
"""

from __future__ import annotations

import copy
import functools

import lxml.html
import trafilatura
from trafilatura.settings import Extractor


@functools.lru_cache(maxsize=2)
def _options(fast: bool) -> Extractor:
    return Extractor(output_format="python", fast=fast, comments=False, tables=True, with_metadata=False)


def extract_lines(tree: lxml.html.HtmlElement, url: str | None, *, fast: bool) -> list[str]:
    """The main-content text of ``tree`` (trafilatura's core when ``fast``, else with its readability and
    jusText fallbacks), one whitespace-normalised line per paragraph, list item or table row."""
    options = copy.copy(_options(fast))
    options.url = options.source = url
    doc = trafilatura.bare_extraction(tree, options=options)
    text = (doc.text if doc is not None else "") or ""
    return [line for line in (" ".join(raw.split()) for raw in text.split("\n")) if line]
