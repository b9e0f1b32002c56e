"""Salience: how much an article is about an entity, from where and how often it is mentioned.

A mention in the title weighs ``TITLE``, one in the lede (the first paragraph) ``LEDE``, any other 1, slightly
more the earlier it comes. Scores are divided by the best one, so the top entity has salience 1.0.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

TITLE = 5.0
LEDE = 2.0
LEDE_MAX_CHARS = 600  # a body with no paragraph breaks still has a lede


def lede_end(body: str) -> int:
    cut = body.find("\n\n")
    return min(cut if cut > 0 else len(body), LEDE_MAX_CHARS) if body else 0


def title_hits(title: str | None, forms: Iterable[str]) -> int:
    """How many times any of an entity's surface forms occurs in the title as a whole word."""
    if not title:
        return 0
    alts = sorted({f for f in forms if f}, key=len, reverse=True)
    if not alts:
        return 0
    pattern = r"(?<!\w)(?:" + "|".join(re.escape(a) for a in alts) + r")(?!\w)"
    return len(re.findall(pattern, title))


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
