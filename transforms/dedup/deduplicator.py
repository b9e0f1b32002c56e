"""The streaming dedup rule as one plain object: decide articles in delivery order against a store.

This is the one rule; ``newsflow process`` (one input at a time), the local stream's micro-batches
(:class:`transforms.dedup.beam.Deduplicate` with a ``state_dir``) and the benchmarks all call it. Every
article that matches an indexed article is its duplicate, whatever the dates; articles in flight together
are decided in their arrival order (:meth:`check_many`). Only survivors are indexed, so every
``duplicate_of`` names an article that was delivered and that it is verified similar to: no chains.
A near match close to the threshold is measured on the two articles' shingle samples (``verify.py``), and
an exact-content match wins over any near one.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import structlog

from transforms.dedup.index import Fingerprint, candidates, count_evicted, fingerprint, insert, newest_second
from transforms.dedup.settings import DedupSettings
from transforms.dedup.store import KeyStore, MemoryStore
from transforms.dedup.verdicts import annotate, verdict
from transforms.dedup.verify import sample_write, verified
from transforms.records import Article, DuplicateVerdict

log = structlog.get_logger(__name__)


class Deduplicator:
    """Delivery order: the first copy decided survives; every later similar copy points at it."""

    def __init__(
        self,
        settings: DedupSettings | None = None,
        store: KeyStore | None = None,
        *,
        expire_every: int = 10_000,
    ) -> None:
        self.settings = settings or DedupSettings()
        self.store: KeyStore = store if store is not None else MemoryStore()
        self.hasher = self.settings.hasher()
        self.clock_s = 0
        self.expire_every = expire_every
        self._since_expiry = 0

    def fingerprint(self, article: Article, arrival_ms: int = 0) -> Fingerprint:
        return fingerprint(article, self.settings, self.hasher, arrival_ms)

    def check(self, article: Article, *, arrival_ms: int = 0) -> tuple[Article, DuplicateVerdict | None]:
        """The article with ``dedup`` filled in, and the verdict if it is a duplicate (else ``None``).

        ``arrival_ms`` (epoch ms, the Kafka record's timestamp) places the article in arrival order and
        on the horizon; without one its event time does.
        """
        return self.decide(article, self.fingerprint(article, arrival_ms))

    def check_many(
        self, items: Iterable[tuple[Article, int]]
    ) -> Iterator[tuple[Article, DuplicateVerdict | None]]:
        """``(article, arrival_ms)`` in flight together (one micro-batch), decided in arrival order
        (:attr:`Fingerprint.order`), whatever order they are given in; results in that order."""
        fps = sorted(((self.fingerprint(a, ms), a) for a, ms in items), key=lambda x: x[0].order)
        for fp, article in fps:
            yield self.decide(article, fp)

    def decide(self, article: Article, fp: Fingerprint) -> tuple[Article, DuplicateVerdict | None]:
        """The rule for one article whose earlier arrivals have all been decided."""
        blobs = self.store.get_many([key for key, _ in fp.keys])
        found = [
            m
            for blob, (_, kind) in zip(blobs, fp.keys, strict=True)
            for m in candidates(blob, fp, kind, self.settings)
        ]
        match = verified(found, fp, self.settings, self.store.get_many)
        self._tick(fp.arrival_s)
        annotated = annotate(article, fp, match)
        if match:
            log.debug("duplicate", id=article.id, duplicate_of=match.article_id, method=match.method)
            return annotated, verdict(annotated, match)
        writes, evicted = [], 0
        for blob, (key, kind) in zip(blobs, fp.keys, strict=True):
            updated, pushed_out = insert(blob, fp, kind, self.settings, self.clock_s)
            evicted += pushed_out
            writes.append((key, updated, newest_second(updated, kind, self.settings)))
        count_evicted(evicted, fp)
        writes.append(sample_write(fp))
        self.store.put_many(writes)
        return annotated, None

    def _tick(self, arrival_s: int) -> None:
        """Advance the clock (the newest arrival seen) and expire idle keys now and then."""
        self.clock_s = max(self.clock_s, arrival_s)
        self._since_expiry += 1
        if self._since_expiry >= self.expire_every:
            self._since_expiry = 0
            dropped = self.store.expire(self.clock_s - self.settings.horizon_ms // 1000)
            log.debug("dedup_expired", keys=dropped, clock_s=self.clock_s)

    def close(self) -> None:
        self.store.close()
