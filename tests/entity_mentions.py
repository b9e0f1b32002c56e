"""Model output written by hand for the entity rules' tests: the rules run on mentions placed in a text."""

from __future__ import annotations

import re

from transforms.entities.recognize import RawMention


def marked(body: str, spans: list[tuple[str, str]]) -> list[RawMention]:
    """A mention of each (text, type) at the first whole-word occurrence of text in body."""
    out = []
    for text, type_ in spans:
        m = re.search(rf"(?<!\w){re.escape(text)}(?!\w)", body)
        out.append(RawMention(m.start(), m.end(), type_))
    return out
