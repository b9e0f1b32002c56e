"""Exact-span precision, recall and F1 per class and micro-averaged, as the CoNLL evaluation counts them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from transforms.entities.conll import Span


@dataclass(frozen=True)
class PRF:
    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def score_spans(
    gold: Iterable[set[Span]], pred: Iterable[set[Span]], labels: tuple[str, ...] = ("PER", "ORG", "LOC")
) -> dict[str, PRF]:
    """Per-label and ``micro`` counts over parallel per-document gold and predicted span sets."""
    counts = {lab: [0, 0, 0] for lab in labels}
    for g, p in zip(gold, pred, strict=True):
        g = {s for s in g if s[2] in counts}
        p = {s for s in p if s[2] in counts}
        for s in g & p:
            counts[s[2]][0] += 1
        for s in p - g:
            counts[s[2]][1] += 1
        for s in g - p:
            counts[s[2]][2] += 1
    out = {lab: PRF(*c) for lab, c in counts.items()}
    out["micro"] = PRF(*(sum(c[i] for c in counts.values()) for i in range(3)))
    return out
