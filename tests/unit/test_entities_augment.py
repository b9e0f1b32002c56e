"""Mention swapping for training: spans follow the new text, labels stay, p bounds what changes."""

from __future__ import annotations

import random

from transforms.entities.augment import inventory, swap_mentions
from transforms.entities.conll import ConllDoc

DOC = ConllDoc(
    text="Peter Blackburn of the EU visited Paris .",
    spans=[(0, 15, "PER"), (23, 25, "ORG"), (34, 39, "LOC")],
)
NAMES = {"PER": ["Ann Lee"], "ORG": ["Deutsche Bank AG"], "LOC": ["New York City"]}


def test_inventory_lists_each_mention_under_its_label():
    assert inventory([DOC, DOC]) == {
        "PER": ["Peter Blackburn"] * 2,
        "ORG": ["EU"] * 2,
        "LOC": ["Paris"] * 2,
    }


def test_every_mention_swapped_and_spans_follow():
    out = swap_mentions(DOC, NAMES, random.Random(0), p=1.0)
    assert out.text == "Ann Lee of the Deutsche Bank AG visited New York City ."
    assert [(out.text[s:e], label) for s, e, label in out.spans] == [
        ("Ann Lee", "PER"),
        ("Deutsche Bank AG", "ORG"),
        ("New York City", "LOC"),
    ]


def test_nothing_swapped_at_p_zero_or_without_names_of_the_label():
    assert swap_mentions(DOC, NAMES, random.Random(0), p=0.0) == DOC
    assert swap_mentions(DOC, {"MISC": ["German"]}, random.Random(0), p=1.0) == DOC
