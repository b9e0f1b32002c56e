"""Backfill dedup: keeping one verified pair per article pair (per worker) leaves the survivors unchanged."""

from __future__ import annotations

import random

from tests.unit.test_dedup_batch import article, corpus
from transforms.dedup import Deduplicator, DedupSettings
from transforms.dedup.batch import Pair, batch_pairs, member, resolve
from transforms.dedup.best_pairs import keep_best
from transforms.dedup.index import Match


def all_pairs(settings: DedupSettings) -> list[Pair]:
    """Every key's verified pairs of a corpus with exact, near, URL and chained copies."""
    articles = corpus() + [
        article("wire-again", range(0, 12), published=4, partition=2),
        article("chain-a", range(60, 72), published=1),
        article("chain-b", range(64, 76), published=2),  # near both chain-a and chain-c
        article("chain-c", range(68, 80), published=3),
    ]
    fingerprint = Deduplicator(settings).fingerprint
    return batch_pairs((member(a, fingerprint(a)) for a in articles), settings)


def test_one_pair_per_article_pair_and_the_same_survivors_however_the_pairs_are_split() -> None:
    settings = DedupSettings()
    pairs = all_pairs(settings)
    assert len(pairs) > len({(p.later, p.earlier) for p in pairs})  # several keys verify the same pair
    expected = resolve(pairs)
    assert expected  # the corpus has duplicates
    rng = random.Random(7)
    for workers in (1, 2, 3):
        shuffled = rng.sample(pairs, len(pairs))
        kept: list[Pair] = []
        for share in range(workers):  # each worker reduces its own share of the groups
            best: dict[tuple[str, str], Pair] = {}
            keep_best(best, shuffled[share::workers])
            assert len(best) == len({(p.later, p.earlier) for p in shuffled[share::workers]})
            kept.extend(best.values())
        assert resolve(rng.sample(kept, len(kept))) == expected


def test_the_best_match_of_an_article_pair_is_kept_whatever_the_order() -> None:
    rank = (1, 1, "a", b"")
    near = Pair("b:1", (2, 2, "b", b""), "a:1", Match(rank, "a", "near", 0.8))
    nearer = Pair("b:1", (2, 2, "b", b""), "a:1", Match(rank, "a", "near", 0.9))
    exact = Pair("b:1", (2, 2, "b", b""), "a:1", Match(rank, "a", "exact", 1.0))
    url = Pair("b:1", (2, 2, "b", b""), "a:1", Match(rank, "a", "url", 1.0))
    for order in ([near, nearer, exact, url], [url, exact, nearer, near], [nearer, url, near]):
        best: dict[tuple[str, str], Pair] = {}
        keep_best(best, order)
        assert list(best.values()) == [url]
    best = {}
    keep_best(best, [near, nearer])
    assert list(best.values()) == [nearer]
