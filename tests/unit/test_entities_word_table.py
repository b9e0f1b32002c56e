"""The word tables' one rule: each word is listed once, with all its uses on one line."""

from __future__ import annotations

from enum import Flag, auto

import pytest
from hypothesis import given
from hypothesis import strategies as st

from transforms.entities.word_table import uses_by_word, words_for


class Use(Flag):
    A = auto()
    B = auto()


@given(st.lists(st.text("abc", min_size=1, max_size=3), min_size=1, unique=True), st.data())
def test_a_word_listed_twice_is_refused(words: list[str], data: st.DataObject) -> None:
    twice = data.draw(st.sampled_from(words))
    with pytest.raises(ValueError, match="listed twice"):
        uses_by_word(((Use.A, " ".join(words)), (Use.B, twice)))


@given(
    st.lists(
        st.tuples(st.text("abc", min_size=1, max_size=3), st.sampled_from([Use.A, Use.B, Use.A | Use.B])),
        unique_by=lambda pair: pair[0],
    )
)
def test_a_use_takes_exactly_the_words_flagged_for_it(entries: list[tuple[str, Use]]) -> None:
    uses = uses_by_word(tuple((use, word) for word, use in entries))
    assert uses == dict(entries)
    for use in (Use.A, Use.B):
        assert words_for(uses, use) == {word for word, flags in entries if use in flags}
