"""MinHash signatures, LSH band keys and the compact 1-bit sketch that verifies candidates.

One family of multiply-shift hash functions (fixed seed, so every worker and every restart agrees) gives
``bands * rows`` MinHash values for banding and ``sketch_bits`` more for verification. Only the low bit of
each verification value is kept: 1-bit MinHash (Li and König, 2010) estimates Jaccard as ``2 * agree - 1``
at 1/32 of the storage of a 32-bit signature, which is what keeps the index under 1 KB per article. The
banding values are never stored, only hashed into bucket keys; the verification values are drawn from
other hash functions, so sharing a bucket does not bias the estimate. Where the estimate is too close to
the threshold to trust (:func:`estimate_margin`), the shingle samples (:func:`shingle_sample`) measure the
Jaccard instead (``verify.py``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import xxhash

_SEED = 0x6E657773  # "news": changing it invalidates every stored index
_SHIFT = np.uint64(32)


@dataclass(frozen=True)
class Signature:
    """What the index needs from one body: its LSH bucket keys (one per band) and its verification sketch."""

    band_keys: tuple[bytes, ...]
    sketch: bytes


class MinHasher:
    """Computes :class:`Signature` values; vectorised with numpy (one matrix product-and-min per body)."""

    def __init__(self, *, bands: int, rows: int, sketch_bits: int) -> None:
        if sketch_bits % 8:
            raise ValueError("sketch_bits must be a multiple of 8")
        self.bands, self.rows, self.sketch_bits = bands, rows, sketch_bits
        total = bands * rows + sketch_bits
        rng = np.random.Generator(np.random.PCG64(_SEED))
        self._a = rng.integers(1, 2**63, size=total, dtype=np.uint64) | np.uint64(1)
        self._b = rng.integers(0, 2**63, size=total, dtype=np.uint64)

    def minhashes(self, shingles: np.ndarray) -> np.ndarray:
        """The ``bands * rows + sketch_bits`` 32-bit MinHash values of a set of shingle hashes."""
        if shingles.size == 0:
            return np.full(self._a.size, 0xFFFFFFFF, dtype=np.uint64)
        with np.errstate(over="ignore"):
            mixed = (self._a[:, None] * shingles[None, :] + self._b[:, None]) >> _SHIFT
        return mixed.min(axis=1)

    def signature(self, shingles: np.ndarray) -> Signature:
        values = self.minhashes(shingles)
        cut = self.bands * self.rows
        banded = values[:cut].astype(np.uint32).reshape(self.bands, self.rows)
        keys = tuple(
            bytes([band]) + xxhash.xxh64_digest(row.tobytes())[:7] for band, row in enumerate(banded)
        )
        sketch = np.packbits((values[cut:] & np.uint64(1)).astype(np.uint8)).tobytes()
        return Signature(band_keys=keys, sketch=sketch)


def estimate_jaccard(a: bytes, b: bytes) -> float:
    """Jaccard estimated from two 1-bit sketches: bits agree with probability ``(1 + J) / 2``."""
    bits = len(a) * 8
    differ = (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).bit_count()
    return max(0.0, 1.0 - 2.0 * differ / bits)


def estimate_margin(threshold: float, bits: int, z: float = 4.0) -> float:
    """``z`` standard errors of :func:`estimate_jaccard` at a true Jaccard of ``threshold``.

    Each bit agrees with probability ``p = (1 + J) / 2``, so the estimate ``2 * agree - 1`` has standard
    error ``2 * sqrt(p * (1 - p) / bits)``: 0.077 at J = 0.5 over 128 bits. An estimate further than
    ``z = 4`` of them from the threshold is on the right side of it with probability 0.99997.
    """
    p = (1.0 + threshold) / 2.0
    return z * 2.0 * math.sqrt(p * (1.0 - p) / bits)


def shingle_sample(shingles: np.ndarray, size: int) -> bytes:
    """The ``size`` smallest distinct shingle hashes (top 32 bits), sorted: every shingle of a body of up
    to ``size`` shingles, else a bottom-k sample that estimates Jaccard with standard error
    ``sqrt(J (1 - J) / size)`` (0.022 at J = 0.5 for 512)."""
    top = np.unique((shingles >> _SHIFT).astype(np.uint32))
    return top[:size].astype("<u4").tobytes()


def sample_jaccard(a: bytes, b: bytes, size: int) -> float:
    """Jaccard of two :func:`shingle_sample` values: exact when both hold all their body's shingles.

    Of the union's ``size`` smallest hashes, the share found in both; a hash among the union's smallest
    is among each set's smallest, so a sample answers for it as its whole set would (Broder's bottom-k).
    """
    x, y = np.frombuffer(a, dtype="<u4"), np.frombuffer(b, dtype="<u4")
    union = np.union1d(x, y)
    if x.size >= size or y.size >= size:
        union = union[:size]
    if union.size == 0:
        return 1.0
    common = np.intersect1d(x, y, assume_unique=True)
    return int(np.count_nonzero(common <= union[-1])) / union.size
