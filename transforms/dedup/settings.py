"""Dedup settings. Defaults come from ``benchmarks/dedup.py`` (see transforms/dedup/README.md)."""

from __future__ import annotations

from dataclasses import dataclass

from transforms.dedup.minhash import MinHasher

DAY_MS = 86_400_000


@dataclass(frozen=True)
class DedupSettings:
    """How near is near, how the LSH index is banded, and how long and how much it remembers.

    ``num_perm`` MinHash functions feed the 1-bit verification sketch; ``bands * rows`` more feed the LSH
    bucket keys. A pair whose true Jaccard is J becomes a candidate with probability
    ``1 - (1 - J**rows) ** bands`` and is kept as a duplicate when its Jaccard is ``>= threshold``: the
    sketch's estimate where it is clearly on one side, else measured on the two articles' shingle samples
    of ``sample_size`` (every shingle of a body up to that many; see ``verify.py``).
    """

    threshold: float = 0.5
    num_perm: int = 128
    bands: int = 14
    rows: int = 3
    shingle_size: int = 3
    horizon_days: float = 7.0
    max_per_bucket: int = 32
    sample_size: int = 512

    def __post_init__(self) -> None:
        if not 0.0 < self.threshold <= 1.0:
            raise ValueError("threshold must be in (0, 1]")
        if self.num_perm <= 0 or self.num_perm % 8:
            raise ValueError("num_perm must be a positive multiple of 8")
        if not 0 < self.bands < 256 or self.rows <= 0:
            raise ValueError("bands must be in 1..255 and rows positive")
        if min(self.shingle_size, self.max_per_bucket, self.sample_size) <= 0 or self.horizon_days <= 0:
            raise ValueError("shingle_size, max_per_bucket, sample_size and horizon_days must be positive")

    def hasher(self) -> MinHasher:
        """The MinHash functions these settings call for (seeded: every process gets the same ones)."""
        return MinHasher(bands=self.bands, rows=self.rows, sketch_bits=self.num_perm)

    @property
    def horizon_ms(self) -> int:
        return int(self.horizon_days * DAY_MS)
