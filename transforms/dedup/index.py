"""The dedup index as pure functions over one key's entries: fingerprint, candidates, insert.

Every backend (a dict, SQLite, Beam keyed state) stores, per index key, one ``bytes`` blob of packed
entries. An index key is a canonical URL (``u``), a content hash (``h``: of the cleaned body, and of the
input it was cleaned from where that differs, ``Article.input_hash``) or one LSH band bucket (``b``),
so the index shards by key on any runner. An entry is 16 bytes of arrival rank, the 1-bit sketch (URL and
band keys only) and the article id; nothing else about the article is kept.

The rule is delivery order (see README, "The rule"): an entry in the index is an article that was
delivered, so an article that matches *any* entry is its duplicate, whatever either one's dates. Only
articles still in flight together (one micro-batch, one watermark step) are ordered among themselves, by
their arrival rank ``(Kafka timestamp ms, topic, partition, offset)``, then ``published_at``, then id:
the wrappers decide them in that order, so the tie-break is the same on every replay.

A near (or URL) candidate is *certain* when its sketch estimate is further than
:func:`minhash.estimate_margin` from the threshold; one closer than that is settled on the two articles'
shingle samples where they are at hand (``verify.py``), else on the estimate. An exact-content match
always wins over any other: exact copies collapse onto one delivered article.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import structlog
import xxhash
from apache_beam.metrics import Metrics

from transforms.dedup.minhash import MinHasher, estimate_jaccard, estimate_margin, shingle_sample
from transforms.dedup.settings import DedupSettings
from transforms.dedup.shingles import hash_normalised, normalise, shingle_hashes
from transforms.records import Article

log = structlog.get_logger(__name__)

URL, EXACT, NEAR = "url", "exact", "near"
METHOD_RANK = {URL: 0, EXACT: 1, NEAR: 2}
ARRIVAL_BYTES = 16
_NO_DATE = 2**62
_HEX_ID = re.compile(r"[0-9a-f]{32}")


@dataclass(frozen=True)
class Fingerprint:
    """Everything dedup needs from an article, computed once; small enough to ship between Beam stages."""

    article_id: str
    id_bytes: bytes
    arrival: bytes
    event_s: int
    content_hash: str
    sketch: bytes
    keys: tuple[tuple[bytes, str], ...]
    published_ms: int = _NO_DATE
    sample: bytes = b""

    @property
    def rank(self) -> tuple[bytes, bytes]:
        """What an index entry stores of the article's place: its arrival rank and id (a replay's own entry
        has the same rank)."""
        return (self.arrival, self.id_bytes)

    @property
    def arrival_s(self) -> int:
        return int.from_bytes(self.arrival[:6], "big") // 1000

    @property
    def order(self) -> tuple[bytes, int, bytes]:
        """The tie-break among articles in flight together: arrival first, ``published_at`` only where
        arrival is equal (undated last), then the id."""
        return (self.arrival, self.published_ms, self.id_bytes)


@dataclass(frozen=True)
class Match:
    """An entry an article matched (``rank`` orders matches). ``certain`` is false for a near or URL
    match whose sketch estimate (``similarity``) is within the margin of the threshold: it still has to
    be verified on the shingle samples."""

    rank: tuple
    article_id: str
    method: str
    similarity: float
    certain: bool = True


@dataclass(frozen=True)
class Entry:
    arrival: bytes
    sketch: bytes
    id_bytes: bytes

    @property
    def event_s(self) -> int:
        """The entry's arrival second: what the horizon and expiry measure."""
        return int.from_bytes(self.arrival[:6], "big") // 1000

    @property
    def rank(self) -> tuple[bytes, bytes]:
        return (self.arrival, self.id_bytes)


def encode_id(article_id: str) -> bytes:
    """32-hex ids (``records.stable_id``) take 17 bytes; any other id is kept verbatim, length-prefixed."""
    if _HEX_ID.fullmatch(article_id):
        return b"\x00" + bytes.fromhex(article_id)
    raw = article_id.encode("utf-8")
    if not 0 < len(raw) < 256:
        raise ValueError("article id must be 1..255 bytes")
    return bytes([len(raw)]) + raw


def decode_id(id_bytes: bytes) -> str:
    return id_bytes[1:].hex() if id_bytes[0] == 0 else id_bytes[1:].decode("utf-8")


def event_seconds(article: Article, fallback_s: int = 0) -> int:
    """Event time of an article (the batch rule's horizon): when it was fetched, else published, else
    ``fallback_s``."""
    stamp: datetime | None = article.fetched_at or article.published_at
    return max(0, int(stamp.timestamp())) if stamp else max(0, fallback_s)


def arrival_rank(article: Article, arrival_ms: int = 0) -> bytes:
    """``(arrival ms, topic, partition, offset)`` packed so that byte order is arrival order.

    ``arrival_ms`` is the Kafka record's timestamp (the element timestamp in Beam); without one (0) the
    article's event time stands in, so files and tests still get a time for the horizon.
    """
    if arrival_ms <= 0:
        arrival_ms = event_seconds(article) * 1000
    pos = article.source_position
    topic = zlib.crc32(pos.topic.encode("utf-8")) & 0xFFFF if pos else 0
    partition = min(pos.partition, 0xFFFF) if pos else 0
    offset = min(max(pos.offset, 0), 2**48 - 1) if pos else 0
    return (
        min(max(arrival_ms, 0), 2**48 - 1).to_bytes(6, "big")
        + topic.to_bytes(2, "big")
        + partition.to_bytes(2, "big")
        + offset.to_bytes(6, "big")
    )


@dataclass(frozen=True)
class BodyPrint:
    """What a fingerprint takes from the body alone: the costly part (normalising, shingles, MinHash, the
    sample), pure, so it can be computed wherever the body is final (a chain worker) and travel with the
    article off the wire (``Article.body_print``). It names the body and settings it was computed for
    (:meth:`fits`), so one that no longer fits is computed again, never used."""

    body_check: int
    shape: tuple[int, ...]
    content_hash: str
    sketch: bytes
    band_keys: tuple[bytes, ...]
    sample: bytes

    def fits(self, body: str, settings: DedupSettings) -> bool:
        return self.shape == _shape(settings) and self.body_check == _body_check(body)


def _shape(settings: DedupSettings) -> tuple[int, ...]:
    """The settings a body print depends on (not the threshold: it only compares prints)."""
    return (settings.shingle_size, settings.sample_size, settings.bands, settings.rows, settings.num_perm)


def _body_check(body: str) -> int:
    return xxhash.xxh3_64_intdigest(body.encode("utf-8", "surrogatepass"))


def body_print(body: str, settings: DedupSettings, hasher: MinHasher) -> BodyPrint:
    """The body's part of :func:`fingerprint` (``hasher`` made from ``settings``)."""
    text = normalise(body)
    shingles = shingle_hashes(text, settings.shingle_size)
    signature = hasher.signature(shingles)
    return BodyPrint(
        body_check=_body_check(body),
        shape=_shape(settings),
        content_hash=hash_normalised(text),
        sketch=signature.sketch,
        band_keys=signature.band_keys,
        sample=shingle_sample(shingles, settings.sample_size),
    )


def print_of(article: Article, settings: DedupSettings, hasher: MinHasher) -> BodyPrint:
    """``article.body_print`` when it was made ahead for this body and these settings, else made here."""
    ahead = article.body_print
    if isinstance(ahead, BodyPrint) and ahead.fits(article.body, settings):
        return ahead
    return body_print(article.body, settings, hasher)


def fingerprint(
    article: Article, settings: DedupSettings, hasher: MinHasher, arrival_ms: int = 0
) -> Fingerprint:
    """Everything dedup needs from ``article``; its body's part from ``article.body_print`` when that was
    computed ahead for this body and these settings, else computed here."""
    body = print_of(article, settings, hasher)
    keys: list[tuple[bytes, str]] = []
    if article.canonical_url:
        keys.append((b"u" + xxhash.xxh128_digest(article.canonical_url.encode("utf-8"))[:15], URL))
    keys.append((b"h" + bytes.fromhex(body.content_hash)[:15], EXACT))
    if article.input_hash and article.input_hash != body.content_hash:
        keys.append((b"h" + bytes.fromhex(article.input_hash)[:15], EXACT))  # a copy of the same input
    keys.extend((b"b" + key, NEAR) for key in body.band_keys)
    return Fingerprint(
        article_id=article.id,
        id_bytes=encode_id(article.id),
        arrival=arrival_rank(article, arrival_ms),
        event_s=event_seconds(article, arrival_ms // 1000),
        content_hash=body.content_hash,
        sketch=body.sketch,
        keys=tuple(keys),
        published_ms=int(article.published_at.timestamp() * 1000) if article.published_at else _NO_DATE,
        sample=body.sample,
    )


def _sketch_len(kind: str, settings: DedupSettings) -> int:
    return 0 if kind == EXACT else settings.num_perm // 8


def iter_entries(blob: bytes | None, kind: str, settings: DedupSettings) -> Iterator[Entry]:
    if not blob:
        return
    width = ARRIVAL_BYTES + _sketch_len(kind, settings)
    pos = 0
    while pos < len(blob):
        id_len = 17 if blob[pos + width] == 0 else 1 + blob[pos + width]
        end = pos + width + id_len
        yield Entry(
            blob[pos : pos + ARRIVAL_BYTES],
            blob[pos + ARRIVAL_BYTES : pos + width],
            blob[pos + width : end],
        )
        pos = end


def pack(entries: list[Entry]) -> bytes:
    return b"".join(e.arrival + e.sketch + e.id_bytes for e in entries)


def candidates(
    blob: bytes | None, fp: Fingerprint, kind: str, settings: DedupSettings, *, own: bool = False
) -> list[Match]:
    """Every entry of this key that ``fp`` may duplicate, whatever either one's dates: every entry is a
    delivered article (delivery order, see the module doc).

    URL matches are verified like near ones: an update at the same URL that changes the body by more than
    the threshold is a new version, not a duplicate. An estimate below the threshold by more than the
    margin is no candidate; one within the margin is uncertain. ``fp``'s own entry (a replay of a
    survivor) is skipped unless ``own`` (a backfill checked against the live index: live consumers
    already have it). Entries that arrived more than the horizon before ``fp`` never match, so a verdict
    does not depend on when a store got round to expiring them.
    """
    found: list[Match] = []
    oldest = fp.arrival_s - settings.horizon_ms // 1000
    margin = estimate_margin(settings.threshold, settings.num_perm)
    for entry in iter_entries(blob, kind, settings):
        if (not own and entry.rank == fp.rank) or entry.event_s < oldest:
            continue
        similarity = 1.0 if kind == EXACT else estimate_jaccard(entry.sketch, fp.sketch)
        if similarity >= settings.threshold - margin:
            certain = kind == EXACT or similarity >= settings.threshold + margin
            found.append(Match(entry.rank, decode_id(entry.id_bytes), kind, similarity, certain))
    return found


def settled(match: Match, similarity: float, settings: DedupSettings) -> Match | None:
    """``match`` as a verdict if ``similarity`` (its estimate, or its measured Jaccard) reaches the
    threshold; a URL match reports 1.0, as the same address does."""
    if similarity < settings.threshold:
        return None
    return Match(match.rank, match.article_id, match.method, 1.0 if match.method != NEAR else similarity)


def insert(
    blob: bytes | None, fp: Fingerprint, kind: str, settings: DedupSettings, now_s: int
) -> tuple[bytes, int]:
    """``blob`` with ``fp`` added, entries older than the horizon dropped, and only the newest
    ``max_per_bucket`` kept; and how many entries within the horizon that cap pushed out.

    The cap bounds each article's work (at most ``max_per_bucket`` candidates a key), so a flood of
    template stories sharing a band key costs each new one the same; an article it pushes out can no
    longer be found through this key (only through its others), which is what the count is for."""
    oldest = now_s - settings.horizon_ms // 1000
    entries = [e for e in iter_entries(blob, kind, settings) if e.event_s >= oldest and e.rank != fp.rank]
    entries.append(Entry(fp.arrival, fp.sketch if kind != EXACT else b"", fp.id_bytes))
    entries.sort(key=lambda e: e.rank)
    kept = entries[-settings.max_per_bucket :]
    return pack(kept), len(entries) - len(kept)


def count_evicted(evicted: int, fp: Fingerprint) -> None:
    """The ``dedup.evicted`` counter, and a debug line naming the article whose index writes pushed the
    entries out (a flood of near-identical stories fills its band keys)."""
    if evicted:
        Metrics.counter("newsflow", "dedup.evicted").inc(evicted)
        log.debug("dedup_evicted", id=fp.article_id, entries=evicted)


def newest_second(blob: bytes, kind: str, settings: DedupSettings) -> int:
    return max((e.event_s for e in iter_entries(blob, kind, settings)), default=0)


def preference(match: Match) -> tuple:
    """How matches of one article are ranked: an exact-content match before any other (exact copies
    collapse onto one article even when an earlier delivered story is also near), then the
    earliest-arrived matched article, and for that article the strongest method (url, exact, near)."""
    return (match.method != EXACT, match.rank, METHOD_RANK[match.method], -match.similarity)
