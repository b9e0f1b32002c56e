"""The one table of places' last words and the sets ``rules``, ``locate`` and ``normalize`` take from it."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from transforms.entities import locate
from transforms.entities.place_endings import USES, Use, ending_words

_WORDS = sorted(USES)


def test_every_word_is_folded_and_serves_a_use() -> None:
    # the modules look up casefolded words: an entry with a capital, or with no use, would never be read
    assert all(word == word.casefold() and uses for word, uses in USES.items())


def test_a_venue_word_needs_its_cue() -> None:
    # a word that ends bodies' names too makes the place only after "at" or "in": never unconditionally
    assert not ending_words(Use.VENUE_AFTER_AT) & ending_words(Use.BODY_IS_PLACE)


def test_nothing_both_lies_in_a_town_and_is_wider_than_one() -> None:
    wide = ending_words(Use.WIDER_THAN_TOWN)
    assert not wide & (ending_words(Use.BUILDING_IN_TOWN) | ending_words(Use.STREET))


@given(
    st.sampled_from(_WORDS),
    st.lists(st.booleans(), min_size=20, max_size=20),
    st.sampled_from(["", "Big ", "The Great ", "Mid-", "North "]),
)
def test_a_name_is_wide_exactly_when_its_last_word_is(word: str, upper: list[bool], before: str) -> None:
    cased = "".join(c.upper() if up else c for c, up in zip(word, upper, strict=False))
    wide = locate._WIDE_FEATURE.search(before + cased) is not None
    assert wide == (word in ending_words(Use.WIDER_THAN_TOWN))
