"""Batch (backfill) dedup: the same survivors whatever the input order.

Every pair of articles that share an index key is verified once; then, walking all articles of all
verified pairs in the stable order ``(published_at, fetched_at, id, source position)``, an article is a
duplicate of the earliest *surviving* article it is verified-similar to. Pointing only at survivors is
what breaks transitive chains: A~B and B~C with A and C dissimilar keeps A and C, drops B into A. The
earliest article of every group is never dropped, so no cluster disappears.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from transforms.dedup.index import METHOD_RANK, NEAR, Fingerprint, Match, count_evicted
from transforms.dedup.settings import DedupSettings
from transforms.dedup.verdicts import annotate, verdict
from transforms.dedup.verify import similarity
from transforms.records import Article, DuplicateVerdict

_NEVER = 2**62


@dataclass(frozen=True)
class Member:
    """One article as a batch index key sees it: its stable rank, a unique token and its fingerprint."""

    rank: tuple[int, int, str, bytes]
    token: str
    fp: Fingerprint


@dataclass(frozen=True)
class Pair:
    """``later`` is verified similar to the earlier ``match``."""

    later: str
    later_rank: tuple[int, int, str, bytes]
    earlier: str
    match: Match


def _millis(stamp: datetime | None) -> int:
    return int(stamp.timestamp() * 1000) if stamp else _NEVER


def token(fp: Fingerprint) -> str:
    """Unique per input record: the article id and where (and when) it was read."""
    return f"{fp.article_id}:{fp.arrival.hex()}"


def member(article: Article, fp: Fingerprint) -> Member:
    rank = (_millis(article.published_at), _millis(article.fetched_at), article.id, fp.arrival)
    return Member(rank, token(fp), fp)


def pairs_in_group(kind: str, members: Iterable[Member], settings: DedupSettings) -> Iterator[Pair]:
    """Verified pairs among the members of one index key, each article against at most
    ``2 * max_per_bucket`` earlier ones: the key's first ``max_per_bucket`` and the ``max_per_bucket``
    just before it (in rank order, so the windows do not depend on input order).

    The work per article is bounded as in the stream. The first members are kept in view because they are
    the ones that survive: in a flood of copies all later ones are duplicates, so with only the preceding
    window every 33rd exact copy found no surviving match and survived too (10,000 exact copies left 303,
    where the stream leaves one). The members some later article no longer sees are counted as the stream
    counts the entries its cap pushes out (``dedup.evicted``)."""
    ordered = sorted(members, key=lambda m: m.rank)
    cap = settings.max_per_bucket
    if ordered:
        count_evicted(max(0, len(ordered) - 1 - 2 * cap), ordered[-1].fp)
    horizon_s = settings.horizon_ms // 1000
    for j, later in enumerate(ordered):
        for earlier in ordered[: min(cap, max(0, j - cap))] + ordered[max(0, j - cap) : j]:
            if earlier.token == later.token or abs(later.fp.event_s - earlier.fp.event_s) > horizon_s:
                continue
            measured = similarity(earlier.fp, later.fp, kind, settings)
            if measured >= settings.threshold:
                found = Match(earlier.rank, earlier.fp.article_id, kind, measured if kind == NEAR else 1.0)
                yield Pair(later.token, later.rank, earlier.token, found)


def resolve(pairs: Iterable[Pair]) -> dict[str, Match]:
    """Duplicate token -> the surviving article it duplicates, by the stable rank."""
    earlier: dict[str, list[tuple[str, Match]]] = defaultdict(list)
    rank: dict[str, tuple] = {}
    for pair in pairs:
        earlier[pair.later].append((pair.earlier, pair.match))
        rank[pair.later] = pair.later_rank
        rank[pair.earlier] = pair.match.rank
    dropped: dict[str, Match] = {}
    for tok in sorted(earlier, key=lambda t: rank[t]):
        alive = [m for t, m in earlier[tok] if t not in dropped]
        if alive:
            dropped[tok] = min(alive, key=lambda m: (m.rank, METHOD_RANK[m.method], -m.similarity))
    return dropped


def batch_pairs(members: Iterable[Member], settings: DedupSettings) -> list[Pair]:
    """All verified pairs of a batch held in memory (Beam does the grouping itself, see ``beam.py``)."""
    groups: dict[tuple[bytes, str], list[Member]] = defaultdict(list)
    for m in members:
        for key, kind in m.fp.keys:
            groups[(key, kind)].append(m)
    return [
        p
        for (_, kind), group in groups.items()
        if len(group) > 1
        for p in pairs_in_group(kind, group, settings)
    ]


def dedup_batch(
    articles: Iterable[Article], settings: DedupSettings, fingerprint_of: Callable[[Article], Fingerprint]
) -> tuple[list[Article], list[DuplicateVerdict]]:
    """The batch rule in memory (no Beam): survivors with ``dedup`` filled, and the verdicts."""
    items = [(a, member(a, fingerprint_of(a))) for a in articles]
    dropped = resolve(batch_pairs((m for _, m in items), settings))
    survivors, verdicts = [], []
    for article, m in items:
        found = dropped.get(m.token)
        annotated = annotate(article, m.fp, found)
        if found:
            verdicts.append(verdict(annotated, found))
        else:
            survivors.append(annotated)
    return survivors, verdicts
