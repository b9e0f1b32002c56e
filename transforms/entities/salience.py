"""Salience: how much an article is about an entity, from where and how often it is mentioned.

A mention in the title weighs ``TITLE``, one in the lede (the first paragraph) ``LEDE``, any other 1, slightly
more the earlier it comes. Scores are divided by the best one, so the top entity has salience 1.0.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

TITLE = 5.0
LEDE = 2.0
LEDE_MAX_CHARS = 600  # a body with no paragraph breaks still has a lede


def lede_end(body: str) -> int:
    cut = body.find("\n\n")
    return min(cut if cut > 0 else len(body), LEDE_MAX_CHARS) if body else 0


def title_hits(title: str | None, forms: Iterable[str]) -> int:
    r"""How many times any of an entity's surface forms occurs in the title as a whole word: non-overlapping,
    left to right, the longest form first where several start at one place (as a regular expression
    alternation of the forms, longest first, between ``(?<!\w)`` and ``(?!\w)`` would count them, without
    compiling one for every entity of every article)."""
    if not title:
        return 0
    alts = sorted({f for f in forms if f}, key=len, reverse=True)
    count = resume = 0
    for start in sorted({i for form in alts for i in _occurrences(title, form)}):
        if start < resume or (start > 0 and _is_word(title[start - 1])):
            continue
        for form in alts:
            end = start + len(form)
            if title.startswith(form, start) and (end == len(title) or not _is_word(title[end])):
                count += 1
                resume = end
                break
    return count


def _occurrences(text: str, form: str) -> Iterator[int]:
    at = text.find(form)
    while at >= 0:
        yield at
        at = text.find(form, at + 1)


def _is_word(char: str) -> bool:
    r"""``\w`` of Python's regular expressions on str: every Unicode letter, digit and numeric, and "_"."""
    return char.isalnum() or char == "_"


def raw_score(offsets: Iterable[int], body_len: int, lede: int, in_title: int) -> float:
    score = TITLE * in_title
    for offset in offsets:
        if offset < lede:
            score += LEDE
        else:
            score += 1.0 + 0.5 * (1.0 - offset / max(body_len, 1))
    return score


def normalise(scores: list[float]) -> list[float]:
    top = max(scores, default=0.0)
    return [round(s / top, 4) if top else 0.0 for s in scores]
