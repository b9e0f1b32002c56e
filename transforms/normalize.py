"""Text normalisation: Unicode NFC, one kind of space, no control characters, tidy line breaks.

Runs before cleaning so every later stage (boilerplate signals, shingles, NER offsets) sees one canonical
form of the same text.
"""

from __future__ import annotations

import dataclasses
import re

from transforms import unicode_forms
from transforms.records import RawArticle

# Every Unicode space separator (no-break, thin, ideographic...) becomes a plain space.
_SPACES = re.compile(r"[\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000\t\f\v]")
# C0/C1 controls except newline, plus zero-width and bidi-override characters that hide text.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200d\u2060\ufeff\u202a-\u202e\u2066-\u2069]")
_LINE_SEPARATORS = re.compile(r"\r\n?|[\u2028\u2029\x85]")
_RUNS_OF_SPACES = re.compile(r" {2,}")
_BLANK_LINES = re.compile(r"\n{3,}")


def normalize_text(text: str) -> str:
    """NFC, unified spaces and line breaks, controls removed, lines stripped, at most one blank line."""
    text = _LINE_SEPARATORS.sub("\n", text)
    text = unicode_forms.normalize("NFC", text)
    text = _CONTROLS.sub("", _SPACES.sub(" ", text))
    text = "\n".join(_RUNS_OF_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n\n", text).strip()


def strip_controls(markup: str) -> str:
    """For HTML: only drop NUL and other controls; whitespace has meaning to the extractor."""
    return unicode_forms.normalize("NFC", _CONTROLS.sub("", markup))


def normalize_raw(raw: RawArticle) -> RawArticle:
    """The raw envelope with its text fields normalised (the envelope itself is not changed)."""
    return dataclasses.replace(
        raw,
        text=normalize_text(raw.text) if raw.text else raw.text,
        html=strip_controls(raw.html) if raw.html else raw.html,
        url=raw.url.strip() if raw.url else raw.url,
        source=normalize_text(raw.source) if raw.source else raw.source,
    )
