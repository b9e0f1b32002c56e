"""Batch dedup: one verified pair per (later, earlier) article, before the global survivor decision.

An article pair that shares several index keys (its URL, its content hash, most of its LSH bands) is
verified once per key: on near copies that is up to 16 copies of the same pair. :func:`batch.resolve`
only ever uses the best match between two given articles (the same earlier article has one rank, so its
matches are ordered by method, then similarity), so the others can be dropped where they are found, on
each worker, and the survivor decision gets one pair per article pair instead of every key's.
"""

from __future__ import annotations

from collections.abc import Iterable

from transforms.dedup.batch import Pair
from transforms.dedup.index import METHOD_RANK


def pair_order(pair: Pair) -> tuple[int, float]:
    """How :func:`batch.resolve` ranks the matches of one later article to one earlier article."""
    return METHOD_RANK[pair.match.method], -pair.match.similarity


def keep_best(best: dict[tuple[str, str], Pair], pairs: Iterable[Pair]) -> None:
    """Fold ``pairs`` into ``best``: for each (later, earlier) token pair the first pair of the best order.
    Two pairs of one article pair that tie in that order have equal matches, so which one is kept does
    not change the survivors."""
    for pair in pairs:
        key = (pair.later, pair.earlier)
        kept = best.get(key)
        if kept is None or pair_order(pair) < pair_order(kept):
            best[key] = pair
