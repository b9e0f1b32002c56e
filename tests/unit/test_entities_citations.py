"""Author-year citations: the surnames in them are persons, one mention each."""

from __future__ import annotations

from tests.entity_mentions import marked
from transforms.entities.citations import authors


def read(body: str, spans: list[tuple[str, str]], gaz) -> list[tuple[str, str]]:
    return [(body[m.start : m.end], m.type) for m in authors(body, marked(body, spans), gaz)]


def test_cited_surnames_are_persons_retyped_split_or_added(gaz):
    body = "Replication matters (Porte, 2012; Martin & Clarke, 2017; Li, Polat, & Bavelier, 2010), as Quilis (1964) and Makel et al. showed."
    spans = [("Martin & Clarke", "ORG"), ("Quilis", "LOC"), ("Makel", "ORG")]
    assert read(body, spans, gaz) == [
        ("Porte", "PERSON"),
        ("Martin", "PERSON"),
        ("Clarke", "PERSON"),
        ("Li", "PERSON"),
        ("Polat", "PERSON"),
        ("Bavelier", "PERSON"),
        ("Quilis", "PERSON"),
        ("Makel", "PERSON"),
    ]


def test_titles_with_years_dates_and_known_places_are_not_authors(gaz):
    body = "She starred in The Imitation Game (2014) and Hydrodynamica (1738) (May, 2016) before the Games (Tokyo 2020)."
    spans = [("Game", "PERSON"), ("Tokyo", "LOC")]
    assert read(body, spans, gaz) == [("Game", "PERSON"), ("Tokyo", "LOC")]


def test_text_without_citations_is_left_as_it_is(gaz):
    body = "Procter & Gamble and Johnson & Johnson reported results on Tuesday."
    spans = [("Procter & Gamble", "ORG"), ("Johnson & Johnson", "ORG")]
    assert read(body, spans, gaz) == spans
