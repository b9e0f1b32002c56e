"""Turning a match into the data consumers see: the ``DuplicateVerdict`` and the article's ``dedup`` field."""

from __future__ import annotations

import dataclasses

from transforms.dedup.index import Fingerprint, Match
from transforms.records import Article, Dedup, DuplicateVerdict, utcnow


def annotate(article: Article, fp: Fingerprint, match: Match | None) -> Article:
    """``dedup`` filled in: the content hash, and the cluster (the survivor's id; its own id if it survives)."""
    cluster = match.article_id if match else article.id
    dedup = Dedup(content_hash=fp.content_hash, cluster_id=cluster)
    return dataclasses.replace(article, dedup=dedup, body_print=None)  # used: no need to carry it further


def verdict(article: Article, match: Match) -> DuplicateVerdict:
    return DuplicateVerdict(
        id=article.id,
        duplicate_of=match.article_id,
        method=match.method,
        similarity=round(match.similarity, 4),
        source_position=article.source_position,
        url=article.url,
        source=article.source,
        detected_at=utcnow(),
    )
