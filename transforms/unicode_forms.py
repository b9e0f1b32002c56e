"""Unicode normalisation in time linear in the text: ``unicodedata.normalize`` with long combining runs put in
canonical order first.

CPython orders a run of combining marks by insertion sort, so a run of k marks in the wrong order costs
O(k^2) in one C call that neither the cleaning budget nor the watchdog can interrupt: 40,000 marks
(80 KB) took 2 CPU-s, and the 5 million marks a 10 MB message can hold would take hours. Natural text
never has more than a few marks on one letter (Unicode's stream-safe format allows 30), so only longer runs
are touched: each is decomposed character by character and its marks stably sorted by combining class
(the canonical ordering algorithm), which is canonically equivalent, so ``unicodedata.normalize`` then
returns exactly what it would have for the original text, in linear time.
"""

from __future__ import annotations

import functools
import re
import sys
import unicodedata
from dataclasses import dataclass

LONG_RUN = 30
"""Combining marks in a row past which a run is ordered before normalising (the stream-safe limit)."""


def _class_of(code_points: list[int]) -> str:
    """A regex character class of ``code_points`` (sorted), as ranges."""
    ranges: list[list[int]] = []
    for cp in code_points:
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])
    return "[" + "".join(f"\\U{a:08x}-\\U{b:08x}" for a, b in ranges) + "]"


def _extends(char: str) -> bool:
    """Whether ``char`` decomposes to a combining mark first, so it extends the run before it."""
    return bool(
        unicodedata.combining(char)
        or (unicodedata.decomposition(char) and unicodedata.combining(unicodedata.normalize("NFKD", char)[0]))
    )


@dataclass(frozen=True)
class _Patterns:
    """Built from this Python's Unicode tables once (0.2 CPU-s). ``bmp_run`` finds a long run of marks
    below U+10000 at 7 ns a character; a class with astral ranges too is seven times slower, so
    ``any_run`` is searched only in a text that has an astral character (``astral``)."""

    bmp_run: re.Pattern[str]
    astral: re.Pattern[str]
    any_run: re.Pattern[str]
    run_and_base: re.Pattern[str]
    marks: re.Pattern[str]


@functools.cache
def _patterns() -> _Patterns:
    extending = [cp for cp in range(sys.maxunicode + 1) if _extends(chr(cp))]
    every = _class_of(extending)
    return _Patterns(
        bmp_run=re.compile(_class_of([cp for cp in extending if cp <= 0xFFFF]) + f"{{{LONG_RUN + 1}}}"),
        astral=re.compile("[\\U00010000-\\U0010ffff]"),
        any_run=re.compile(every + f"{{{LONG_RUN + 1}}}"),
        run_and_base=re.compile(f"(?s:.)?{every}{{{LONG_RUN + 1},}}"),
        marks=re.compile(
            _class_of([cp for cp in range(sys.maxunicode + 1) if unicodedata.combining(chr(cp))]) + "+"
        ),
    )


def has_long_run(text: str) -> bool:
    """Whether ``text`` has more than LONG_RUN combining marks in a row."""
    if text.isascii():
        return False
    found = _patterns()
    return bool(found.bmp_run.search(text) or (found.astral.search(text) and found.any_run.search(text)))


def normalize(form: str, text: str) -> str:
    """``unicodedata.normalize(form, text)``, in time linear in ``text`` whatever its combining runs."""
    if not has_long_run(text):
        return unicodedata.normalize(form, text)
    found = _patterns()
    decompose = functools.partial(unicodedata.normalize, "NFKD" if form.startswith("NFK") else "NFD")

    def ordered(run: re.Match[str]) -> str:
        """The run (and the character it extends) decomposed, its marks in canonical order."""
        decomposed = "".join(map(decompose, run.group()))
        return found.marks.sub(lambda m: "".join(sorted(m.group(), key=unicodedata.combining)), decomposed)

    return unicodedata.normalize(form, found.run_and_base.sub(ordered, text))
