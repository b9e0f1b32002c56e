"""Text mode's line model: stage 2's page-relative view of the stage-1 scores, and the shipped weights."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from transforms.boilerplate import train
from transforms.boilerplate.model import PAGE_LINES_PRIOR, STAGE2_NAMES, load_model, sigmoid, stage2_features
from transforms.boilerplate.signals import FEATURE_NAMES

RELATIVE = [
    STAGE2_NAMES.index(n) for n in ("p1_page_rank", "p1_page_z", "p1_below_page_top", "p1_page_share_above")
]
PAGE_LEVEL = [STAGE2_NAMES.index(n) for n in ("p1_page_mean", "p1_page_body_share")]

logits = arrays(
    np.float64, st.integers(1, 60), elements=st.integers(-16, 16).map(lambda v: v / 2)
)  # no near-ties


@settings(max_examples=80, deadline=None)
@given(logits, st.floats(-3, 3), st.integers(0, 2**31 - 1))
def test_where_a_line_stands_in_its_page_does_not_move_with_the_page_level(logit, shift, seed):
    """A page whose every score is shifted keeps each line's rank, z-score, distance below the page's best and
    share of text above: only the page-level columns carry the level."""
    units = np.random.default_rng(seed).integers(1, 120, len(logit)).astype(float)
    before = stage2_features(sigmoid(logit), units)
    after = stage2_features(sigmoid(logit + shift), units)
    assert np.allclose(before[:, RELATIVE], after[:, RELATIVE], atol=1e-6)
    for col in PAGE_LEVEL:
        assert np.allclose(before[:, col], before[0, col]) and np.allclose(after[:, col], after[0, col])
    assert (before[:, STAGE2_NAMES.index("p1_page_rank")] > 0).all()
    assert np.isclose(before[:, STAGE2_NAMES.index("p1_below_page_top")].max(), 0.0)


def test_the_shipped_weights_cover_every_feature():
    model = load_model()
    assert len(model.stage1.weights) == len(FEATURE_NAMES) + 1
    assert len(model.stage2.weights) == len(FEATURE_NAMES) + len(STAGE2_NAMES) + 1
    assert 0.0 < model.threshold < 1.0


@settings(max_examples=40, deadline=None)
@given(logits)
def test_a_short_page_has_little_say_over_where_its_lines_stand(logit):
    """A page's ranks and z-scores from a handful of lines say little: they are pulled towards the middle in
    proportion to the page's length, so stage 2 cannot demote the weakest of three body paragraphs for
    being the weakest."""
    features = stage2_features(sigmoid(logit), np.full(len(logit), 20.0))
    trust = len(logit) / (len(logit) + PAGE_LINES_PRIOR)
    rank = features[:, STAGE2_NAMES.index("p1_page_rank")]
    share = features[:, STAGE2_NAMES.index("p1_page_share_above")]
    assert (np.abs(rank - 0.5) <= 0.5 * trust + 1e-9).all() and (
        np.abs(share - 0.5) <= 0.5 * trust + 1e-9
    ).all()


def test_a_measure_only_set_cannot_be_trained_on():
    """Dragnet (AGPL v3) is scored, never fitted: every fit goes through ``labelled``, which refuses it."""
    with pytest.raises(ValueError, match="dragnet"):
        train.labelled(["scrapinghub", "dragnet"], None)
    with pytest.raises(ValueError, match="dragnet"):
        train.fit_sets(["dragnet"])
