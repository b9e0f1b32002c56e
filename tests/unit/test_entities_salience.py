"""Salience: title and lede mentions weigh more; the top entity scores 1.0."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from transforms.entities import salience


def test_title_hits_are_whole_words_of_any_surface_form():
    assert (
        salience.title_hits("Russia Demands Ukraine Recognize Claims", {"Russia", "Russian Federation"}) == 1
    )
    assert salience.title_hits("Russians rally in Russia and Russia", {"Russia"}) == 2
    assert salience.title_hits(None, {"Russia"}) == 0
    assert salience.title_hits("Anything", set()) == 0


def test_lede_is_the_first_paragraph_capped():
    assert salience.lede_end("First para.\n\nSecond.") == len("First para.")
    assert salience.lede_end("x" * 5000) == salience.LEDE_MAX_CHARS
    assert salience.lede_end("") == 0


def test_title_outweighs_lede_outweighs_late_mentions():
    body_len, lede = 1000, 100
    in_title = salience.raw_score([900], body_len, lede, in_title=1)
    in_lede = salience.raw_score([10, 900], body_len, lede, in_title=0)
    late_once = salience.raw_score([900], body_len, lede, in_title=0)
    early_once = salience.raw_score([200], body_len, lede, in_title=0)
    assert in_title > in_lede > early_once > late_once >= 1.0


def test_normalise_scales_to_the_top_entity():
    assert salience.normalise([2.0, 1.0, 4.0]) == [0.5, 0.25, 1.0]
    assert salience.normalise([]) == []


def _regex_title_hits(title: str, forms: set[str]) -> int:
    """The definition title_hits keeps: one alternation of the forms, longest first, as whole words."""
    alts = sorted({f for f in forms if f}, key=len, reverse=True)
    if not alts:
        return 0
    return len(re.findall(r"(?<!\w)(?:" + "|".join(re.escape(a) for a in alts) + r")(?!\w)", title))


WORDS = st.sampled_from(
    ["Russia", "Russian", "Russia's", "New", "New York", "York", "_", "é", "2", "-", " ", ".", "Ω"]
)


@settings(max_examples=400)
@given(
    st.lists(WORDS, max_size=12).map("".join), st.sets(st.lists(WORDS, max_size=3).map("".join), max_size=4)
)
def test_title_hits_count_as_the_whole_word_alternation_does(title, forms):
    assert salience.title_hits(title, forms) == _regex_title_hits(title, forms)


def test_a_longer_form_that_is_no_whole_word_gives_way_to_a_shorter_one():
    assert salience.title_hits("New Yorker in New York", {"New", "New York"}) == 2
    assert salience.title_hits("NewYork New_ New", {"New", "New York"}) == 1
    assert salience.title_hits("New York, York", {"New York", "York"}) == 2  # no overlapping count
