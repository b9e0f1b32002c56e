"""``benchmarks/ner.py --ablate``: each normalisation step it leaves out exists, is left out, and comes back."""

from __future__ import annotations

import importlib

import pytest

from benchmarks.ner import ABLATIONS, without
from transforms.entities import lexicon
from transforms.entities.recognize import RawMention
from transforms.entities.rules import strip_titles

normalize_module = importlib.import_module("transforms.entities.normalize")


def _owner(name: str):
    return (lexicon, "apply") if name == "lexicon.apply" else (normalize_module, name)


@pytest.mark.parametrize("step", sorted(ABLATIONS))
def test_each_step_is_a_function_normalisation_calls_and_is_restored(step):
    owner, attr = _owner(ABLATIONS[step][0])
    before = getattr(owner, attr)
    assert callable(before)
    with without(step):
        assert getattr(owner, attr) is ABLATIONS[step][1]
    assert getattr(owner, attr) is before


def test_without_titles_a_title_stays_in_the_name(gaz):
    body = "Professor Cres Eastman spoke."
    raw = [RawMention(0, len("Professor Cres Eastman"), "PERSON")]
    assert strip_titles(body, raw[0]).start == len("Professor ")
    with without("titles (strip_titles)"):
        (entity,) = normalize_module.normalize(body, raw, gaz)
    assert entity.mentions[0].text == "Professor Cres Eastman"
    (entity,) = normalize_module.normalize(body, raw, gaz)
    assert entity.mentions[0].text == "Cres Eastman"
