"""Near matches close to the threshold, settled on the articles' shingles instead of the 128-bit sketch.

The 1-bit sketch estimates Jaccard with a standard error of 0.077 at J = 0.5, so two different stories
that share a true Jaccard of 0.42 pass a 0.5 threshold about one time in seven; in the arrival-order
benchmark one such pair took a whole cluster of exact copies with it. A candidate whose estimate is within
:func:`minhash.estimate_margin` of the threshold (4 standard errors) is therefore measured on the two
articles' shingle samples (:func:`minhash.shingle_sample`: every shingle of a body up to ``sample_size``
of them, a bottom-k sample of longer ones). Estimates outside the margin are decided as before, so only
pairs near the threshold pay for it.

Every delivered article's sample is kept in the store under its own key (:func:`sample_key`, newest
second its arrival, so it expires with its entries); the index entries stay 16 bytes of sketch, and only a
candidate within the margin reads a sample. An index written before samples existed (no key) falls back
to the estimate.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

from transforms.dedup.index import EXACT, Fingerprint, Match, encode_id, preference, settled
from transforms.dedup.minhash import estimate_jaccard, estimate_margin, sample_jaccard
from transforms.dedup.settings import DedupSettings

Samples = Callable[[Sequence[bytes]], list[bytes | None]]


def sample_key(id_bytes: bytes) -> bytes:
    """The store key of an article's shingle sample (``s`` and its encoded id)."""
    return b"s" + id_bytes


def sample_write(fp: Fingerprint) -> tuple[bytes, bytes, int]:
    """The ``(key, blob, newest second)`` that keeps a survivor's sample next to its index entries."""
    return sample_key(fp.id_bytes), fp.sample, fp.arrival_s


def unsure(matches: Iterable[Match]) -> list[bytes]:
    """The encoded ids of the candidates a verdict on ``matches`` has to measure: the uncertain ones
    ranked (:func:`index.preference`) before the first certain one. Empty when nothing needs a sample."""
    ids: list[bytes] = []
    for match in sorted(matches, key=preference):
        if match.certain:
            break
        ids.append(encode_id(match.article_id))
    return list(dict.fromkeys(ids))


def settle(
    matches: Iterable[Match], fp: Fingerprint, settings: DedupSettings, stored: Mapping[bytes, bytes]
) -> Match | None:
    """The verdict among all keys' candidates: the first by :func:`index.preference` that is certain or
    whose Jaccard reaches the threshold, measured on its sample in ``stored`` (by encoded id; the
    estimate where its sample is missing)."""
    for match in sorted(matches, key=preference):
        measured = match.similarity
        sample = None if match.certain else stored.get(encode_id(match.article_id))
        if sample is not None:
            measured = sample_jaccard(fp.sample, sample, settings.sample_size)
        found = settled(match, measured, settings)
        if found or match.certain:
            return found
    return None


def verified(
    matches: Iterable[Match], fp: Fingerprint, settings: DedupSettings, samples: Samples
) -> Match | None:
    """:func:`settle` with the samples read through ``samples`` (stored samples by key): called at most
    once, for the :func:`unsure` candidates."""
    matches = list(matches)
    ids = unsure(matches)
    found = samples([sample_key(i) for i in ids]) if ids else []
    stored = {i: s for i, s in zip(ids, found, strict=True) if s is not None}
    return settle(matches, fp, settings, stored)


def similarity(earlier: Fingerprint, later: Fingerprint, kind: str, settings: DedupSettings) -> float:
    """Similarity of two fingerprints in hand (the batch rule): 1.0 for an exact key, else the sketch
    estimate, measured on the samples when it is within the margin of the threshold."""
    if kind == EXACT:
        return 1.0
    estimate = estimate_jaccard(earlier.sketch, later.sketch)
    margin = estimate_margin(settings.threshold, settings.num_perm)
    if abs(estimate - settings.threshold) >= margin or not (earlier.sample and later.sample):
        return estimate
    return sample_jaccard(earlier.sample, later.sample, settings.sample_size)
