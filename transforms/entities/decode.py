"""Greedy decoding of the NER model with numpy: spaCy's own entities, certified, for a fraction of its CPU.

spaCy's greedy decoder scores one parser state at a time: one small matrix product through BLIS's reference
kernel and a validity check of all 18 moves per token, 40% of ``extract``'s CPU on a 500-word article. A state
of the NER transition system has three features (spaCy's ``StateC.set_context_tokens``): the token at the head
of the buffer, the open entity's first token and the token before the head, the last two only while an entity
is open. So the states with no entity open, almost all of them, are scored for every token at once in one
product, and only the tokens inside an entity take a step of their own.

The hidden activations are bitwise spaCy's: float32 sums of the same terms in the same order. The scores
are taken in float64, and every decision is certified: the chosen move must beat each other valid move by
more than the rounding error of spaCy's float32 dot product can be (a bound from the product's length and its
terms' magnitudes). A document with a decision that cannot be certified gets ``None``, and the caller runs
spaCy's decoder on it, so the entities are always exactly spaCy's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from spacy.attrs import IS_SPACE, SENT_START
from spacy.pipeline import EntityRecognizer
from spacy.tokens import Doc
from thinc.api import Model

from transforms.entities.encode import TokenEncoder

# |fl32(x·y) - x·y| <= γ_n Σ|x_i y_i| for a float32 dot product of length n in any order, with or without FMA,
# γ_n = n u / (1 - n u), u = 2^-24; then the bias is added with one more rounding, at most u of the result.
# Both are rounded up here; float64's own error is nine orders of magnitude below.
_U = 2.0**-24


def _gamma(n: int) -> float:
    return 1.01 * n * _U / (1 - n * _U)


WINDOW = 8  # tokens scored at once inside an open entity: most entities are shorter


@dataclass(frozen=True)
class Entity:
    start: int  # token offsets, end exclusive
    end: int
    label: str
    margin: float  # how far its opening move's score beat "no entity" (O): the model's confidence


@dataclass(frozen=True)
class GreedyDecoder:
    encode: Callable[[Doc], np.ndarray]  # the tokens' vectors: the model's first layer
    lower: Model
    feat_bias: np.ndarray  # (hidden * pieces,) float32: added after the three features
    pieces: int
    weights: np.ndarray  # (moves, hidden) float64, the output layer
    abs_weights: np.ndarray
    bias: np.ndarray  # (moves,) float64
    gamma: float
    out: int  # the O move
    begin: np.ndarray  # each kind of move's index for each label, in the order of ``labels``
    inside: np.ndarray
    last: np.ndarray
    unit: np.ndarray
    labels: tuple[str, ...]
    opens: dict[int, tuple[bool, int]]  # a B or U move: (whether it is B, its label's index)

    @classmethod
    def of(cls, ner: EntityRecognizer) -> GreedyDecoder | None:
        """A decoder for ``ner``, or None if the component is not of the kind this reproduces (beam search,
        unseen classes, other moves or features); then spaCy's own decoder runs."""
        model = ner.model
        if (
            ner.cfg.get("beam_width", 1) != 1
            or model.attrs.get("unseen_classes")
            or not model.attrs["has_upper"]
        ):
            return None
        tok2vec, lower, upper = model.layers
        if lower.get_dim("nF") != 3:
            return None
        names = [ner.moves.get_class_name(i) for i in range(ner.moves.n_moves)]
        labels = tuple(sorted({n[2:] for n in names if n[:2] in ("B-", "I-", "L-", "U-") and n[2:]}))
        index = {n: i for i, n in enumerate(names)}
        biluo = {"O"} | {f"{a}-{lab}" for a in "BILU" for lab in labels}
        if not biluo <= set(names) <= biluo | {"U-"}:  # "U-" only serves preset entities
            return None
        weights = upper.get_param("W").astype(np.float64)
        encoder = TokenEncoder.of(tok2vec)
        return cls(
            encode=encoder.encode if encoder is not None else lambda doc: tok2vec.predict([doc]),
            lower=lower,
            feat_bias=lower.get_param("b").reshape(-1),
            pieces=lower.get_dim("nP"),
            weights=weights,
            abs_weights=np.abs(weights),
            bias=upper.get_param("b").astype(np.float64),
            gamma=_gamma(weights.shape[1]),
            out=index["O"],
            begin=np.array([index[f"B-{lab}"] for lab in labels]),
            inside=np.array([index[f"I-{lab}"] for lab in labels]),
            last=np.array([index[f"L-{lab}"] for lab in labels]),
            unit=np.array([index[f"U-{lab}"] for lab in labels]),
            labels=labels,
            opens={index[f"{a}-{lab}"]: (a == "B", i) for i, lab in enumerate(labels) for a in "BU"},
        )

    def _scores(self, pre: np.ndarray, moves: np.ndarray | slice) -> tuple[np.ndarray, np.ndarray]:
        """Scores of ``moves`` for float32 pre-activations ``pre`` (rows × hidden·pieces), and each score's
        error bound for spaCy's float32 computation of it."""
        pieces = pre.reshape(len(pre), -1, self.pieces)
        hidden = pieces[:, :, 0].astype(np.float64)  # the best piece (numpy's max over a short axis is slow)
        for p in range(1, self.pieces):
            np.maximum(hidden, pieces[:, :, p], out=hidden)
        scores = hidden @ self.weights[moves].T + self.bias[moves]
        bound = self.gamma * (np.abs(hidden) @ self.abs_weights[moves].T) + 1.01 * _U * np.abs(scores)
        return scores, bound

    def entities(self, doc: Doc) -> list[Entity] | None:
        """The entities spaCy's greedy decoder finds in the fresh ``doc``, or None if a decision is too close
        to certify."""
        n = len(doc)
        if n == 0:
            return []
        if doc.has_annotation("ENT_IOB"):
            return None  # preset entities constrain the moves; spaCy handles them
        flags = doc.to_array([IS_SPACE, SENT_START])
        space = flags[:, 0].astype(bool)
        # The parser never reads token 0's sentence start; a start anywhere else ends an entity before it.
        next_starts = np.append(flags[1:, 1] == 1, False)
        # The lower layer's precomputed features: row 0 is the padding, row t + 1 token t; (rows, 3, hidden·pieces).
        feats = self.lower.predict(self.encode(doc))
        feats = feats.reshape(n + 1, 3, -1)
        token, first, before = feats[1:, 0], feats[1:, 1], feats[1:, 2]

        scores, bound = self._free_scores(feats)
        valid = np.zeros(scores.shape, dtype=bool)
        valid[:, self.out] = True
        valid[:, self.unit] = ~space[:, None]
        can_begin = ~space & ~next_starts
        can_begin[-1] = False
        valid[:, self.begin] = can_begin[:, None]
        masked = np.where(valid, scores, -np.inf)
        best = masked.argmax(axis=1)
        rows = np.arange(n)
        top, top_bound = masked[rows, best], bound[rows, best]
        masked[rows, best] = -np.inf
        margin = top - masked.max(axis=1)
        if not np.all(margin > top_bound + np.where(valid, bound, 0.0).max(axis=1)):
            return None

        found: list[Entity] = []
        resume = 0
        for start in np.flatnonzero(best != self.out).tolist():
            if start < resume:
                continue
            begins, label = self.opens[int(best[start])]
            end = self._entity_end(token, first, before, next_starts, start, label) if begins else start + 1
            if end is None:
                return None
            margin = float(scores[start, best[start]] - scores[start, self.out])
            found.append(Entity(start, end, self.labels[label], margin))
            resume = end
        return found

    def _free_scores(self, feats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Scores of every move, and their error bounds, for every token as the head of a state with no
        entity open: features (t, padding, padding), from the lower layer's ``feats`` (rows, 3, ...)."""
        pre = feats[1:, 0] + feats[0, 1]
        pre += feats[0, 2]
        pre += self.feat_bias
        return self._scores(pre, slice(None))

    def opening_margins(self, doc: Doc, spans: list[tuple[int, int, str]]) -> list[float]:
        """The ``margin`` of each entity ``(start, end, label)`` (token offsets) that another decoder found in
        ``doc``: its opening move, B or U of its label, is made with no entity open, so it is scored here as
        ``entities`` scores it."""
        if not spans:
            return []
        feats = self.lower.predict(self.encode(doc)).reshape(len(doc) + 1, 3, -1)
        scores, _ = self._free_scores(feats)
        index = {label: i for i, label in enumerate(self.labels)}
        return [
            float(
                scores[start, (self.begin if end - start > 1 else self.unit)[index[label]]]
                - scores[start, self.out]
            )
            for start, end, label in spans
        ]

    def _entity_end(
        self,
        token: np.ndarray,
        first: np.ndarray,
        before: np.ndarray,
        next_starts: np.ndarray,
        start: int,
        label: int,
    ) -> int | None:
        """Where the entity begun at ``start`` ends (exclusive): at each next token, I (go on) against L (end
        here), the only valid moves while it is open. None if one of these is too close to certify."""
        n = len(token)
        moves = np.array([self.inside[label], self.last[label]])
        for at in range(start + 1, n, WINDOW):
            stop = min(at + WINDOW, n)
            # Features (t, the entity's first token, t - 1), summed in that order as spaCy does.
            pre = token[at:stop] + first[start]
            pre += before[at - 1 : stop - 1]
            pre += self.feat_bias
            scores, bound = self._scores(pre, moves)
            for t, (go_on, end_here), (go_on_bound, end_bound) in zip(
                range(at, stop), scores, bound, strict=True
            ):
                if t == n - 1 or next_starts[t]:
                    return t + 1  # I is not valid on the last token or before a sentence start
                if abs(go_on - end_here) <= go_on_bound + end_bound:
                    return None
                if end_here > go_on:
                    return t + 1
        return n
