"""The streaming dedup rule as one plain object: check articles one at a time against a store.

Used by ``newsflow process``, the benchmarks and, with a :class:`SqliteStore`, anywhere the index has to
survive a restart. Only survivors are indexed, so every duplicate points at an article that was delivered
and that it is verified to be similar to.
"""

from __future__ import annotations

import structlog

from transforms.dedup.index import Fingerprint, choose, fingerprint, insert, newest_second, probe
from transforms.dedup.minhash import MinHasher
from transforms.dedup.settings import DedupSettings
from transforms.dedup.store import KeyStore, MemoryStore
from transforms.dedup.verdicts import annotate, verdict
from transforms.records import Article, DuplicateVerdict

log = structlog.get_logger(__name__)


class Deduplicator:
    """First arrival survives; a later article similar to an earlier-priority survivor is dropped."""

    def __init__(
        self,
        settings: DedupSettings | None = None,
        store: KeyStore | None = None,
        *,
        expire_every: int = 10_000,
    ) -> None:
        self.settings = settings or DedupSettings()
        self.store: KeyStore = store if store is not None else MemoryStore()
        self.hasher = MinHasher(
            bands=self.settings.bands, rows=self.settings.rows, sketch_bits=self.settings.num_perm
        )
        self.clock_s = 0
        self.expire_every = expire_every
        self._since_expiry = 0

    def fingerprint(self, article: Article, fallback_s: int = 0) -> Fingerprint:
        return fingerprint(article, self.settings, self.hasher, fallback_s)

    def check(self, article: Article, *, fallback_s: int = 0) -> tuple[Article, DuplicateVerdict | None]:
        """The article with ``dedup`` filled in, and the verdict if it is a duplicate (else ``None``).

        ``fallback_s`` (epoch seconds, e.g. the Kafka record timestamp) is the event time of an article
        with neither ``fetched_at`` nor ``published_at``.
        """
        fp = self.fingerprint(article, fallback_s)
        keys = [key for key, _ in fp.keys]
        blobs = self.store.get_many(keys)
        match = choose(
            [probe(blob, fp, kind, self.settings) for blob, (_, kind) in zip(blobs, fp.keys, strict=True)]
        )
        self._tick(fp.event_s)
        annotated = annotate(article, fp, match)
        if match:
            log.debug("duplicate", id=article.id, duplicate_of=match.article_id, method=match.method)
            return annotated, verdict(annotated, match)
        writes = []
        for blob, (key, kind) in zip(blobs, fp.keys, strict=True):
            updated = insert(blob, fp, kind, self.settings, self.clock_s)
            writes.append((key, updated, newest_second(updated, kind, self.settings)))
        self.store.put_many(writes)
        return annotated, None

    def _tick(self, event_s: int) -> None:
        """Advance the event-time clock (the newest event seen) and expire idle keys now and then."""
        self.clock_s = max(self.clock_s, event_s)
        self._since_expiry += 1
        if self._since_expiry >= self.expire_every:
            self._since_expiry = 0
            dropped = self.store.expire(self.clock_s - self.settings.horizon_ms // 1000)
            log.debug("dedup_expired", keys=dropped, clock_s=self.clock_s)

    def close(self) -> None:
        self.store.close()
