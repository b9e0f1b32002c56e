"""Word tables in which each word is listed once, with flags for the uses it serves (``place_endings``,
``work_kinds``): one vocabulary per concept, so a word added for one use is weighed for the others.

It imports nothing of the project's, so every module of the package can build its table with it.
"""

from __future__ import annotations

from enum import Flag
from typing import TypeVar

UseT = TypeVar("UseT", bound=Flag)


def uses_by_word(table: tuple[tuple[UseT, str], ...]) -> dict[str, UseT]:
    """Each word → its uses; a word listed twice is an error, as its uses would then be split over lines."""
    uses: dict[str, UseT] = {}
    for use, words in table:
        for word in words.split():
            if word in uses:
                raise ValueError(f"{word!r} is listed twice")
            uses[word] = use
    return uses


def words_for(uses: dict[str, UseT], use: UseT) -> frozenset[str]:
    """The words whose uses include ``use``."""
    return frozenset(word for word, flags in uses.items() if use in flags)
