"""Exact-span precision, recall and F1 per class and micro-averaged, as the CoNLL evaluation counts them, and
where the errors are."""

from __future__ import annotations

from collections import Counter
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


def error_classes(
    gold: Iterable[set[Span]], predicted: Iterable[set[Span]], labels: tuple[str, ...] = ("PER", "ORG", "LOC")
) -> Counter:
    """Where a set's errors are, as the issue counts them: a predicted span with gold's exact offsets but
    another type is a type confusion (``LOC->ORG``: gold LOC, ours ORG), one that overlaps a gold span is a
    boundary error, one that overlaps none is spurious; a gold span that nothing overlaps is missed."""
    out: Counter = Counter()
    for g, p in zip(gold, predicted, strict=True):
        g = {s for s in g if s[2] in labels}
        p = {s for s in p if s[2] in labels}
        for s, e, lab in p - g:
            same = [x for x in g if x[:2] == (s, e)]
            if same:
                out[f"type {same[0][2]}->{lab}"] += 1
            elif any(x[0] < e and s < x[1] for x in g):
                out["boundary"] += 1
            else:
                out[f"spurious {lab}"] += 1
        out.update(f"missed {lab}" for s, e, lab in g - p if not any(x[0] < e and s < x[1] for x in p))
    return out
