"""Exact-span precision, recall and F1 per class and micro-averaged, as the CoNLL evaluation counts them, and
where the errors are."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from transforms.entities.conll import Span
from transforms.entities.rules import TITLES


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
    gold: Iterable[set[Span]],
    predicted: Iterable[set[Span]],
    labels: tuple[str, ...] = ("PER", "ORG", "LOC"),
    texts: Iterable[str] | None = None,
) -> Counter:
    """Where a set's errors are, as the issue counts them: a predicted span with gold's exact offsets but
    another type is a type confusion (``LOC->ORG``: gold LOC, ours ORG), one that overlaps a gold span is a
    boundary error, one that overlaps none is spurious; a gold span that nothing overlaps is missed. With the
    documents' ``texts``, a boundary error is named by what the two spans differ in (``boundary_kind``)."""
    out: Counter = Counter()
    gold, predicted = list(gold), list(predicted)
    docs = list(texts) if texts is not None else [None] * len(gold)
    for g, p, text in zip(gold, predicted, docs, strict=True):
        g = {s for s in g if s[2] in labels}
        p = {s for s in p if s[2] in labels}
        for s, e, lab in p - g:
            same = [x for x in g if x[:2] == (s, e)]
            overlapping = [x for x in g if x[0] < e and s < x[1]]
            if same:
                out[f"type {same[0][2]}->{lab}"] += 1
            elif overlapping:
                kind = boundary_kind(text, overlapping[0], (s, e, lab)) if text is not None else None
                out[f"boundary ({kind})" if kind else "boundary"] += 1
            else:
                out[f"spurious {lab}"] += 1
        out.update(f"missed {lab}" for s, e, lab in g - p if not any(x[0] < e and s < x[1] for x in p))
    return out


_DETERMINERS = frozenset({"the", "a", "an"})
_POSSESSIVES = frozenset({"'s", "’s", "'", "’"})
_BRIDGES = frozenset({"of", "in", "at", "for", "and", "from", "on", "&"})


def boundary_kind(text: str, gold: Span, ours: Span) -> str:
    """What a gold span and an overlapping predicted one differ in: a leading ``title`` ("Professor" of
    "Professor Eastman", which CoNLL-2003 and OntoNotes leave out of a name and GUM keeps), a ``determiner``
    ("the"), a ``possessive`` ("'s"), a ``bridge`` (one span joins two names over a preposition or "and":
    "Tanya Chan of the Civic Party"), else ``other``."""
    (g0, g1, _), (p0, p1, _) = gold, ours
    words = (text[min(g0, p0) : max(g0, p0)] + " " + text[min(g1, p1) : max(g1, p1)]).split()
    folded = [w.casefold() for w in words]
    if not folded:
        return "other"
    if g1 == p1 and g0 < p0 and all(w in TITLES or w.rstrip(".") in TITLES for w in folded):
        return "title"
    if all(w in _DETERMINERS for w in folded):
        return "determiner"
    if all(w in _POSSESSIVES for w in folded):
        return "possessive"
    if (g0 <= p0 and p1 <= g1 or p0 <= g0 and g1 <= p1) and any(w in _BRIDGES for w in words):
        return "bridge"
    return "other"
