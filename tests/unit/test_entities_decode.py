"""The numpy greedy decoder finds exactly the entities spaCy's own decoder finds, or declines."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tests.shared_data import reference_body
from transforms.budget import Deadline
from transforms.entities.decode import GreedyDecoder
from transforms.entities.recognize import recognize

# Pieces of news text: names the model tags, words that could open a name, punctuation and the whitespace
# tokens (a token of spaces or a paragraph break can open no entity).
PIECES = [
    "Angela Merkel", "Merkel", "Emmanuel Macron", "Berlin", "Paris", "France", "the", "said", "on", "in", "of",
    "Tuesday", "New York", "Texas Department of Transportation", "Reuters", "Apple", "Inc", "President", "U.S.",
    "European Union", "BJP", "Jokowi", "Google", "Lamar County", "Mr.", "Dr", "and", "French", "British",
    ",", ".", "(", ")", '"', "'s", "-", "--", ":", "\n\n", "\n", "  ", "2024", "$", "US", "AI", "World Cup",
]  # fmt: skip


STORY = reference_body()


@pytest.fixture(scope="module")
def decoder(nlp):
    decoder = GreedyDecoder.of(nlp.get_pipe("ner"))
    assert decoder is not None
    return decoder


def spacy_entities(nlp, text):
    with nlp.memory_zone():
        return [(e.start, e.end, e.label_) for e in nlp(text).ents]


def decoded(nlp, decoder, text):
    with nlp.memory_zone():
        ents = decoder.entities(nlp.make_doc(text))
        return None if ents is None else [(e.start, e.end, e.label) for e in ents]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(st.sampled_from(PIECES), max_size=60), st.lists(st.sampled_from([" ", "", "\n"]), max_size=60)
)
def test_certified_entities_are_spacys(nlp, decoder, pieces, gaps):
    text = "".join(p + (gaps[i] if i < len(gaps) else " ") for i, p in enumerate(pieces))
    got = decoded(nlp, decoder, text)
    assert got is None or got == spacy_entities(nlp, text)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(PIECES), min_size=1, max_size=40))
def test_a_margin_is_how_far_the_opening_move_beat_no_entity(nlp, decoder, pieces):
    """Every certified entity was opened because its move beat O, and ``opening_margins`` scores the entities
    another decoder found exactly as ``entities`` scores its own."""
    with nlp.memory_zone():
        doc = nlp.make_doc(" ".join(pieces))
        ents = decoder.entities(doc)
        assume(ents is not None)
        assert all(e.margin > 0 for e in ents)
        assert decoder.opening_margins(doc, [(e.start, e.end, e.label) for e in ents]) == [
            e.margin for e in ents
        ]


def test_the_reference_article_is_certified_and_the_same(nlp, decoder):
    got = decoded(nlp, decoder, STORY)
    assert got is not None and len(got) > 5
    assert got == spacy_entities(nlp, STORY)


def test_an_empty_text_has_no_entities(nlp, decoder):
    assert decoded(nlp, decoder, "") == []


def test_an_uncertain_decision_falls_back_to_spacy(nlp, decoder):
    doubtful = dataclasses.replace(decoder, gamma=1e9)  # every decision within the error bound
    assert decoded(nlp, doubtful, STORY) is None
    spans = recognize(nlp, STORY, Deadline(60.0), doubtful)
    certified = recognize(nlp, STORY, Deadline(60.0), decoder)
    assert spans == certified
    assert spans == recognize(nlp, STORY, Deadline(60.0))
    # spaCy's entities are scored by the decoder all the same: the model's confidence, whoever decoded
    assert [m.margin for m in spans] == [m.margin for m in certified]
    assert all(0 < m.margin < float("inf") for m in spans)


def test_preset_entities_are_left_to_spacy(nlp, decoder):
    doc = nlp.make_doc("Angela Merkel visited Paris.")
    doc.ents = [doc.char_span(0, 13, label="PERSON")]
    assert decoder.entities(doc) is None


def test_a_component_of_another_kind_is_left_to_spacy(nlp, monkeypatch):
    ner = nlp.get_pipe("ner")
    monkeypatch.setitem(ner.cfg, "beam_width", 4)
    assert GreedyDecoder.of(ner) is None
    monkeypatch.setitem(ner.cfg, "beam_width", 1)
    monkeypatch.setitem(ner.model.attrs, "unseen_classes", {3})
    assert GreedyDecoder.of(ner) is None
