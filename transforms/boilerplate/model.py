"""A small logistic regression in numpy: the line classifier's weights live in ``text_model.json``.

Two stages: stage 1 scores each line from its own signals and neighbourhood; stage 2 adds the smoothed
stage-1 scores of the neighbours and the densest high-scoring span, so a prose-like appeal that sits in a
run of page furniture is judged by its surroundings. ``python -m transforms.boilerplate.train`` refits it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from transforms.boilerplate.signals import densest_span

MODEL_PATH = Path(__file__).with_name("text_model.json")
STAGE2_NAMES = (
    "p1_logit",
    "p1_ctx1",
    "p1_ctx2",
    "p1_ctx5",
    "p1_in_span",
    "p1_before_span",
    "p1_after_span",
    "p1_prev_max3",
    "p1_next_max3",
    "p1_sandwich3",
    "p1_prev_max8",
    "p1_next_max8",
    "p1_sandwich8",
    "p1_page_rank",
    "p1_page_z",
    "p1_below_page_top",
    "p1_page_share_above",
    "p1_page_mean",
    "p1_page_body_share",
)


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))


@dataclass(frozen=True)
class LogReg:
    """Standardised features, then a linear score: weights[0] is the bias."""

    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray

    def predict(self, x: np.ndarray) -> np.ndarray:
        z = (x - self.mean) / self.scale
        return sigmoid(z @ self.weights[1:] + self.weights[0])

    def to_json(self) -> dict:
        return {"mean": self.mean.tolist(), "scale": self.scale.tolist(), "weights": self.weights.tolist()}

    @classmethod
    def from_json(cls, d: dict) -> LogReg:
        return cls(np.array(d["mean"]), np.array(d["scale"]), np.array(d["weights"]))


def fit_logreg(x: np.ndarray, y: np.ndarray, w: np.ndarray, l2: float = 1.0, iters: int = 25) -> LogReg:
    """Weighted L2-regularised logistic regression by Newton's method (deterministic)."""
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    z = np.hstack([np.ones((len(x), 1)), (x - mean) / scale])
    w = w / w.sum() * len(w)
    beta = np.zeros(z.shape[1])
    reg = np.full(z.shape[1], l2)
    reg[0] = 0.0
    for _ in range(iters):
        p = sigmoid(z @ beta)
        grad = z.T @ (w * (p - y)) + reg * beta
        hess = (z * (w * p * (1 - p))[:, None]).T @ z + np.diag(reg) + 1e-6 * np.eye(len(beta))
        step = np.linalg.solve(hess, grad)
        beta -= step
        if np.abs(step).max() < 1e-7:
            break
    return LogReg(mean, scale, beta)


def _window(values: np.ndarray, radius: int) -> np.ndarray:
    n = len(values)
    csum = np.concatenate([[0.0], np.cumsum(values)])
    idx = np.arange(n)
    lo, hi = np.maximum(idx - radius, 0), np.minimum(idx + radius + 1, n)
    return (csum[hi] - csum[lo]) / (hi - lo)


def stage2_features(p1: np.ndarray, units: np.ndarray) -> np.ndarray:
    """Neighbourhood of the stage-1 scores: smoothed scores and the densest likely-body span."""
    n = len(p1)
    if n == 0:
        return np.zeros((0, len(STAGE2_NAMES)))
    logit = np.log(np.clip(p1, 1e-6, 1 - 1e-6) / np.clip(1 - p1, 1e-6, 1))
    gain = (p1 - 0.5) * (np.minimum(units, 80) + 2.0)
    start, end = densest_span(gain, penalty=0.0)
    idx = np.arange(n)
    return np.column_stack(
        [
            logit,
            _window(p1, 1),
            _window(p1, 2),
            _window(p1, 5),
            (idx >= start) & (idx < end),
            np.log1p(np.maximum(start - idx, 0)),
            np.log1p(np.maximum(idx - end + 1, 0)),
            *_sandwich(p1, 3),
            *_sandwich(p1, 8),
            *_page_relative(logit, p1, units),
        ]
    )


# A page of this many lines keeps half of its lines' spread in rank and z-score (set by hand, not fitted).
PAGE_LINES_PRIOR = 20


def _page_relative(logit: np.ndarray, p1: np.ndarray, units: np.ndarray) -> list[np.ndarray]:
    """Where each line's score stands within its page, and the page's score level.

    Stage 1's scores rank a page's lines well, but their level drifts from page to page (a page of short
    paragraphs scores low throughout): the line's rank, its z-score and its distance below the page's best,
    the share of the page's text that scores at least as high, and the page's (text-weighted) mean score and
    share of text above 0.5 let stage 2 learn a cut-off that moves with the page. A few lines' ranks say
    little (the weakest of three body paragraphs is not furniture), so the within-page columns are pulled
    towards the middle by n / (n + PAGE_LINES_PRIOR)."""
    n = len(p1)
    weight = np.minimum(units, 80) + 1.0
    total = weight.sum()
    rank = (np.argsort(np.argsort(p1, kind="stable"), kind="stable") + 0.5) / n
    mean = (logit * weight).sum() / total
    spread = np.sqrt(((logit - mean) ** 2 * weight).sum() / total) + 0.5
    best_first = np.argsort(-p1, kind="stable")
    share_above = np.empty(n)
    share_above[best_first] = np.cumsum(weight[best_first]) / total
    trust = n / (n + PAGE_LINES_PRIOR)
    return [
        0.5 + trust * (rank - 0.5),
        trust * (logit - mean) / spread,
        trust * (logit - logit.max()),
        0.5 + trust * (share_above - 0.5),
        np.full(n, mean),
        np.full(n, (weight * (p1 > 0.5)).sum() / total),
    ]


def _sandwich(p1: np.ndarray, radius: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Best score among the previous and the next ``radius`` lines, and the smaller of the two.

    A short line (a table row, a list item, a subheading) between two confident body lines is body.
    """
    n = len(p1)
    padded = np.concatenate([np.zeros(radius), p1, np.zeros(radius)])
    windows = np.lib.stride_tricks.sliding_window_view(padded, radius)
    prev_max = windows[:n].max(axis=1)
    next_max = windows[radius + 1 : radius + 1 + n].max(axis=1)
    return prev_max, next_max, np.minimum(prev_max, next_max)


@dataclass(frozen=True)
class LineModel:
    stage1: LogReg
    stage2: LogReg
    threshold: float

    def predict(self, x1: np.ndarray, units: np.ndarray) -> np.ndarray:
        """Probability that each line is article body."""
        if len(x1) == 0:
            return np.zeros(0)
        p1 = self.stage1.predict(x1)
        return self.stage2.predict(np.hstack([x1, stage2_features(p1, units)]))

    def to_json(self) -> dict:
        return {"stage1": self.stage1.to_json(), "stage2": self.stage2.to_json(), "threshold": self.threshold}

    @classmethod
    def from_json(cls, d: dict) -> LineModel:
        return cls(LogReg.from_json(d["stage1"]), LogReg.from_json(d["stage2"]), float(d["threshold"]))


@lru_cache(maxsize=1)
def load_model(path: Path = MODEL_PATH) -> LineModel:
    return LineModel.from_json(json.loads(path.read_text(encoding="utf-8")))
