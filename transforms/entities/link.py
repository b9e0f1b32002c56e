"""Linking places to GeoNames (and countries to ISO 3166), disambiguated by population and the article's
other places: "Moscow" in an article about Russia is 524901, not Moscow, Idaho."""

from __future__ import annotations

import math
from collections.abc import Iterable

from transforms.entities.gazetteer import Gazetteer, Place
from transforms.records import EntityIds

# Bonuses in orders of magnitude of population: the article names the place's country, its region (Moscow
# in an article about Idaho), or the place is a national capital (Washington the city, not the state).
_COUNTRY_BONUS = 3.0
_REGION_BONUS = 4.0
_CAPITAL_BONUS = 2.0
_REGION_LOG_POPULATION = 6.5  # US states carry no population in the source; a typical one has millions


def context_of(gaz: Gazetteer, names: Iterable[str]) -> set[str]:
    """Countries and regions the article names, directly or through a place with only one reading."""
    out: set[str] = set()
    for name in names:
        found = gaz.candidates(name)
        country = gaz.country(name)
        if country is not None:
            out.add(country.country or "")
        elif len(found) == 1 or all(p.kind == "region" for p in found):
            out.update(p.country or "" for p in found)
            out.update(p.region_key or "" for p in found if p.kind == "region")
    out.discard("")
    return out


def resolve(gaz: Gazetteer, name: str, context: set[str]) -> Place | None:
    """The most likely reading of a place name: a country or continent if it is one, else the region or
    city with the best score of population, capital status and the article's other places."""
    found = gaz.candidates(name)
    if not found:
        return None
    for kind in ("country", "continent"):
        for p in found:
            if p.kind == kind:
                return p

    def score(p: Place) -> float:
        s = _REGION_LOG_POPULATION if p.kind == "region" else math.log10(p.population + 10)
        s += _CAPITAL_BONUS if p.capital else 0.0
        s += _COUNTRY_BONUS if p.country in context else 0.0
        s += _REGION_BONUS if p.kind == "city" and p.region_key in context else 0.0
        return s

    return max(found, key=score)


def entity_ids(place: Place | None) -> EntityIds:
    if place is None:
        return EntityIds()
    return EntityIds(geonames=place.geonameid, iso3166=place.iso3166)
