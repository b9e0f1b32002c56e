"""Salience: title and lede mentions weigh more; the top entity scores 1.0."""

from __future__ import annotations

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
