"""``benchmarks/extraction.py --fit-seed``: every text model that scores a set is fitted with the seed asked
for, so the fit's noise is read with the benchmark itself, and the shipped weights are used only at the
seed they were fitted with."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks import extraction
from transforms.boilerplate import model, train

SETS = list(extraction.SETS)


def _fake_fits(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, object, int]]:
    """Record every fit instead of fitting; each fit returns a model whose threshold names its seed."""
    calls: list[tuple[str, object, int]] = []
    shipped = model.load_model()

    def fitted(seed: int) -> model.LineModel:
        return model.LineModel(shipped.stage1, shipped.stage2, 1.0 / (seed + 2))

    def leave_one_set_out(sets, seed=13, held_out=None):
        calls.append(("loso", tuple(held_out), seed))
        return {held: fitted(seed) for held in held_out}

    def fit_sets(sets, seed=13):
        calls.append(("sets", tuple(sets), seed))
        return fitted(seed)

    monkeypatch.setattr(train, "leave_one_set_out", leave_one_set_out)
    monkeypatch.setattr(train, "fit_sets", fit_sets)
    return calls


def test_the_shipped_seed_scores_the_other_sets_with_the_shipped_weights(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    calls = _fake_fits(monkeypatch)
    models = extraction.loso_models(SETS, tmp_path)
    assert calls == [("loso", tuple(train.TRAIN_SETS), extraction.SHIPPED_FIT_SEED)]
    for name in SETS:
        expected = 1.0 / (extraction.SHIPPED_FIT_SEED + 2) if name in train.TRAIN_SETS else model.load_model()
        assert (models[name].threshold if name in train.TRAIN_SETS else models[name]) == expected


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 10_000).filter(lambda s: s != extraction.SHIPPED_FIT_SEED))
def test_any_other_seed_refits_every_model_with_it_and_caches_it_apart(seed: int) -> None:
    with pytest.MonkeyPatch.context() as monkeypatch, tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp)
        calls = _fake_fits(monkeypatch)
        models = extraction.loso_models(SETS, cache, seed)
        assert {c[2] for c in calls} == {seed}
        assert ("sets", tuple(train.TRAIN_SETS), seed) in calls
        assert all(m.threshold == 1.0 / (seed + 2) for m in models.values())
        # A rerun reads the cache: no fit, the same models, and the shipped seed's cache stays apart.
        calls.clear()
        again = extraction.loso_models(SETS, cache, seed)
        assert calls == [] and all(again[n].threshold == models[n].threshold for n in SETS)
        assert extraction.loso_models(SETS, cache)["dragnet"] == model.load_model()
