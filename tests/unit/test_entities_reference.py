"""The reference article: every expected entity, typed, one entity per listed surface forms, none forbidden."""

from __future__ import annotations

import json

import pytest

from tests.shared_data import REFERENCE
from transforms.entities import EntityExtractor

FIXTURE = REFERENCE.with_suffix(".expected.json")
GEONAMES = {"Kyiv": 703448, "Moscow": 524901, "Ukraine": 690791, "Russia": 2017370}


@pytest.fixture(scope="module")
def article():
    expected = json.loads(FIXTURE.read_text())
    body = "\n\n".join(expected["body_paragraphs"])
    entities = EntityExtractor().load().extract(body, expected["title"])
    return expected, body, entities


def test_every_expected_entity_is_one_entity_with_its_surface_forms(article):
    expected, _, entities = article
    for type_, names in expected["entities"].items():
        for name, forms in names.items():
            holders = [e for e in entities if set(forms) & {m.text for m in e.mentions}]
            assert len(holders) == 1, (name, [(e.name, e.type) for e in holders])
            entity = holders[0]
            assert entity.type == type_, (name, entity.type)
            assert set(forms) <= {m.text for m in entity.mentions}, (name, entity.mentions)


def test_mentions_index_the_body(article):
    _, body, entities = article
    for e in entities:
        assert e.mentions and e.count == len(e.mentions)
        assert e.first_offset == min(m.start for m in e.mentions)
        for m in e.mentions:
            assert body[m.start : m.end] == m.text


def test_no_forbidden_reading(article):
    expected, _, entities = article
    for bad in expected["entities_forbidden"]:
        for e in entities:
            texts = {m.text for m in e.mentions} | {e.name}
            assert not (bad["text"] in texts and bad["type"] in ("*", e.type)), (bad, e.name, e.type)


def test_places_are_linked_and_countries_carry_iso_codes(article):
    _, _, entities = article
    by_name = {e.name: e for e in entities}
    for name, geonameid in GEONAMES.items():
        assert by_name[name].ids.geonames == geonameid, name
    assert by_name["Russia"].ids.iso3166 == "RU" and by_name["Ukraine"].ids.iso3166 == "UA"
    assert by_name["Moscow"].ids.iso3166 is None
    assert by_name["Dmitry Peskov"].ids.geonames is None


def test_title_entities_are_the_most_salient(article):
    _, _, entities = article
    assert {e.name for e in entities[:2]} == {"Russia", "Ukraine"}
    assert entities[0].salience == 1.0
    assert all(0.0 < e.salience <= 1.0 for e in entities)
    assert [e.salience for e in entities] == sorted((e.salience for e in entities), reverse=True)
