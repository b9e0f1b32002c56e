"""Linking an article's places to GeoNames (countries also to ISO 3166), each name read in the light of the
article's other places.

What decides, strongest first:
1. A qualifier right after the name: "Paris, Tenn.", "Cambridge, Ohio", "London, Ontario", "Albany, N.Y."
   (state and province names, AP abbreviations, US postal codes after a comma, country names): only a place
   inside it is taken.
2. Containment: a place inside a first- or second-level division or a country that the article names, or that
   its other places lie in, wins ("Moscow" in an article about Idaho is Moscow, Idaho); more so inside the
   article's dominant division.
3. A place's type, through the places it would contain: "Georgia" is the US state when the article's other
   places lie in it (Atlanta) or in the United States, and the country when they lie in the Caucasus; a
   division that shares its name with its main city ("New York"), or with its country's capital
   ("Washington"), is the city unless the article names other places inside the division away from that
   city's area (Albany; not Brooklyn).
   A country bordering one the article names or has places in is likelier than a namesake elsewhere
   ("Georgia" next to Armenia and Azerbaijan).
4. Prominence: a country, a national capital, and lastly the population.

A name made only of ordinary English words ("West", "Middle East", "White House") is far more often a
direction, region or building than the town or foreign division of that name, so such a name is linked only
to a country or continent, or to a place the article itself locates: inside the qualifier after it, in a
division or county the article names or has places in, or, for a first-level division, a capital or a city
of at least 100,000 people, in a country the article names or has places in. A name that is only an
alternate name of its places (an old name, a transliteration: "Persia" is a village in New York, "Sahara" a
hamlet in Yemen) is linked only to a place in a country the article names or has places in, a first-level division, or a
capital or city of at least 100,000 people.

Every name is read twice: first alone (with only qualifiers and unambiguous names as context), then with
the context of the other names' first readings, so that "Atlanta" helps "Georgia" and the reverse.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from transforms.entities.gazetteer import AP_ABBREVIATIONS, Gazetteer, Place, abbreviation_key, fold
from transforms.entities.rules import COMMON_WORDS
from transforms.records import EntityIds

# Score terms, in orders of magnitude of population.
_QUALIFIED = 20.0  # inside the place named right after it
_IN_NAMED_REGION = 4.0  # inside a first-level division the article names
_IN_REGION = 1.5  # inside a first-level division other places of the article lie in
_IN_DOMINANT_REGION = 1.0  # ... which is the one most of its places are in (at least two mentions)
_IN_COUNTY = 2.0  # inside a second-level division the article names or has places in
_IN_COUNTRY = 2.0  # inside a country the article names or has places in
_CONTAINS_NAMED = 3.0  # a division or country containing other places the article names
_MAY_CONTAIN = 1.5  # a division that another name of the article could lie in ("Lamar County": Georgia)
_MAY_BE_IN = 1.5  # a place in a division another name could be ("Georgia": Lamar County, Ga.)
_FEW_READINGS = 8  # a name with more readings says nothing about where the article is
_COUNTRY_PRIOR = 2.0
_NEXT_TO_COUNTRY = 1.5  # a country bordering one the article names or has places in (Georgia by Armenia)
_LIKE_LISTED = 2.0  # of the kind of the names listed with it ("California or Washington": a state)
_CONTINENT_PRIOR = 2.0
_CAPITAL_PRIOR = 1.5
_NAMESAKE_DIVISION = -1.5  # a division read where its namesake main city is meant ("New York")
_METRO_KM = 80.0  # places this near a division's namesake city are its area's (Brooklyn: New York City's)
_PROMINENT_CITY = 100_000  # a city of an ordinary word's name that its country alone may place ("Nice")

# "City, State" or "County (State)": a comma or an opening parenthesis, then up to four words of a qualifier
# (a name or an abbreviation with dots).
_QUALIFIER = re.compile(
    r"(?:,\s*|\s*\(\s*)((?:[A-Z][\w'’.]*(?:-\w[\w'’.]*)*)(?:\s+[A-Z][\w'’.]*(?:-\w[\w'’.]*)*){0,3})"
)  # a hyphen only inside a word ("Baden-Württemberg"; "Calif.--(" is "Calif.")
_POSTAL = set(AP_ABBREVIATIONS["US"])
# Abbreviations whose final dot is part of the name ("Tenn."), not a sentence's end.
_ABBREVIATED = {
    abbreviation_key(a) for by_code in AP_ABBREVIATIONS.values() for names in by_code.values() for a in names
}


_COUNTERS = ("countries", "regions", "counties", "named_regions", "possible", "possible_named")
"""The counts of a :class:`Context`, which ``Context.without`` reads less one name's own."""


class _Less:
    """A count of the article's less one name's own, read through rather than copied: ``Context.without``
    made a copy of every count for each name, quadratic in the article's places (12,000 towns: 20 CPU-s)."""

    __slots__ = ("base", "less")

    def __init__(self, base: Counter, less: Counter) -> None:
        self.base = base
        self.less = less

    def get(self, key: str, default: int | None = None) -> int | None:
        """As ``Counter.get`` on a copy with ``less`` taken away and the keys left at zero or below deleted."""
        n = self.base.get(key)
        if n is None:
            return default
        n -= self.less.get(key, 0)
        return n if n > 0 else default

    def gone(self) -> list[str]:
        """The keys of the base that are not counted here."""
        return [key for key in self.less if key in self.base and self.get(key) is None]


def _less(counts: Counter | _Less, less: Counter) -> _Less:
    """``counts`` less ``less``, over the article's own count (a view of a view takes both away)."""
    if isinstance(counts, _Less):
        return _Less(counts.base, counts.less + less)
    return _Less(counts, less)


@dataclass
class _Index:
    """What the article's places say, gathered once for the questions asked per name and reading: which
    countries have first-level divisions counted, the divisions most counted, and the towns read in each
    division (:func:`_contains_named`)."""

    prefixes: Counter  # "CC" → the region keys "CC.…" counted (every part before a dot, for exactness)
    ranked: list[tuple[str, int]]  # region keys, most counted first
    cities: dict[str | None, list[Place]]  # region key → first readings that are towns in it
    away: dict[tuple[str | None, Place], bool] = field(default_factory=dict)  # see :func:`_contains_named`

    @classmethod
    def of(cls, regions: Counter, first: dict[str, tuple[Place, int]]) -> _Index:
        prefixes: Counter = Counter()
        for key in regions:
            prefixes.update({key[:i] for i, c in enumerate(key) if c == "."})
        cities: dict[str | None, list[Place]] = {}
        for place, _ in first.values():
            if place.kind == "city":
                cities.setdefault(place.region_key, []).append(place)
        return cls(prefixes, sorted(regions.items(), key=lambda kv: kv[1], reverse=True), cities)


@dataclass
class Context:
    """What an article says about where it is: qualifiers, and how many mentions' first readings lie in each
    country, first-level division ("CC.A1") and second-level one ("CC.A1.A2")."""

    qualifiers: dict[str, Place] = field(default_factory=dict)  # folded name → the place named after it
    countries: Counter | _Less = field(default_factory=Counter)
    regions: Counter | _Less = field(default_factory=Counter)
    counties: Counter | _Less = field(default_factory=Counter)
    named_regions: Counter | _Less = field(default_factory=Counter)  # first-level divisions named as such
    first: dict[str, tuple[Place, int]] = field(default_factory=dict)  # folded name → first reading, mentions
    # Regions any reading of a name could lie in (``possible``), or be (``possible_named``), each name
    # counted once: "Lamar County" could be in Georgia, "Georgia" could be the state.
    possible: Counter | _Less = field(default_factory=Counter)
    possible_named: Counter | _Less = field(default_factory=Counter)
    options: dict[str, tuple[set[str], set[str]]] = field(default_factory=dict)  # folded name → its keys
    # Folded name → the folded names listed next to it ("Ohio, Texas or Washington"): a list names things
    # of one kind.
    listed: dict[str, set[str]] = field(default_factory=dict)
    excluding: dict[str, Context] = field(default_factory=dict, repr=False)  # ``without`` results
    # Folded names an abbreviated qualifier places where none of their readings lies ("CAMP MURRAY, Wash."):
    # a place the gazetteer lacks, not a namesake elsewhere.
    unplaced: frozenset[str] = frozenset()
    # Folded names → the name they stand for: an abbreviation whose dot the tokenizer took for a full stop
    # ("in Nashville, Tenn." read as "Tenn") → the abbreviation with its dot; an initialism of a place the
    # article spells out ("SA" after "South Africa") → that name.
    meant: dict[str, str] = field(default_factory=dict)
    # Folded names of datelines ("NEW YORK (AP) -"): a dateline names the town a story was filed from.
    datelines: frozenset[str] = frozenset()
    # Folded names the article mostly writes as "the X" heading their phrase ("across the Atlantic", "in the
    # Gulf."): a sea, a region or a river, not a town of that name.
    features: frozenset[str] = frozenset()
    # The article's counts gathered once (built at first use, when the context is complete; ``add`` drops
    # it); a ``without`` view shares its article's.
    index_: _Index | None = field(default=None, repr=False, compare=False)

    def add(self, place: Place, n: int) -> None:
        for counter, key in _keys(place):
            getattr(self, counter)[key] += n
        if place.kind == "admin1":
            self.named_regions[place.region_key] += n
        self.index_ = None

    def index(self) -> _Index:
        if self.index_ is None:
            assert isinstance(self.regions, Counter), "a without() view is made with its article's index"
            self.index_ = _Index.of(self.regions, self.first)
        return self.index_

    def consider(self, key: str, found: list[Place]) -> None:
        """Registers the regions a name's readings could lie in or be (names with few readings only: a
        name as common as "Springfield" says nothing about where the article is)."""
        if len(found) > _FEW_READINGS:
            return
        inside = {p.region_key for p in found if p.kind in ("city", "admin2") and p.region_key}
        named = {p.region_key for p in found if p.kind == "admin1" and p.region_key}
        self.options[key] = (inside, named)
        self.possible.update(inside)
        self.possible_named.update(named)

    def without(self, name: str) -> Context:
        """This context less a name's own first reading: a name is no evidence for itself. The counts are
        read through (:class:`_Less`), not copied: an article asks this once per name."""
        key = fold(name)
        own, options = self.first.get(key), self.options.get(key)
        if own is None and options is None:
            return self
        if (done := self.excluding.get(key)) is not None:
            return done
        drop: dict[str, Counter] = {counter: Counter() for counter in _COUNTERS}
        if own is not None:
            place, n = own
            for counter, k in _keys(place):
                drop[counter][k] += n
            if place.kind == "admin1":
                drop["named_regions"][place.region_key] += n
        if options is not None:
            drop["possible"].update(options[0])
            drop["possible_named"].update(options[1])
        ctx = Context(
            self.qualifiers,
            first=self.first,
            options=self.options,
            listed=self.listed,
            unplaced=self.unplaced,
            meant=self.meant,
            datelines=self.datelines,
            features=self.features,
            index_=self.index(),
            **{counter: _less(getattr(self, counter), drop[counter]) for counter in _COUNTERS},
        )
        self.excluding[key] = ctx
        return ctx

    def has_regions_in(self, country: str) -> bool:
        """Whether a first-level division of ``country`` is counted (a region key "country.…")."""
        n = self.index().prefixes.get(country, 0)
        if n and isinstance(self.regions, _Less):
            n -= sum(1 for key in self.regions.gone() if key.startswith(f"{country}."))
        return n > 0

    @property
    def dominant_region(self) -> str | None:
        top = self._top_regions()
        if not top or top[0][1] < 2 or (len(top) == 2 and top[0][1] == top[1][1]):
            return None
        return top[0][0]

    def _top_regions(self) -> list[tuple[str, int]]:
        """The two most counted regions (which of two equal ones comes first does not matter here)."""
        ranked = self.index().ranked
        if not isinstance(self.regions, _Less):
            return ranked[:2]
        less = self.regions.less
        top = [(key, n) for key in less if (n := self.regions.get(key))]
        top += [(key, n) for key, n in ranked[: len(less) + 2] if key not in less]
        return sorted(top, key=lambda kv: kv[1], reverse=True)[:2]


def _keys(place: Place) -> list[tuple[str, str]]:
    """The context counters a place adds to, with their keys: its country, its region, its county."""
    out = []
    if place.country:
        out.append(("countries", place.country))
    if place.region_key:
        out.append(("regions", place.region_key))
    if place.county_key:
        out.append(("counties", place.county_key))
    return out


def qualifier(gaz: Gazetteer, body: str, end: int, name: str = "") -> tuple[Place, int, int] | None:
    """The first-level division or country named right after a comma or in parentheses at ``end`` ("Paris,
    Tenn.", "Walker County (Ga.)"), with its span in ``body``: of the qualifier's readings, one that holds a
    reading of ``name`` ("Atlanta, Georgia": the state), else a country, else the most populous. A county
    qualifies too where it holds a reading of ``name`` ("Rockingham, Northamptonshire")."""
    readings = gaz.candidates(name) if name else []
    m = _QUALIFIER.match(body, end)
    if m is None:
        return None
    words = list(re.finditer(r"\S+", m.group(1)))
    for n in range(len(words), 0, -1):
        text = m.group(1)[: words[n - 1].end()].rstrip(",;:")
        start = m.start(1)
        if n == 1 and text in _POSTAL:
            place = gaz.by_code("admin1", f"US.{text}")
            if place is not None:
                return place, start, start + len(text)
            continue
        if len(text.rstrip(".")) < 2:
            continue
        found = [p for p in gaz.candidates(text) if p.kind in ("admin1", "country")] or [
            p for p in gaz.candidates(text) if p.kind == "admin2" and any(_inside(r, p) for r in readings)
        ]  # a county holding one of the name's readings ("Rockingham, Northamptonshire")
        if found:
            if text.endswith(".") and abbreviation_key(text) not in _ABBREVIATED:
                text = text.rstrip(".")  # a sentence's full stop ("in Paris, Texas.")
            best = max(
                found, key=lambda p: (any(_inside(r, p) for r in readings), p.kind == "country", p.population)
            )
            return best, start, start + len(text)
    return None


def _abbreviated(text: str) -> bool:
    """An AP abbreviation or a US postal code: a qualifier, never the next item of a list."""
    return abbreviation_key(text) in _ABBREVIATED or text in _POSTAL


def _inside(place: Place, container: Place) -> bool:
    if place.geonameid == container.geonameid:
        return False
    if container.kind == "country":
        return place.country == container.country
    if container.kind == "admin1":
        return place.region_key == container.region_key and place.kind != "admin1"
    if container.kind == "admin2":
        return place.county_key == container.county_key and place.kind == "city"
    return False


def context_of(
    gaz: Gazetteer,
    names: Iterable[str],
    body: str = "",
    ends: Iterable[tuple[str, int]] = (),
    spelled_out: dict[str, str] | None = None,
    datelines: Iterable[str] = (),
) -> Context:
    """The article's context from its place names (one item per mention): the qualifier found after each
    ``(name, end offset)`` in ``body``, then each name's first reading, counted once per mention.
    ``spelled_out`` maps initialisms to the names the article spells them out as ("SA": "South Africa");
    ``datelines`` are the names of its datelines, which are towns ("NEW YORK (AP) -": the city)."""
    names, ends = list(names), list(ends)
    counts = Counter(fold(n) for n in names)
    meant = _county_short_forms(gaz, body)
    meant.update({fold(short): full for short, full in (spelled_out or {}).items()})
    for name, end in ends:
        if body[end : end + 1] == "." and abbreviation_key(f"{name}.") in _ABBREVIATED:
            meant[fold(name)] = f"{name}."
    surface = dict(meant)  # each folded name's written form: "Wash." and "NJ" are found as written
    for n in names:
        surface.setdefault(fold(n), n)
    qualifiers: dict[str, Place] = {}
    unplaced = set()
    for name, end in ends:
        found = qualifier(gaz, body, end, name)
        if found is None:
            continue
        if any(_inside(p, found[0]) for p in gaz.candidates(name)):
            qualifiers.setdefault(fold(name), found[0])
        elif _abbreviated(body[found[1] : found[2]]):  # a comma before "Tenn." or "NY" is no list's
            unplaced.add(fold(name))
    ctx = Context(
        qualifiers=qualifiers,
        unplaced=frozenset(unplaced - qualifiers.keys()),
        datelines=frozenset(fold(n) for n in datelines),
        meant=meant,
        listed=_listed(body, ends),
        features=frozenset(key for key in _features(body, ends) if gaz.candidates(surface.get(key, key))),
    )
    for key in counts:
        ctx.consider(key, gaz.candidates(surface[key]))
    for _ in range(2):  # readings alone, then in the light of the others' readings
        readings = {key: resolve(gaz, surface[key], ctx) for key in counts}
        ctx = _counted(ctx, readings, counts)
    return ctx


# "the" before a name, and what may follow a name heading its own phrase: punctuation, a function word, a
# verb in the past ("the Baltic warmed") or a word for a stretch of water or land ("across the Atlantic.",
# "the Gulf and", "the Pacific coast"), unlike a town's name modifying a noun ("the Parkland shooting").
_THE_BEFORE = re.compile(
    r"(?:^|\s)the\s+(?:(?:north|south|east|west|upper|lower|greater|wider|whole|entire|open|deep|far|warm|cold|"
    r"[a-z]+(?:ern|al|ic|ian|ese|ish|ous|ive|ary))\s+){0,2}\Z",
    re.IGNORECASE,
)  # maybe with an adjective or two ("the eastern tropical Atlantic"), not "the block below"
_HEAD_END = re.compile(
    r"\s*(?:[.,;:!?)\]\"”’]|\Z)|\s+(?:of|in|on|at|to|from|and|or|nor|but|is|was|were|are|has|had|have|will|"
    r"would|could|can|may|for|with|by|as|that|which|where|when|off|near|between|into|after|before|since|"
    r"during|ocean|sea|coast|coasts|coastline|seaboard|shores?|waters|basin|region|[a-z]+ed)\b"
)


def _features(body: str, ends: list[tuple[str, int]]) -> frozenset[str]:
    """The folded names most of whose mentions are "the X" heading their phrase ("across the Atlantic",
    "in the Gulf."): English puts "the" before a sea's, a region's or a river's name, not a town's, whose
    name after "the" modifies a noun ("the Parkland shooting"); a town named with its article ("The
    Hague") is written so without it."""
    seen: Counter = Counter()
    headed: Counter = Counter()
    for name, end in ends:
        key = fold(name)
        seen[key] += 1
        start = end - len(name)
        headed[key] += bool(
            _THE_BEFORE.search(body[max(0, start - 40) : start]) and _HEAD_END.match(body, end)
        )
    return frozenset(key for key, n in headed.items() if 2 * n > seen[key])


# A county named with its word, as US counties, Louisiana's parishes and Alaska's boroughs are ("Suffolk
# County"): up to three capitalised words before it.
_COUNTY_NAMED = re.compile(r"((?:[A-Z][\w'’.-]*\s+){1,3})(County|Parish|Borough)\b")


def _county_short_forms(gaz: Gazetteer, body: str) -> dict[str, str]:
    """A county's name without its word, in an article that also writes it with the word, as a place or
    inside a name ("Suffolk" beside "Suffolk County" or "the Suffolk County Times", as local news shortens
    it) → the full name; not where a reading of the short name lies in a state one of the county's readings
    lies in ("Orange" may be Orange, California, in Orange County's state)."""
    out: dict[str, str] = {}
    for m in _COUNTY_NAMED.finditer(body):
        words = m.group(1).split()
        for n in range(len(words), 0, -1):  # "Under Fulton County" is Fulton County
            short = " ".join(words[-n:])
            full = f"{short} {m.group(2)}"
            states = {p.region_key for p in gaz.candidates(full) if p.kind == "admin2"}
            if states:
                if not any(p.region_key in states for p in gaz.candidates(short)):
                    out.setdefault(fold(short), full)
                break
    return out


_LIST_GAP = re.compile(r"\s*(?:,\s*(?:(?:and|or)\s+)?|\s(?:and|or|nor)\s+)")


def listed_next(body: str, end: int, start: int) -> bool:
    """Whether the names ending at ``end`` and starting at ``start`` are next to each other in a list."""
    return start >= end and _LIST_GAP.fullmatch(body, end, start) is not None


def _listed(body: str, ends: list[tuple[str, int]]) -> dict[str, set[str]]:
    """Each name's neighbours in a list of names ("California, Oregon or Washington")."""
    spans = sorted({(end - len(name), end, fold(name)) for name, end in ends})
    out: dict[str, set[str]] = {}
    for (_, end, a), (start, _, b) in zip(spans, spans[1:], strict=False):
        if a != b and listed_next(body, end, start):
            out.setdefault(a, set()).add(b)
            out.setdefault(b, set()).add(a)
    return out


def _counted(before: Context, readings: dict[str, Place | None], counts: Counter) -> Context:
    """A new context of ``before``'s qualifiers and possibilities with these readings counted."""
    ctx = Context(
        qualifiers=before.qualifiers,
        unplaced=before.unplaced,
        meant=before.meant,
        datelines=before.datelines,
        features=before.features,
        possible=before.possible,
        possible_named=before.possible_named,
        options=before.options,
        listed=before.listed,
    )
    for key, reading in readings.items():
        if reading is not None:
            ctx.first[key] = (reading, counts[key])
            ctx.add(reading, counts[key])
    for q in ctx.qualifiers.values():  # "Paris, Tenn." names Tennessee even when "Tenn." is no mention
        ctx.add(q, 1)
    return ctx


def resolve(gaz: Gazetteer, name: str, context: Context | None = None) -> Place | None:
    """The most likely reading of a place name in an article with ``context`` (see the module's doc)."""
    context = context or Context()
    written = context.meant.get(fold(name), name)
    found = gaz.candidates(written) or _compound(gaz, name) or _division_named(gaz, name)
    if not found or fold(name) in context.unplaced:
        return None
    if fold(name) in context.datelines:
        found = [p for p in found if p.kind == "city"] or found
    ctx = context.without(name)
    q = ctx.qualifiers.get(fold(name))
    # a division GeoNames gives no point and holds no town of 1,000 people ("Windsor Castle", a division of
    # Jamaica) is too obscure to be meant unless the article puts it there
    found = [p for p in found if p.lat is not None or _located(p, ctx, q)]
    if ordinary_words(written):
        found = [p for p in found if _located(p, ctx, q)]
    elif gaz.demonym(written) is not None or fold(name) in ctx.features:
        # a nationality word ("German": a parish of the Isle of Man) or a sea's or region's name ("the
        # Atlantic": Atlantic, Iowa) is a town only where the article puts one, or one named with "The"
        found = [p for p in found if _located(p, ctx, q) or p.name.startswith("The ")]
    elif gaz.alternate_only(written):
        found = [
            p for p in found if _prominent(p) or ctx.countries.get(p.country or "") or _located(p, ctx, q)
        ]
    if len(found) <= 1:
        return found[0] if found else None
    dominant = ctx.dominant_region
    listed = [ctx.first[n][0] for n in ctx.listed.get(fold(name), ()) if n in ctx.first]
    listed_kinds = {p.kind for p in listed}  # the kinds of the names listed with it, as they were read
    # a list names things side by side: a place is not inside a division listed next to it ("England and
    # Wales" is no village of Wales in England)
    listed_regions = {p.region_key for p in listed if p.kind == "admin1"}
    namesakes: dict[str, Place] = {}  # each region's most populous city of this name
    divisions = {p.region_key for p in found if p.kind == "admin1"}
    capitals = {
        p.country: p for p in found if p.kind == "city" and p.capital
    }  # a country's capital of this name
    for p in found:
        if (
            p.kind == "city"
            and p.region_key
            and p.population >= getattr(namesakes.get(p.region_key), "population", -1)
        ):
            namesakes[p.region_key] = p

    def score(p: Place) -> float:
        s = math.log10(p.population + 10)
        if p.kind == "country":
            s += _COUNTRY_PRIOR
            if any(ctx.countries.get(n) for n in gaz.neighbours(p.country or "")):
                s += _NEXT_TO_COUNTRY
        elif p.kind == "continent":
            s += _CONTINENT_PRIOR
        elif p.capital:
            s += _CAPITAL_PRIOR
        namesake = namesakes.get(p.region_key or "") if p.kind in ("admin1", "admin2") else None
        if namesake is not None:
            s += _NAMESAKE_DIVISION
        elif (
            p.kind == "admin1"
            and (capital := capitals.get(p.country or "")) is not None
            and p.kind not in listed_kinds
            and not ctx.named_regions.get(p.region_key or "")
            and not _contains_named(p, ctx, capital)
        ):  # "Washington" is the capital unless the article names Washington state otherwise ("Wash."),
            # lists it with other states, or names places in it
            s += _NAMESAKE_DIVISION
        if q is not None and _inside(p, q):
            s += _QUALIFIED
        if p.kind in listed_kinds:
            s += _LIKE_LISTED
        if p.kind != "country" and ctx.countries.get(p.country or ""):
            s += _IN_COUNTRY
        if p.kind in ("city", "admin2") and not (
            p.region_key in divisions and namesakes.get(p.region_key) == p
        ):
            # the strongest evidence of its region counts, not their sum; none for a division's namesake
            # city ("New York"), for which that evidence speaks for the division
            key = p.region_key or ""
            s += max(
                _IN_NAMED_REGION if ctx.named_regions.get(key) and key not in listed_regions else 0.0,
                _IN_REGION if ctx.regions.get(key) else 0.0,
                _MAY_BE_IN if ctx.possible_named.get(key) else 0.0,
            )
            s += _IN_DOMINANT_REGION if key == dominant else 0.0
        if p.kind == "city" and ctx.counties.get(p.county_key or ""):
            s += _IN_COUNTY
        if _contains_named(p, ctx, namesake):
            s += _CONTAINS_NAMED
        elif p.kind == "admin1" and namesake is None and ctx.possible.get(p.region_key or ""):
            s += _MAY_CONTAIN
        return s

    return max(found, key=lambda p: (score(p), p.population))


def _compound(gaz: Gazetteer, name: str) -> list[Place]:
    """The readings of a place and its qualifier in one mention ("Washington, D.C.", "Matias Romero,
    Oaxaca"): the places of the first part inside the second."""
    head, comma, tail = name.rpartition(",")
    if not (comma and head.strip() and tail.strip()):
        return []
    containers = [p for p in gaz.candidates(tail.strip()) if p.kind in ("admin1", "country")]
    return [p for p in gaz.candidates(head.strip()) if any(_inside(p, c) for c in containers)]


# A first-level division's name followed by its kind's word ("Borno State", "Washington State", "Gauteng
# Province"), which the gazetteer lists without it.
_DIVISION_WORD = re.compile(
    r"\s+(?:state|province|region|prefecture|governorate|oblast|territory)$", re.IGNORECASE
)


def division_word(name: str) -> bool:
    """Whether a name ends with a division's kind ("Borno State")."""
    return _DIVISION_WORD.search(name) is not None


def _division_named(gaz: Gazetteer, name: str) -> list[Place]:
    """The first-level divisions of a name written with its kind's word after it ("Borno State")."""
    head = _DIVISION_WORD.sub("", name)
    if head == name or not head[:1].isupper():
        return []
    return [p for p in gaz.candidates(head) if p.kind == "admin1"]


def ordinary_words(name: str) -> bool:
    """A name made only of words that news prints in lowercase ("West", "Middle East", "White House"); not an
    abbreviation ("Mass.", "Pa.")."""
    if name.endswith("."):
        return False
    words = re.findall(r"[^\W\d_]+", name)
    return bool(words) and all(w.casefold() in COMMON_WORDS for w in words)


def _located(place: Place, ctx: Context, q: Place | None) -> bool:
    """Whether the article itself puts a place where it is (see the module's doc)."""
    if place.kind in ("country", "continent") or q is not None and _inside(place, q):
        return True
    in_country = bool(ctx.countries.get(place.country or ""))
    if place.kind == "admin1":
        return in_country
    key = place.region_key or ""
    if ctx.named_regions.get(key) or ctx.regions.get(key) or ctx.counties.get(place.county_key or ""):
        return True
    return in_country and place.kind == "city" and _prominent(place)


def _prominent(place: Place) -> bool:
    return place.kind == "admin1" or place.capital or place.population >= _PROMINENT_CITY


def _contains_named(place: Place, ctx: Context, namesake: Place | None = None) -> bool:
    """A division or country with other places of the article inside it; for a division named like its
    main city ("New York"), places inside it away from that city's area (Albany, not Brooklyn: a reader
    takes "New York" with Brooklyn for the city). Asked of each reading of each name, so answered from
    the article's index (:class:`_Index`), not by going through its places."""
    if place.kind == "country":
        return ctx.has_regions_in(str(place.country))
    if place.kind == "admin1" and namesake is not None:
        index = ctx.index()
        asked = (place.region_key, namesake)
        if (away := index.away.get(asked)) is None:
            away = index.away[asked] = any(
                r.geonameid != namesake.geonameid and _km(r, namesake) > _METRO_KM
                for r in index.cities.get(place.region_key, ())
            )
        return away
    if place.kind == "admin1":
        return bool(ctx.regions.get(place.region_key or ""))
    if place.kind == "admin2":
        return bool(ctx.counties.get(place.county_key or ""))
    return False


def _km(a: Place, b: Place) -> float:
    """Great-circle distance; infinite when either has no point."""
    if a.lat is None or a.lon is None or b.lat is None or b.lon is None:
        return math.inf
    la1, lo1, la2, lo2 = map(math.radians, (a.lat, a.lon, b.lat, b.lon))
    h = math.sin((la2 - la1) / 2) ** 2 + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(h)))


def entity_ids(place: Place | None) -> EntityIds:
    if place is None:
        return EntityIds()
    return EntityIds(geonames=place.geonameid, iso3166=place.iso3166)
