"""Batch dedup: the same survivors and verdicts for every input order; no chain drops a dissimilar member."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta

from transforms.dedup import Deduplicator, DedupSettings
from transforms.dedup.batch import dedup_batch
from transforms.dedup.minhash import estimate_jaccard
from transforms.records import Article, SourcePosition

T0 = datetime(2024, 5, 1, tzinfo=UTC)
VOCAB = [
    f"{a}{b}"
    for a in ("ka", "lo", "mi", "nu", "pe", "ra", "su", "te")
    for b in ("ba", "do", "fi", "go", "hu", "ja")
]


def block(n: int) -> str:
    """Forty words that belong to block ``n`` only (seeded), standing in for a paragraph."""
    rng = random.Random(n)
    return " ".join(rng.choice(VOCAB) + str(n) for _ in range(40)) + "."


def article(aid: str, blocks: range, *, published: int, fetched: int = 0, partition: int = 0) -> Article:
    return Article(
        id=aid,
        body="\n\n".join(block(n) for n in blocks),
        canonical_url=f"https://example.org/{aid}",
        published_at=T0 + timedelta(hours=published),
        fetched_at=T0 + timedelta(hours=fetched),
        source_position=SourcePosition("articles.raw", partition, published),
    )


def outcome(articles: list[Article], settings: DedupSettings) -> tuple[list[str], list[tuple[str, str, str]]]:
    survivors, verdicts = dedup_batch(articles, settings, Deduplicator(settings).fingerprint)
    return sorted(a.id for a in survivors), sorted((v.id, v.duplicate_of, v.method) for v in verdicts)


def corpus() -> list[Article]:
    return [
        article("wire", range(0, 12), published=1, partition=0),
        article("paper", range(0, 12), published=2, partition=1),  # exact copy, later
        article("blog", range(1, 13), published=1, fetched=5, partition=2),  # near copy, same published_at
        article("radio", range(0, 11), published=0, fetched=9, partition=3),  # truncated, published first
        article("other", range(40, 52), published=1, partition=0),
        article("other-copy", range(40, 51), published=3, partition=1),
    ]


def test_every_input_order_gives_the_same_survivors_and_verdicts() -> None:
    settings = DedupSettings()
    items = corpus()
    expected = outcome(items, settings)
    assert expected[0] == ["other", "radio"]
    assert expected[1] == [
        ("blog", "radio", "near"),
        ("other-copy", "other", "near"),
        ("paper", "radio", "near"),
        ("wire", "radio", "near"),
    ]
    for order in itertools.islice(itertools.permutations(items), 0, None, 37):
        assert outcome(list(order), settings) == expected


def test_a_member_is_only_dropped_into_a_survivor_it_is_similar_to() -> None:
    """A~B and B~C but not A~C: C must not be dropped into A through B."""
    settings = DedupSettings(num_perm=512)
    a = article("a", range(0, 12), published=0)
    b = article("b", range(3, 15), published=1)
    c = article("c", range(6, 18), published=2)
    fp = Deduplicator(settings).fingerprint
    sim = {(x.id, y.id): estimate_jaccard(fp(x).sketch, fp(y).sketch) for x, y in [(a, b), (b, c), (a, c)]}
    assert sim[("a", "b")] >= 0.5 and sim[("b", "c")] >= 0.5 and sim[("a", "c")] < 0.5
    for order in itertools.permutations([a, b, c]):
        assert outcome(list(order), settings) == (["a", "c"], [("b", "a", "near")])
