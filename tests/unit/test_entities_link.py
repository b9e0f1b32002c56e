"""Place linking: GeoNames ids and ISO codes, disambiguated by population and the article's other places."""

from __future__ import annotations

import pytest

from transforms.entities.gazetteer import fold, gazetteer
from transforms.entities.link import context_of, entity_ids, resolve


@pytest.fixture(scope="module")
def gaz():
    return gazetteer()


def ids(gaz, names: list[str]) -> dict[str, tuple[int, str | None]]:
    ctx = context_of(gaz, names)
    return {n: (resolve(gaz, n, ctx).geonameid, resolve(gaz, n, ctx).iso3166) for n in names}


def test_reference_article_places(gaz):
    got = ids(gaz, ["Russia", "Ukraine", "Moscow", "Kyiv", "Kiev", "Washington"])
    assert got == {
        "Russia": (2017370, "RU"),
        "Ukraine": (690791, "UA"),
        "Moscow": (524901, None),
        "Kyiv": (703448, None),
        "Kiev": (703448, None),
        "Washington": (4140963, None),
    }


def test_moscow_idaho_only_when_the_article_is_about_idaho(gaz):
    assert ids(gaz, ["United States", "Moscow"])["Moscow"][0] == 524901
    assert ids(gaz, ["Idaho", "Moscow"])["Moscow"][0] == 5601538


def test_country_names_and_aliases_meet(gaz):
    for name in ("U.S.", "US", "United States", "the United States", "USA"):
        assert resolve(gaz, name, set()).iso3166 == "US", name
    for name in ("the Russian Federation", "Russian Federation", "RUSSIA", "Russia's"):
        assert resolve(gaz, name, set()).name == "Russia", name


def test_unknown_place_has_no_ids(gaz):
    assert resolve(gaz, "Atlantis Nowhere", set()) is None
    assert entity_ids(None).geonames is None and entity_ids(None).wikidata is None


def test_fold_ignores_case_dots_diacritics_article_and_possessive():
    assert fold("The U.S.") == fold("us") == "us"
    assert fold("Zürich's") == "zurich"
