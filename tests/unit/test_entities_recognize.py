"""Chunking of long bodies and the confidence gate on the model's mentions (no model needed)."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from transforms.entities.recognize import MIN_MARGIN, RawMention, chunks, confident

MENTIONS = st.lists(
    st.builds(
        RawMention,
        st.integers(0, 50),
        st.integers(51, 99),
        st.sampled_from(["PERSON", "ORG", "LOC", "MISC"]),
        st.one_of(st.floats(-5, 15), st.just(math.inf), st.just(MIN_MARGIN)),
    ),
    max_size=20,
)


@given(MENTIONS)
def test_only_barely_opened_persons_and_organisations_are_dropped(mentions):
    kept = confident(mentions)
    assert [id(m) for m in kept] == [id(m) for m in mentions if any(m is k for k in kept)]  # order kept
    for m in mentions:
        held = any(m is k for k in kept)
        if m.type in ("LOC", "MISC") or m.margin >= MIN_MARGIN:
            assert held, m
        else:
            assert not held, m


def test_a_rules_mention_has_no_margin_and_is_kept():
    made = RawMention(0, 3, "ORG")
    assert made.margin == math.inf and confident([made]) == [made]
    assert RawMention(0, 3, "ORG", 0.2) == made  # the margin is not part of a mention's identity


def test_chunks_cover_the_text_at_paragraph_breaks():
    text = "\n\n".join(f"Paragraph {i} " + "word " * 30 for i in range(200))
    pieces = list(chunks(text, 1000))
    assert "".join(p for _, p in pieces) == text
    assert all(len(p) <= 1000 for _, p in pieces)
    assert all(text[o : o + len(p)] == p for o, p in pieces)
    assert all(p.endswith("\n\n") for _, p in pieces[:-1])
    unbroken = "x" * 2500
    assert [len(p) for _, p in chunks(unbroken, 1000)] == [1000, 1000, 500]
