"""The confidence gate: persons and organisations the model barely opened go, unless they name a place."""

from __future__ import annotations

import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from transforms.entities.confidence import MIN_MARGIN, confident, names_a_place
from transforms.entities.recognize import RawMention

# Words that name no place in the gazetteer, and well-known places (a country, a state, a big city).
WORDS = ["Iodine", "Bonds", "Authority", "Qxzv", "deficiency", "futures"]
PLACES = ["Italy", "Kent", "Washington", "Amsterdam", "British Columbia"]
TYPES = ["PERSON", "ORG", "LOC", "MISC"]
MARGINS = st.one_of(st.floats(-5, 15), st.just(math.inf), st.sampled_from(sorted(MIN_MARGIN.values())))


@st.composite
def documents(draw):
    """A body of words and places, and a mention over each run of one to three of them."""
    parts = draw(st.lists(st.sampled_from(WORDS + PLACES), min_size=1, max_size=12))
    body, mentions, at = "", [], 0
    i = 0
    while i < len(parts):
        n = draw(st.integers(1, min(3, len(parts) - i)))
        text = " ".join(parts[i : i + n])
        body += text + " . "
        mentions.append(RawMention(at, at + len(text), draw(st.sampled_from(TYPES)), draw(MARGINS)))
        at = len(body)
        i += n
    return body, mentions


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(documents())
def test_only_barely_opened_persons_and_organisations_naming_no_place_go(gaz, doc):
    body, mentions = doc
    kept = confident(body, mentions, gaz)
    assert [m for m in mentions if any(m is k for k in kept)] == kept  # an order-keeping subset
    for m in mentions:
        text = body[m.start : m.end]
        place = any(p in text for p in PLACES)
        should_go = m.type in ("PERSON", "ORG") and m.margin < MIN_MARGIN[m.type] and not place
        assert any(m is k for k in kept) != should_go, (text, m)


def test_a_person_needs_a_surer_opening_than_an_organisation(gaz):
    body = "Qxzv said so ."
    for margin, kept in ((1.5, {"ORG"}), (2.0, {"ORG", "PERSON"}), (0.5, set())):
        mentions = [RawMention(0, 4, type_, margin) for type_ in ("PERSON", "ORG")]
        assert {m.type for m in confident(body, mentions, gaz)} == kept


def test_a_place_inside_a_name_or_joined_by_a_hyphen_vouches_for_it(gaz):
    assert names_a_place("The Washington Post", gaz)
    assert names_a_place("Armenia-Italy Parliamentary Friendship Group", gaz)
    assert names_a_place("FrontCounter BC", gaz)
    assert names_a_place("Kent's", gaz)


def test_a_small_town_or_a_lowercase_word_vouches_for_nothing(gaz):
    assert gaz.candidates("Justice") and not names_a_place("Justice", gaz)  # a town of 13,000
    assert gaz.candidates("Tab") and not names_a_place("Tab 3", gaz)
    assert not names_a_place("iodine deficiency", gaz)
    assert not names_a_place("Iodine", gaz)
