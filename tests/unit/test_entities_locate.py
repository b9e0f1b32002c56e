"""Places the gazetteer lacks (streets, venues) located in the place the article is about."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from transforms import avro
from transforms.entities import EntityExtractor
from transforms.entities.gazetteer import Place
from transforms.entities.locate import (
    LinkedSpans,
    focus,
    inside_a_town,
    named_holder,
    named_part,
    regions_of,
    unsupported_namesake,
)
from transforms.records import Article, Entity, Mention, from_dict, to_dict


def place(gid: int, kind: str, country: str, admin1: str | None = None, population: int = 1000) -> Place:
    return Place(
        name=f"p{gid}", geonameid=gid, country=country, population=population, kind=kind, admin1=admin1
    )


_KINDS = ("city", "admin2", "admin1", "country")
places = st.lists(
    st.tuples(
        st.builds(
            place,
            gid=st.integers(1, 10**6),
            kind=st.sampled_from(_KINDS),
            country=st.sampled_from(["US", "GB", "FR"]),
            admin1=st.sampled_from([None, "01", "02"]),
            population=st.integers(0, 10**7),
        ),
        st.integers(1, 5),
    ),
    max_size=12,
)


@settings(max_examples=200, deadline=None)
@given(places)
def test_focus_is_a_named_place_of_the_country_most_mentions_lie_in(placed):
    """Of the country with the most place mentions, then the most places."""
    got = focus(placed)
    assert (got is None) == (not placed)
    if got is not None:
        assert got in [p for p, _ in placed]
        weight = {
            c: (sum(n for p, n in placed if p.country == c), sum(p.country == c for p, _ in placed))
            for c in {p.country for p, _ in placed}
        }
        assert weight[got.country] == max(weight.values())


@settings(max_examples=200, deadline=None)
@given(places)
def test_focus_is_never_coarser_than_a_place_of_its_region(placed):
    """No town, county or division named in the focus's own division is finer than the focus."""
    got = focus(placed)
    if got is not None and got.kind != "country":
        finer = _KINDS[: _KINDS.index(got.kind)]
        assert not any(
            p.kind in finer and p.country == got.country and p.region_key == got.region_key for p, _ in placed
        )


def test_a_state_of_several_places_beats_a_town_named_often():
    franklin = place(1, "city", "US", "TN", 60_000)
    louisiana = place(2, "admin1", "US", "LA", 4_000_000)
    lafayette = place(3, "city", "US", "LA", 120_000)
    new_orleans = place(4, "city", "US", "LA", 390_000)
    got = focus([(franklin, 3), (louisiana, 1), (lafayette, 1), (new_orleans, 1)])
    assert got == new_orleans


@pytest.mark.parametrize(
    "name",
    ["Royal Street", "Wembley Stadium", "Rogers Centre", "North State Street", "Eglinton Avenue West",
     "Northwestern Memorial Hospital", "Central Mental Hospital", "East High School"],
)  # fmt: skip
def test_streets_and_venues_lie_in_a_town(gaz, name):
    assert inside_a_town(name, gaz)


@pytest.mark.parametrize(
    "name",
    ["Indian Ocean", "Korean Peninsula", "Middle East", "North Africa", "West Coast", "Mississippi River",
     "Latin America", "Nazi Germany", "South Florida", "Soviet Union"],
)  # fmt: skip
def test_wide_features_and_regions_do_not(gaz, name):
    assert not inside_a_town(name, gaz)


def test_extract_locates_a_street_in_the_article_town():
    body = (
        "NEW ORLEANS (AP) - Crowds filled Frenchmen Street on Saturday as New Orleans marked the end of "
        "Carnival. Residents of Louisiana and visitors from Baton Rouge walked from Frenchmen Street to the "
        "river, and bands played on Royal Street until midnight."
    )
    entities = {e.name: e for e in EntityExtractor().load().extract(body)}
    streets = [e for name, e in entities.items() if name.endswith("Street")]
    assert streets and all(e.type == "LOC" and e.ids.geonames is None for e in streets)
    assert {e.located_in for e in streets} == {4335045}  # New Orleans
    assert all(e.located_in is None for e in entities.values() if e.ids.geonames is not None)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from(["North", "South", "Eastern", "Greater", "Central"]), min_size=1, max_size=2),
    st.sampled_from(["Florida", "Africa", "Venezuela", "London", "Asia", "New South Wales"]),
)
def test_a_region_named_by_directions_is_part_of_the_place_after_them(directions, place):
    assert named_part(" ".join([*directions, place])) == place
    assert named_part(place) is None


@pytest.mark.parametrize("name", ["Middle East", "West Coast", "North", "Royal Street"])
def test_directions_before_an_ordinary_word_name_no_place(name):
    assert named_part(name) is None


def test_extract_puts_a_part_of_a_state_in_the_state():
    body = "Schools across South Florida closed on Monday, officials in Miami said."
    got = {e.name: e for e in EntityExtractor().load().extract(body)}
    assert got["South Florida"].ids.geonames is None
    assert got["South Florida"].located_in == 4155751  # Florida


def _article(located_in: int | None) -> Article:
    place = Entity(name="Royal Street", type="LOC", mentions=[Mention("Royal Street", 0, 12)], count=1)
    place.located_in = located_in
    return Article(id="a1", body="Royal Street in New Orleans", entities=[place])


@given(st.one_of(st.none(), st.integers(1, 2**40)))
def test_located_in_round_trips_through_avro(located_in):
    data = avro.encode("article", to_dict(_article(located_in)))
    name, record = avro.decode(data)
    assert name == "article"
    assert from_dict(Article, record).entities[0].located_in == located_in


def test_an_entity_written_before_located_in_reads_as_not_located():
    """Records of the released schema, which lacks the field, read with its default."""
    released = avro.released_schemas()["article"]
    record = to_dict(_article(None))
    del record["entities"][0]["located_in"]
    name, decoded = avro.decode(avro.SINGLE_OBJECT.encode(released, record))
    assert name == "article" and decoded["entities"][0]["located_in"] is None


def test_a_small_namesake_nothing_in_the_article_supports_is_unsupported(gaz):
    """ "Franklin" in a New Orleans story with other Louisiana places is no Franklin, Tennessee; with another
    Tennessee place, or a town of a single name, or a big city, the reading stands."""
    franklin = max(gaz.candidates("Franklin"), key=lambda p: p.population)
    assert franklin.admin1 == "TN" and franklin.population < 100_000
    new_orleans, baton_rouge = gaz.by_id(4335045), gaz.by_id(4315588)
    nashville = max(gaz.candidates("Nashville"), key=lambda p: p.population)
    assert unsupported_namesake(
        "Franklin", franklin, regions_of([new_orleans, baton_rouge, franklin]), "US", gaz
    )
    assert not unsupported_namesake(
        "Franklin", franklin, regions_of([new_orleans, baton_rouge, franklin, nashville]), "US", gaz
    )
    assert not unsupported_namesake(
        "Franklin", franklin, regions_of([new_orleans, franklin]), "US", gaz
    )  # no focus
    # abroad, being the only place of its division is enough
    assert unsupported_namesake("Franklin", franklin, regions_of([franklin, gaz.by_id(2643743)]), "GB", gaz)
    chicago = max(gaz.candidates("Chicago"), key=lambda p: p.population)
    assert not unsupported_namesake(
        "Chicago", chicago, regions_of([new_orleans, baton_rouge, chicago]), "US", gaz
    )
    ayodhya = next(p for p in gaz.candidates("Ayodhya") if p.kind == "city")  # its district is no namesake
    mumbai, pune = gaz.by_id(1275339), gaz.by_id(1259229)
    assert mumbai.region_key == pune.region_key != ayodhya.region_key
    assert not unsupported_namesake("Ayodhya", ayodhya, regions_of([mumbai, pune, ayodhya]), "IN", gaz)


def test_a_place_named_right_at_an_unknown_one_holds_it(gaz):
    """ "Le Bernardin in New York", "London's Heathrow Animal Reception Center", "Snetterton, Norfolk." put the
    unknown place in the known one; a list's next item, or a small namesake away from the focus, does not."""
    nyc, london = gaz.by_id(5128581), gaz.by_id(2643743)
    new_orleans = gaz.by_id(4335045)
    body = "from August in New Orleans to Le Bernardin in New York."
    at = {(body.index("New Orleans"), body.index("New Orleans") + 11): new_orleans,
          (body.index("New York"), body.index("New York") + 8): nyc}  # fmt: skip
    span = (body.index("Le Bernardin"), body.index("Le Bernardin") + 12)
    assert named_holder(body, [span], LinkedSpans(at), new_orleans) == nyc
    body = "from London’s Heathrow Animal Reception Center."
    assert named_holder(body, [(14, 46)], LinkedSpans({(5, 11): london}), None) == london
    listed = "Rogers Centre, New York, and Boston."
    assert named_holder(listed, [(0, 13)], LinkedSpans({(15, 23): nyc}), None) is None  # a list's next item
    ended = "Rogers Centre, New York."
    assert named_holder(ended, [(0, 13)], LinkedSpans({(15, 23): nyc}), None) == nyc
    cheshire = max(gaz.candidates("Cheshire"), key=lambda p: p.country == "US")
    assert cheshire.country == "US" and cheshire.population < 100_000
    body = "Oulton Park, Cheshire."
    assert named_holder(body, [(0, 11)], LinkedSpans({(13, 21): cheshire}), london) is None
    # a place inside the name holds it, unless the name is a street's, named after the place
    body = "at the New York Auto Show and on New York Avenue."
    assert named_holder(body, [(7, 25)], LinkedSpans({(7, 15): nyc}), new_orleans) == nyc
    assert named_holder(body, [(33, 48)], LinkedSpans({(33, 41): nyc}), new_orleans) is None


@settings(max_examples=300)
@given(st.data())
def test_linked_spans_find_what_a_scan_of_every_linked_span_finds(data):
    body = "".join(
        data.draw(st.lists(st.sampled_from(["a", "'s", "’s", "'", "s", " ", "\n", "x"]), max_size=20))
    )
    bounds = st.integers(0, len(body))
    quotes = st.sampled_from([i for i, c in enumerate(body) if c in "'’"] or [0])  # where a possessive starts
    pairs = data.draw(st.lists(st.tuples(bounds, bounds | quotes), max_size=8))
    places = {(min(a, b), max(a, b)): f"p{i}" for i, (a, b) in enumerate(pairs)}
    linked = LinkedSpans(places)  # places stand in for Place: only identity matters here
    start, end = sorted(data.draw(st.tuples(bounds, bounds)))
    by_end = {e: p for (_, e), p in places.items()}
    owners = [p for e, p in by_end.items() if e < start and re.fullmatch(r"['’]s\s+", body[e:start])]
    assert [linked.owner_before(body, start)] == (owners or [None])
    inside = [p for (s, e), p in places.items() if start <= s and e <= end and (s, e) != (start, end)]
    assert linked.inside(start, end) == inside
