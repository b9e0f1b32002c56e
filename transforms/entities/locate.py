"""Where an article puts a place the gazetteer has no entry for: a street, venue, building, park or
neighbourhood ("Royal Street", "Wembley Stadium", "Eva's Village") lies in the town the article is about.

GeoNames' populated places and divisions cannot name such places, but a reader still knows roughly where they
are: in the article's focus, the town (else county, else state or province, else country) that most of its
place mentions name. That containing place is given as the entity's ``located_in``, never as its own id, so a
consumer can map it at the containing place's point and knows the point is approximate.

A name that reads as a wide feature (an ocean, coast, peninsula, river or mountain range; a region named by
a direction: "Middle East", "North Africa", "West Coast") is no part of a town. A region named as a part of
a place the gazetteer knows lies in that place ("South Florida" in Florida, "North Africa" in Africa); any
other wide feature gets nothing.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter
from collections.abc import Iterable

from transforms.entities.gazetteer import Gazetteer, Place
from transforms.entities.link import ordinary_words
from transforms.entities.place_endings import Use, ending_words

# Kinds of place, finest first: a street lies in the finest place the article is about.
_FINEST_FIRST = ("city", "admin2", "admin1", "country")
_WIDE_KINDS = ("continent", "country", "admin1")
# Last words of features wider than a town, or that run through many ("Mississippi River"), and of polities,
# from the one table of places' last words (``place_endings``).
_WIDE_FEATURE = re.compile(
    r"\b(?:" + "|".join(sorted(map(re.escape, ending_words(Use.WIDER_THAN_TOWN)))) + r")$", re.IGNORECASE
)
# Words that make a region of a larger place ("Middle East", "Northern Europe", "Eastern Ghouta") unless
# the name is a street's ("North State Street", "West End Avenue").
_DIRECTIONS = {
    "north", "south", "east", "west", "northern", "southern", "eastern", "western", "middle", "central",
    "northeast", "northwest", "southeast", "southwest", "northeastern", "northwestern", "southeastern",
    "southwestern", "upper", "lower", "greater",
}  # fmt: skip
# Last words of streets' names, and of buildings and grounds, which lie in a town whatever direction their
# name has ("Northwestern Memorial Hospital", "East High School"): here "Hall", "Church" and "Tower" count,
# unlike in ``rules``, which must tell a place from a surname (``place_endings`` says why).
_STREET_WORDS = ending_words(Use.STREET)
_BUILDING_WORDS = ending_words(Use.BUILDING_IN_TOWN)


def inside_a_town(name: str, gaz: Gazetteer) -> bool:
    """Whether a place of this name can lie inside a town: not a wide feature, a directional region (but a
    building named with a direction, "Northwestern Memorial Hospital"), or a region or polity named after a
    country, continent or state ("Latin America", "Nazi Germany", "South Florida")."""
    words = re.findall(r"[^\W\d_]+", name)
    folded = [w.casefold() for w in words]
    if not words or _WIDE_FEATURE.search(name.rstrip(". ")):
        return False
    if any(w in _DIRECTIONS for w in folded) and not any(w in _STREET_WORDS for w in folded):
        return folded[-1] in _BUILDING_WORDS
    tails = [" ".join(words[-n:]) for n in (1, 2) if len(words) > n]
    return not any(
        p.kind in _WIDE_KINDS for tail in tails if not ordinary_words(tail) for p in gaz.candidates(tail)
    )  # "Rogers Centre" and "Eglinton Avenue West" are no regions of a Centre or a West


def named_part(name: str) -> str | None:
    """The place a region is named as a part of ("Florida" in "South Florida", "Africa" in "North Africa",
    "London" in "Greater London"): the name after its direction words, if that is no ordinary word ("Middle
    East", "West Coast")."""
    words = name.split()
    lead = 0
    while lead < len(words) and words[lead].casefold() in _DIRECTIONS:
        lead += 1
    rest = " ".join(words[lead:])
    if lead == 0 or not rest or ordinary_words(rest):
        return None
    return rest


def focus(placed: Iterable[tuple[Place, int]]) -> Place | None:
    """The place an article is about, from its linked places and their mention counts, top down: the country
    its place mentions are most in, then that country's first-level division they are most in, then that
    division's (else the country's) most mentioned town, else county, else the division or country itself.
    A tie goes to the country or division with more distinct places (a name repeated in passing, "Franklin"
    as a street three times, weighs less than three places of one state), then to the first named;
    population breaks the last tie among towns."""
    placed = [(p, n) for p, n in placed if p.kind in _FINEST_FIRST and p.country]
    country = _most((p.country, n) for p, n in placed)
    if country is None:
        return None
    placed = [(p, n) for p, n in placed if p.country == country]
    region = _most((p.region_key, n) for p, n in placed if p.region_key)
    local = [(p, n) for p, n in placed if p.region_key == region] if region else placed
    for kind in _FINEST_FIRST:
        found = [(p, n) for p, n in local if p.kind == kind]
        if found:
            return max(found, key=lambda pn: (pn[1], pn[0].population))[0]
    return None


def _most(keyed: Iterable[tuple[str | None, int]]) -> str | None:
    """The key with the most mentions, then the most places (one item each), then the first seen."""
    mentions: Counter = Counter()
    places: Counter = Counter()
    for key, n in keyed:
        if key:
            mentions[key] += n
            places[key] += 1
    return max(mentions, key=lambda k: (mentions[k], places[k]), default=None)


_SMALL_TOWN = 100_000  # a town this small is known only near it


def regions_of(places: Iterable[Place]) -> dict[str, Counter]:
    """How many of ``places`` lie in each first-level division, by country: counted once per article, as
    ``unsupported_namesake`` asks it for each place (counting per place was quadratic in the article's
    places: 8,000 towns spent 5 CPU-s here)."""
    regions: dict[str, Counter] = {}
    for p in places:
        if p.region_key:
            regions.setdefault(p.country, Counter())[p.region_key] += 1
    return regions


def unsupported_namesake(
    name: str, place: Place, regions_by_country: dict[str, Counter], home: str | None, gaz: Gazetteer
) -> bool:
    """Whether ``place``, the reading picked for ``name`` among namesakes in other divisions, is a small
    town (no capital) that nothing in the article supports: the only one of the article's distinct linked
    places (``regions_by_country``, their ``regions_of``) in its first-level division, in a country not the
    article's ``home``, or in the home country while the article's places there gather in another division
    (two or more). Such a name is more likely a place the gazetteer lacks where the article is (a New
    Orleans street called Franklin, Rockingham in Northamptonshire) than the namesake population picked
    (Franklin, Tennessee; Rockingham, North Carolina)."""
    if place.kind != "city" or place.capital or place.population >= _SMALL_TOWN or not place.region_key:
        return False
    if all(r.region_key == place.region_key for r in gaz.candidates(name)):
        return False  # no namesake elsewhere: "Ayodhya" the town or its district
    regions = regions_by_country.get(place.country, Counter())
    if regions[place.region_key] != 1:
        return False
    if place.country != home:
        return True
    top, n = regions.most_common(1)[0]
    return n >= 2 and top != place.region_key


# What joins a place the gazetteer lacks to the known place holding it: "Collins Avenue in Miami Beach", "Le
# Bernardin at New York", "Mount Chaambi, Kasserine", or "London's Heathrow Animal Reception Center".
_HOLDER_AFTER = re.compile(r"\s*,\s*|\s+(?:in|at|near|outside)\s+")
_PHRASE_END = re.compile(r"\s*(?:[.;:()\n]|\Z)")
_POSSESSIVE_GAP = re.compile(r"['’]s\s+")


class LinkedSpans:
    """The article's linked place mentions (``places``, a place by span), indexed once for ``named_holder``,
    which is asked for each place the gazetteer lacks: indexing them, and scanning them for a possessive
    before a mention or a place inside it, per question was quadratic (29 unknown places among 8,000 towns:
    1 CPU-s)."""

    def __init__(self, places: dict[tuple[int, int], Place]) -> None:
        self.by_start = {s: (e, p) for (s, e), p in places.items()}
        self.by_end = {e: p for (_, e), p in places.items()}
        # (start, end, order in ``places``, place) by start: the places inside a span, in ``places``' order
        self.spans = sorted((s, e, i, p) for i, ((s, e), p) in enumerate(places.items()))
        self.starts = [s for s, _, _, _ in self.spans]

    def inside(self, start: int, end: int) -> list[Place]:
        """The places named inside ``start:end`` (not at it), in the order ``places`` had them."""
        first, last = bisect.bisect_left(self.starts, start), bisect.bisect_right(self.starts, end)
        found = [(i, p) for s, e, i, p in self.spans[first:last] if e <= end and (s, e) != (start, end)]
        return [p for _, p in sorted(found, key=lambda found: found[0])]

    def owner_before(self, body: str, start: int) -> Place | None:
        """The place whose possessive ends right before ``start`` ("London's Heathrow")."""
        k = start
        while k > 0 and body[k - 1].isspace():
            k -= 1
        e = k - 2
        if k == start or e < 0 or body[e + 1] != "s" or body[e] not in "'’":
            return None
        return self.by_end.get(e)


def named_holder(
    body: str, spans: Iterable[tuple[int, int]], linked: LinkedSpans, where: Place | None
) -> Place | None:
    """The known place an article names right at a mention of a place the gazetteer lacks, ``spans`` being
    that place's mentions, ``linked`` the article's linked mentions and ``where`` its focus: after
    "in", "at", "near" or "outside" ("Le Bernardin in New York"), after a comma when it ends the phrase
    ("Mount Chaambi, Kasserine."; not a list's next item), before it with a possessive ("London's Heathrow
    Animal Reception Center"), or inside its name ("the New York Auto Show"; not a street's: "Hampton
    Avenue" is named after Hampton). A reader takes that place, not the article's focus, for where it is,
    if it is well known (a country, first-level division, capital or city of 100,000) or in the focus's
    division: a small holder elsewhere is more likely itself a namesake misread ("Oulton Park, Cheshire" is
    no Cheshire, Connecticut)."""
    found = []
    for start, end in spans:
        gap = _HOLDER_AFTER.match(body, end)
        if gap is not None and gap.end() in linked.by_start:
            holder_end, holder = linked.by_start[gap.end()]
            if "," not in gap.group() or _PHRASE_END.match(body, holder_end):
                found.append(holder)
        if (owner := linked.owner_before(body, start)) is not None:
            found.append(owner)
        if not _street(body[start:end]):
            found += linked.inside(start, end)
    return next((p for p in found if _known_or_local(p, where)), None)


def _street(name: str) -> bool:
    words = re.findall(r"[^\W\d_]+", name)
    return bool(words) and words[-1].casefold() in _STREET_WORDS


def _known_or_local(place: Place, where: Place | None) -> bool:
    if place.kind in ("country", "admin1") or place.capital or place.population >= _SMALL_TOWN:
        return True
    return where is not None and place.region_key is not None and place.region_key == where.region_key
