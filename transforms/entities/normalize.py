"""Normalisation within a document: mentions of one thing become one entity with a canonical name.

"Peskov" after (or before) "Dmitry Peskov" is that person; "Kiev" and "Kyiv", "the Russian Federation" and
"Russia", "U.S." and "United States" are one place through the gazetteer; "EU" after "European Union" is that
organisation; possessives are trimmed off. The type of an entity is the majority of its mentions' types,
except that a place the model also read as an organisation is split into the place and the organisation
(a city and its team), and a lone acronym "person" or "the Kremlin" is an organisation.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter
from dataclasses import dataclass, field

from transforms.entities import lexicon, warm_words
from transforms.entities.confidence import confident
from transforms.entities.gazetteer import Gazetteer, Place, fold
from transforms.entities.link import (
    Context,
    context_of,
    division_word,
    listed_next,
    ordinary_words,
    qualifier,
    resolve,
)
from transforms.entities.locate import (
    LinkedSpans,
    focus,
    inside_a_town,
    named_holder,
    named_part,
    regions_of,
    unsupported_namesake,
)
from transforms.entities.place_endings import Use, ending_words
from transforms.entities.propagate import propagate
from transforms.entities.recognize import RawMention, covered
from transforms.entities.rules import (
    COMMON_WORDS,
    TITLES,
    aliases,
    cut_dash_tail,
    defined_kinds,
    is_event,
    join_country_to_organisation,
    organisation_by_form,
    possessive_buildings,
    split_coordination,
    split_lines,
    starts_sentence,
    strip_titles,
)
from transforms.entities.sports import PHRASE_END, is_sports_report, teams
from transforms.records import Mention

_POSSESSIVE = re.compile(r"(?:['’]s|(?<=s)['’])$")
_LEADING_THE = re.compile(r"^[Tt]he\s+")
# What a model sometimes takes into a name's end and no name ends with: a citation's "et al." ("Biggs et
# al."), punctuation or a dash ("DPRK-" of "DPRK-South Korea"), or a function word ("Title IV of the").
_TAIL = re.compile(r"(?:\s+et\s+al\b\.?|\s*[,;:\-–—]|\s+(?:of|the|and|or|for|in|on|at|to|a|an)\b)+$")
_DOTTED = re.compile(r"(?:\b[A-Z]\.)+[A-Z]$")  # an abbreviation with dots, short of its last one ("U.S")
_INSTITUTION_SEATS = {"kremlin"}
_CUE_WINDOW = 80  # characters after a mention where "its" or "he" most likely refers to it
_ORG_CUE = re.compile(
    r"\b(its|company|companies|firm|shares|stock|group|brand|maker|bank|lender|producer|operator|agency|team"
    r"|retailer|carrier|airline|insurer|miner|startup|unit|subsidiary|said in a statement)\b",
    re.IGNORECASE,
)
# Words right after a name that only a company's name has before them ("Ericsson spokesman Per Zetterquist").
_COMPANY_CUE = re.compile(
    r"(?:['’]s)?\s+(?:spokes(?:man|woman|person)|shares|stock|chief executive|chairman|said in a statement)\b",
    re.IGNORECASE,
)
_PERSON_CUE = re.compile(r"\b(he|she|his|her|him)\b", re.IGNORECASE)
_PLACE_CUE = re.compile(r"\b(in|near|from|across|outside|around|throughout)\s+$")
# The same without "from", which precedes a company as often as a place ("engineers from Google").
_STRICT_PLACE_CUE = re.compile(r"\b(in|near|across|outside|around|throughout)\s+$")
_ACRONYM_SKIP = {"of", "the", "and", "for", "de", "du", "des", "la", "le", "&"}


@dataclass
class Cluster:
    """One entity of the document while it is being assembled."""

    mentions: list[Mention] = field(default_factory=list)
    own: list[str] = field(default_factory=list)  # each mention's own type, parallel to ``mentions``
    types: Counter = field(default_factory=Counter)
    place: Place | None = None
    within: Place | None = None  # a place the gazetteer lacks: the place the article puts it in
    full_name: str | None = None  # a PERSON's longest name
    long_type: str | None = None  # the type of its first name of several words, if a person or organisation

    @property
    def type(self) -> str:
        return self.types.most_common(1)[0][0]

    @property
    def name(self) -> str:
        if self.place is not None and self.type == "LOC" and self.place.kind not in ("admin1", "admin2"):
            return self.place.name  # a division's table name is often its official local form ("Bayern")
        if self.full_name and self.type == "PERSON":
            return self.full_name
        forms = Counter(m.text for m in self.mentions)
        return max(forms, key=lambda f: (len(f.split()), forms[f], -len(f)))


def trim(body: str, m: RawMention) -> RawMention:
    """Drops surrounding space, a trailing "et al.", comma or function word, a possessive ending and a leading "the" so that
    the mention is the name alone. A capitalised "The" inside a sentence is part of the name ("at The Oval",
    "The Hut Group")."""
    text = body[m.start : m.end]
    start = m.start + len(text) - len(text.lstrip())
    end = m.end - len(text) + len(text.rstrip())
    if (tail := _TAIL.search(body, start, end)) and tail.start() > start:
        end = tail.start()
    text = body[start:end]
    if (pos := _POSSESSIVE.search(text)) and pos.start() > 0:
        end = start + len(text[: pos.start()].rstrip())  # "Lord 's" in tokenised text is "Lord"
    if (
        (lead := _LEADING_THE.match(text))
        and lead.end() < end - start
        and (text[0] == "t" or starts_sentence(body, start))
    ):
        start += lead.end()
    if _DOTTED.search(body, start, end) and body[end : end + 1] == ".":
        end += 1  # "the U.S." ending a sentence: the tokenizer took the abbreviation's dot for the full stop
    return RawMention(start, end, m.type)


def acronym(name: str) -> str | None:
    words = [w for w in re.split(r"[\s-]+", name) if w and w.lower() not in _ACRONYM_SKIP]
    if len(words) < 2 or not all(w[0].isupper() for w in words):
        return None
    return "".join(w[0] for w in words)


def normalize(body: str, raw: list[RawMention], gaz: Gazetteer) -> list[Cluster]:
    """Groups the mentions of ``body`` into entities, in order of first mention."""
    lines = [part for m in confident(body, raw, gaz) for part in split_lines(body, m)]
    mentions = [t for t in (trim(body, cut_dash_tail(body, m)) for m in lines) if t.end > t.start]
    mentions = [organisation_by_form(body, strip_titles(body, m)) for m in mentions]
    mentions = [part for m in possessive_buildings(body, mentions) for part in split_coordination(body, m)]
    mentions = lexicon.apply(body, mentions, gaz)
    mentions = defined_kinds(body, mentions, lambda name: bool(gaz.candidates(name)))
    mentions = _hyphen_joined_places(body, [_natural_feature(body, m) for m in mentions], gaz)
    mentions = _places_not_people(body, mentions, gaz)
    mentions = _listed_with_places(body, mentions, gaz)
    mentions = [_place_before_office(body, m, gaz) for m in mentions]
    mentions = join_country_to_organisation(body, mentions, lambda name: gaz.country(name) is not None)
    mentions = teams(body, [_team(body, m, gaz) for m in mentions], gaz)
    mentions = propagate(body, aliases(body, mentions))
    mentions, datelines = _datelines(body, mentions, gaz)
    mentions = _roads(body, mentions)
    mentions = sorted(_qualifier_mentions(body, mentions, gaz), key=lambda m: m.start)
    mentions, spelled_out = _initialisms(body, mentions, gaz)
    places_named = [m for m in mentions if m.type == "LOC"]
    context = context_of(
        gaz,
        [body[m.start : m.end] for m in places_named],
        body,
        [(body[m.start : m.end], m.end) for m in places_named],
        spelled_out,
        datelines,
    )
    clusters: list[Cluster] = []
    by_key: dict[str, Cluster] = {}
    by_name_part: dict[str, Cluster] = {}  # a PERSON's first and last names
    by_acronym: dict[str, Cluster] = {}
    places: dict[str, Place | None] = {}

    for m in sorted(mentions, key=lambda m: m.start):
        text = body[m.start : m.end]
        key = fold(text)
        words = text.split()
        place = None
        if m.type == "LOC" or key in by_key and by_key[key].place is not None:
            if key not in places:
                places[key] = resolve(gaz, text, context)
            place = places[key]
        cluster = None
        if place is not None:
            cluster = by_key.get(f"geo:{place.geonameid}")
        if cluster is None:
            cluster = by_key.get(key)
        type_ = m.type
        if cluster is None and len(words) == 1 and place is None and not _nationality(gaz, m, text):
            cluster = by_name_part.get(key) or by_acronym.get(text)
            if cluster is not None and m.type == "MISC" and cluster.type != "MISC":
                # A religion's or creed's word ("Islamic", "Jewish") is no short name of an organisation
                # with it in its name ("Islamic Salvation Front"); it may be one of a longer miscellaneous name.
                cluster = None
            if cluster is not None:  # a part of a longer name is a mention of that name's kind of thing
                type_ = cluster.type
        if cluster is None:
            cluster = Cluster()
            clusters.append(cluster)
        if len(words) == 1 and cluster.long_type:
            # "Bernardin" after "Joseph Bernardin" is the person, whatever the model read it as
            type_ = cluster.long_type
        elif len(words) >= 2 and cluster.long_type is None and type_ in ("PERSON", "ORG"):
            cluster.long_type = type_
        if type_ == "PERSON" and len(words) >= 2:
            _absorb_name_parts(cluster, words, by_name_part, by_key)
            if cluster.full_name is None or len(words) > len(cluster.full_name.split()):
                cluster.full_name = text
        if type_ in ("ORG", "MISC") and len(words) >= 2:
            if abbr := acronym(text):
                by_acronym.setdefault(abbr, cluster)
            for word in words:
                if word[0].isupper() and len(word) > 2 and word.lower() not in _ACRONYM_SKIP:
                    by_name_part.setdefault(fold(word), cluster)
        cluster.mentions.append(Mention(text=text, start=m.start, end=m.end))
        cluster.own.append(m.type)
        cluster.types[type_] += 1
        if place is not None and cluster.place is None:
            cluster.place = place
            by_key[f"geo:{place.geonameid}"] = cluster
        by_key.setdefault(key, cluster)
    clusters = [part for c in clusters if c.mentions for part in _split_places_from_teams(c)]
    for c in clusters:
        _retype(c, body, gaz, context)
        if c.type == "MISC" and c.place is None:
            text = c.mentions[0].text  # "Russian" and "Russians" refer to Russia
            c.place = gaz.demonym(text) or (gaz.demonym(text[:-1]) if text.endswith("s") else None)
    _nest_places(body, clusters, gaz, context)
    _locate_unlinked(body, clusters, gaz, context)
    return clusters


def _locate_unlinked(body: str, clusters: list[Cluster], gaz: Gazetteer, context: Context) -> None:
    """Puts each place the gazetteer lacks in the article's focus (``locate``), "Royal Street" in New
    Orleans, or in the known place named right at it, "Le Bernardin in New York"; a region named as a part
    of a place in that place, "South Florida" in Florida; a sea ("the Atlantic") nowhere."""
    _unlink_stray_towns(clusters, gaz)
    placed = [(c.place, len(c.mentions)) for c in clusters if c.type == "LOC" and c.place is not None]
    where = focus(placed)
    linked = {
        (m.start, m.end): c.place
        for c in clusters
        if c.type == "LOC" and c.place is not None
        for m in c.mentions
    }
    spans = LinkedSpans(linked)
    for c in clusters:
        if c.type != "LOC" or c.place is not None:
            continue
        if inside_a_town(c.name, gaz) and fold(c.name) not in context.features:  # no sea in a town
            c.within = named_holder(body, [(m.start, m.end) for m in c.mentions], spans, where) or where
        elif (part := named_part(c.name)) is not None:
            c.within = resolve(gaz, part, context) or gaz.demonym(part)


def _unlink_stray_towns(clusters: list[Cluster], gaz: Gazetteer) -> None:
    """A small town abroad that is the article's only place in its country, in an article whose places lie
    in another country, is more likely a place the gazetteer lacks there ("Heathrow" in a London story is
    no Heathrow, Florida; "Chartres" in a New Orleans one is its street) than a stray namesake: it gets no
    link, and is then located in the article's focus like any unknown place. So is a namesake nothing in
    the article supports (``unsupported_namesake``). Repeated until none is left: a stray unlinked supports
    no other ("Rockingham" read in North Carolina does not hold "Cheshire" in Connecticut)."""
    while _unlink_strays_once(clusters, gaz):
        pass


def _unlink_strays_once(clusters: list[Cluster], gaz: Gazetteer) -> bool:
    places = [c.place for c in clusters if c.type in ("LOC", "MISC") and c.place is not None]
    countries = Counter(p.country for p in {p.geonameid: p for p in places}.values())
    home, distinct = countries.most_common(1)[0] if countries else (None, 0)
    if distinct < 2:
        return False
    regions = regions_of({p.geonameid: p for p in places}.values())
    unlinked = False
    for c in clusters:
        p = c.place
        if (
            c.type == "LOC"
            and p is not None
            and p.kind == "city"
            and not p.capital
            and p.population < _NESTED_CITY_POPULATION
            and (
                p.country != home
                and countries[p.country] == 1
                or unsupported_namesake(c.name, p, regions, home, gaz)
            )
            and not any(m.nested for m in c.mentions)
        ):
            c.place = None
            unlinked = True
    return unlinked


def _qualifier_mentions(body: str, mentions: list[RawMention], gaz: Gazetteer) -> list[RawMention]:
    """The state or country qualifying a place ("Paris, Tenn.", "Albany, NY"), as a place mention when
    recognition left it out or read it as something else ("HORRY COUNTY, SC (WMBF)": "SC" an organisation):
    abbreviations and postal codes are rarely read as names. Returns the mentions with these added."""
    taken = covered(len(body), mentions)
    by_span = {(m.start, m.end): i for i, m in enumerate(mentions)}
    out = list(mentions)
    for m in mentions:
        if m.type != "LOC":
            continue
        found = qualifier(gaz, body, m.end)
        if found is None:
            continue
        place, start, end = found
        same = by_span.get((start, end))
        if (same is None and any(taken[start:end])) or not any(
            p.geonameid != place.geonameid and _within(p, place)
            for p in gaz.candidates(body[m.start : m.end])
        ):
            continue
        if same is not None:
            out[same] = RawMention(start, end, "LOC")
        else:
            out.append(RawMention(start, end, "LOC"))
            taken[start:end] = b"\1" * (end - start)
    return out


# A dateline: a place in capitals opening a line or a sentence, maybe its state or country, maybe the
# source in parentheses, then a dash ("HOUSTON (AP) -", "PLEASANTON, Calif.--", "ST. LOUIS –", "(NEW YORK) —").
_DATELINE = re.compile(
    r"(?:^|(?<=\n)|(?<=[.!?]\s))\(?([A-Z][A-Z.'’]*(?:[ -][A-Z][A-Z.'’]*){0,3})"
    r"(?=\)?((?:,\s*[A-Z][\w.]*(?:\s[A-Z][\w.]*)?)?\s*(?:\([^()\n]{0,20}\)\s*)?)(?:--|[—–-]))"
)  # in parentheses too ("(NEW YORK) —")


def _datelines(body: str, mentions: list[RawMention], gaz: Gazetteer) -> tuple[list[RawMention], list[str]]:
    """The place of a dateline, which models trained on running text miss or cut ("SAN" of "SAN DIEGO
    (AP) -"): a place mention in place of any mention inside it. A common word before a bare dash is a
    section's name ("CRICKET - LARA ENDURES...", "ORE - Maritime Queen"), a place only with its state or
    source ("MOBILE (AP) -"). Returns the mentions and the datelines' names."""
    found = [
        RawMention(d.start(1), d.end(1), "LOC")
        for d in _DATELINE.finditer(body)
        if len(d.group(1).rstrip(".")) > 2
        and (d.group(2).strip() or len(d.group(1)) > 3 and not ordinary_words(d.group(1)))
        and gaz.candidates(d.group(1))
    ]
    if not found:
        return mentions, []
    # The datelines do not overlap and come in order: a mention inside one is inside the last that starts at
    # or before it (looked up, not tried against every dateline: 20,000 dateline paragraphs took 24 CPU-s).
    starts = [d.start for d in found]
    kept = [
        m for m in mentions if (at := bisect.bisect_right(starts, m.start) - 1) < 0 or m.end > found[at].end
    ]
    taken = covered(len(body), kept)
    added = [d for d in found if not any(taken[d.start : d.end])]
    return sorted(kept + added, key=lambda m: m.start), [body[d.start : d.end] for d in found]


# Streets numbered in words or digits ("Third Street", "14th St.") and numbered roads ("the A417", "I-95",
# "Route 66"), which a model trained on names rarely reads as names.
_ORDINAL = r"(?:First|Second|Third|Fourth|Fifth|Sixth|Seventh|Eighth|Ninth|Tenth|Eleventh|Twelfth|\d{1,3}(?:st|nd|rd|th))"
_NUMBERED_STREET = re.compile(
    rf"\b{_ORDINAL}\s+(?:[Ss]treet|St\.|Avenue|Ave\.|Road|Rd\.|Boulevard|Blvd\.|Lane|Drive|Place|Terrace)"
)
_ROAD = re.compile(
    r"\b(?:[AM]\d{1,4}|I-\d{1,3}|Interstate \d{1,3}|(?:State )?(?:Route|Highway) \d{1,4})\b(?![-/]\w)"
)  # not part of a longer code ("the M5-RFP coalition")
_PAPER_AFTER = re.compile(
    r"\s+(?:paper|size|sheets?|format|envelopes?|pages?)\b", re.IGNORECASE
)  # "on A4 paper"
_ROAD_BEFORE = re.compile(r"\b(?:the|on|along|via|off)\s+$", re.IGNORECASE)


def _roads(body: str, mentions: list[RawMention]) -> list[RawMention]:
    """Numbered streets and roads as place mentions where recognition left them out or read them as another
    kind of name ("the M62" as an organisation): a street numbered in words or digits ("Third Street", "14th
    St."), and a numbered road after "the", "on", "along", "via" or "off", or listed after another ("via the
    A436, A40 and A429"); a bare "A4" is a paper size."""
    found = [RawMention(h.start(), h.end(), "LOC") for h in _NUMBERED_STREET.finditer(body)]
    last_end = -1
    for h in _ROAD.finditer(body):
        if _PAPER_AFTER.match(body, h.end()):
            continue
        if _ROAD_BEFORE.search(body[max(0, h.start() - 8) : h.start()]) or (
            last_end >= 0 and listed_next(body, last_end, h.start())
        ):
            found.append(RawMention(h.start(), h.end(), "LOC"))
            last_end = h.end()
    roads = {(f.start, f.end) for f in found}
    mentions = [RawMention(m.start, m.end, "LOC") if (m.start, m.end) in roads else m for m in mentions]
    taken = covered(len(body), mentions)
    added = [f for f in found if not any(taken[f.start : f.end])]
    if not added:
        return mentions
    return sorted(mentions + added, key=lambda m: m.start)


def _nationality(gaz: Gazetteer, m: RawMention, text: str) -> bool:
    """A nationality word ("European", "Canadian"): never a short name of an organisation that has it in
    its name ("European" after "European Commission" is Europe's)."""
    return m.type == "MISC" and gaz.demonym(text) is not None


def initialism(name: str) -> list[str]:
    """The initialisms a name of several capitalised words is written as: "South Africa" → SA, "Trinidad and
    Tobago" → TT and T&T, "Democratic Republic of the Congo" → DRC."""
    words = name.split()
    if len(words) < 2:
        return []
    letters, with_and = "", ""
    for w in words:
        if w.casefold() in ("and", "&"):
            with_and += "&"
        elif w.casefold() in _ACRONYM_SKIP:
            continue
        elif w[0].isupper():
            letters += w[0]
            with_and += w[0]
        else:
            return []
    if len(letters) < 2:
        return []
    return [letters] + ([with_and] if with_and != letters else [])


def _initialisms(
    body: str, mentions: list[RawMention], gaz: Gazetteer
) -> tuple[list[RawMention], dict[str, str]]:
    """A place the article names in full ("South Africa", "Trinidad and Tobago"), or whose people it names in
    full ("South Africans"), is also the place where the article writes its initialism ("SA", "T&T"), whatever
    the model read that as, or where it read nothing, but before a currency sign ("NZ $26 million"):
    an article that spells a place out and then abbreviates it means that place (as "EU" after "European
    Union" is that organisation). Also returns each initialism's full name."""
    short: dict[str, str] = {}
    for m in mentions:
        text = body[m.start : m.end]
        if m.type == "LOC" and any(p.kind != "city" or " " in text for p in gaz.candidates(text)):
            for abbr in initialism(text):
                short.setdefault(abbr, text)
        elif m.type == "MISC" and " " in text:  # its people named in full ("South Africans")
            whose = gaz.demonym(text) or (gaz.demonym(text[:-1]) if text.endswith("s") else None)
            if whose is not None and whose.kind == "country":
                for abbr in initialism(whose.name):
                    short.setdefault(abbr, whose.name)
    if not short:
        return mentions, short
    out = [
        RawMention(m.start, m.end, "LOC") if body[m.start : m.end] in short and m.type != "PERSON" else m
        for m in mentions
    ]
    taken = covered(len(body), out)
    alternatives = "|".join(map(re.escape, sorted(short, key=len, reverse=True)))
    for found in re.finditer(rf"(?<![\w&.])(?:{alternatives})(?![\w&])", body):
        # "NZ $26 million" after "New Zealand" names the currency (lexicon: no name)
        if not any(taken[found.start() : found.end()]) and not lexicon.currency_follows(body, found.end()):
            out.append(RawMention(found.start(), found.end(), "LOC"))
    return sorted(out, key=lambda m: m.start), short


def _within(p: Place, container: Place) -> bool:
    return p.country == container.country and (container.kind == "country" or p.admin1 == container.admin1)


# A place named inside an organisation's or event's name: a country, continent or first-level division, a
# second-level one named with its word ("Lamar County"), or a city of at least this many people whose name is
# no common word ("Union" in "European Union" is not Union, New Jersey); and a nationality word, which refers
# to its country ("Syrian" in "Syrian Observatory for Human Rights").
_NESTED_CITY_POPULATION = 100_000
# The capitalised words among the commonest of news ("Commerce", "Pacific", "Washington"): inside a name such
# a word means what news mostly means by it, not a small town of that name ("Chambers of Commerce").
_NEWS_NAMES = frozenset(w for w in warm_words.load() if w[:1].isupper())
_WORD = re.compile(r"[A-Z][\w'’.]*")
_INITIALS = re.compile(r"(?:[A-Z]\.){2,}")
_ARTICLES = {"The", "A", "An"}  # the organisation's own ("The New York Times"), not the place's
_JOINED = re.compile(r"[ -]")  # what may stand between the words of one place name


def _nest_places(body: str, clusters: list[Cluster], gaz: Gazetteer, context: Context) -> None:
    """Adds each place inside an organisation's or miscellaneous name ("Texas" in "Texas Department of
    Transportation") as a nested mention, with its own offsets, of that place's entity (a nationality word's
    of a miscellaneous entity linked to its country or continent). So too inside a place's name the gazetteer
    does not know, which the model may have taken from an organisation ("Air Zimbabwe") or run together
    ("Greece Italy"); there only places count ("Indian" in "Indian Ocean" is no mention of India)."""
    by_id = {(c.type, c.place.geonameid): c for c in clusters if c.place is not None}
    named = {c.place.geonameid for c in clusters if c.type == "LOC" and c.place is not None}
    sports = is_sports_report(body)
    touched = set()
    for c in list(clusters):
        unknown_place = c.type == "LOC" and c.place is None
        if c.type not in ("ORG", "MISC") and not unknown_place:
            continue
        for m in list(c.mentions):
            inside = _places_inside(m, gaz, context, named)
            if c.type == "ORG" and (
                whole := _metonym(m.text, gaz, context, named, sports or _no_firm(c, body))
            ):
                inside.append((m.start, m.end, whole, "LOC"))
            for start, end, place, type_ in inside:
                if unknown_place and type_ != "LOC":
                    continue
                target = by_id.get((type_, place.geonameid))
                if target is None:
                    target = Cluster(place=place)
                    clusters.append(target)
                    by_id[(type_, place.geonameid)] = target
                target.mentions.append(Mention(text=body[start:end], start=start, end=end, nested=True))
                target.own.append(type_)
                target.types[type_] += 1
                touched.add(id(target))
    for c in clusters:
        if id(c) in touched:
            order = sorted(range(len(c.mentions)), key=lambda i: c.mentions[i].start)
            c.mentions = [c.mentions[i] for i in order]
            c.own = [c.own[i] for i in order]


def _places_inside(
    m: Mention, gaz: Gazetteer, context: Context, named: set[int] = frozenset()
) -> list[tuple[int, int, Place, str]]:
    """The longest runs of capitalised words inside ``m`` (not all of it) that name a well-known place (LOC)
    or are a nationality word (MISC)."""
    words = [(w.start(), w.end()) for w in _WORD.finditer(m.text) if w.group() not in _ARTICLES]
    out: list[tuple[int, int, Place, str]] = []
    i = 0
    while i < len(words):
        for n in range(min(4, len(words) - i), 0, -1):
            start, end = words[i][0], words[i + n - 1][1]
            gaps = [m.text[words[j][1] : words[j + 1][0]] for j in range(i, i + n - 1)]
            if (start, end) == (0, len(m.text)) or not all(_JOINED.fullmatch(g) for g in gaps):
                continue  # the whole name, or words that are not next to each other
            text = m.text[start:end]
            if end < len(m.text) and _POSSESSIVE.search(text):
                continue  # an owner's name, a saint's or a person's ("St George's Chapel", "St. John's Cemetery")
            if not _INITIALS.fullmatch(text):  # "U.S." keeps its dot; a sentence's full stop goes
                text = text.rstrip(".")
            found = _well_known(gaz, text, context, named)
            if found is not None:
                out.append((m.start + start, m.start + start + len(text), *found))
                i += n
                break
        else:
            i += 1
    return out


def _metonym(text: str, gaz: Gazetteer, context: Context, named: set[int], no_firm: bool) -> Place | None:
    """The place an organisation's whole name is, where the organisation is named by its place: a team by
    its town ("Liverpool won 3-0"), a government or council by its country, state, county or town ("Tamil
    Nadu moved the Supreme Court"): the metonymic toponyms of Gritta et al.'s taxonomy, which a reader still
    locates there. A country, continent, first-level division or county named with its word ("Montgomery
    County") always; a well-known town (``_well_known``) only where nothing says it is a firm (``no_firm``:
    a sports report, or no company's cue after any of its mentions) or where the article also names the town
    as a place; no name in capitals but a country's ("US"): a company named like a town ("Toyota raised its
    prices") or an acronym spelt like a town or state ("NATO", "EDO") is no mention of it."""
    found = _well_known(gaz, text, context, named)
    if found is None or found[1] != "LOC" or gaz.demonym(text) is not None:
        return None
    place = found[0]
    if text.isupper() and place.kind != "country":
        return None  # an organisation's acronym ("NATO", "EDO"), whatever town or state shares its letters
    if place.kind in ("country", "continent", "admin1") or place.kind == "admin2" and " " in text:
        return place  # no firm is named "Montgomery County": that is its government
    return place if no_firm or place.geonameid in named else None


def _no_firm(cluster: Cluster, body: str) -> bool:
    """Whether no mention of an organisation is followed by a company's cue ("its", "shares", "company")."""
    return not any(_ORG_CUE.search(body[m.end : m.end + _CUE_WINDOW]) for m in cluster.mentions)


def _well_known(gaz: Gazetteer, text: str, context: Context, named: set[int]) -> tuple[Place, str] | None:
    """The place (LOC) or nationality word's place (MISC) a run of words inside a name stands for, if it is
    well known, a place the article itself names outside names ("Beverly Hills" in "Beverly Hills Police
    Department" of a story from there) or a town in a division the article names."""
    if " " not in text and text.casefold() in COMMON_WORDS and not text.isupper():  # "US" is no "us"
        return None
    if division_word(text) and not any(p.kind == "admin1" for p in gaz.candidates(text)):
        # "Maryland" in "Maryland State Police": the word is the organisation's, unless GeoNames names the
        # division with it ("Osun State" in "Osun State Police Command")
        return None
    place = resolve(gaz, text, context)
    whose = gaz.demonym(text)  # a country's or continent's nationality word ("European Central Bank")
    if whose is not None and (place is None or place.kind == "city"):  # "Canadian" is no Canadian, Texas
        return whose, "MISC"
    if place is None:
        return None
    if place.kind in ("country", "continent", "admin1"):
        return place, "LOC"
    if gaz.alternate_only(text):  # a brand that is a town's other name ("Google", once Topeka's)
        return None
    if place.kind == "admin2" and " " in text:
        return place, "LOC"
    if place.geonameid in named:
        return place, "LOC"
    if place.kind == "city" and (place.population >= _NESTED_CITY_POPULATION or place.capital):
        return place, "LOC"
    if place.kind == "city" and context.named_regions.get(place.region_key or "") and text not in _NEWS_NAMES:
        return place, "LOC"  # a town of the state the article names ("Owensboro Public Schools")
    return None


def _split_places_from_teams(cluster: Cluster) -> list[Cluster]:
    """A place name the model read as an organisation in some sentences names two things there: the place
    and a team or institution ("NEW YORK" in a dateline, "New York" beating Boston)."""
    if cluster.place is not None and (cluster.place.kind == "country" or cluster.place.capital):
        # A country or capital read as an organisation is its government ("Kyiv must act"): CoNLL, and
        # news readers, take it as the place.
        if cluster.types["LOC"]:
            cluster.types = Counter({"LOC": len(cluster.mentions)})
        return [cluster]
    orgs = [i for i, own in enumerate(cluster.own) if own == "ORG"]
    if not cluster.types["LOC"] or not orgs or len(orgs) == len(cluster.own) or cluster.full_name:
        return [cluster]
    org = Cluster(mentions=[cluster.mentions[i] for i in orgs], own=["ORG"] * len(orgs))
    org.types = Counter({"ORG": len(orgs)})
    rest = [i for i in range(len(cluster.own)) if i not in set(orgs)]
    cluster.mentions = [cluster.mentions[i] for i in rest]
    cluster.own = [cluster.own[i] for i in rest]
    cluster.types = Counter(cluster.own)
    return [cluster, org]


def _retype(cluster: Cluster, body: str, gaz: Gazetteer, context: Context) -> None:
    """Second thoughts on a "person" the article never names in full, which is often a company or a place:
        an acronym is an organisation (JAXA), and so is a name followed more often by "its" or "company" than by
        "he" or "her"; a place's name more often after "in" or "from" than followed by "he" is that place
        (an unknown one is not: "in Wikipedia", the court cases "in Moran and Pyle"). Likewise a known
        place's name read as an organisation but mostly after "in" is the place ("clashes in Benghazi"); for a
        name that is only a place's alternate name "from" does not count ("engineers from Google" are no
        Topeka's, though "Google" is one of its alternate names; "installed in Echmiadzin" is Ejmiatsin); and a
    "place" unknown to the gazetteer mostly followed by "spokesman" or "shares" is a company. A seat
        of power that news uses for the institution is that organisation ("the Kremlin said", though CoNLL tags
        it LOC)."""
    text = cluster.mentions[0].text
    new_type = "ORG" if fold(text) in _INSTITUTION_SEATS else None
    # A name that is only an alternate name of its places ("Google" is one of Topeka's) needs a stricter cue.
    strict = gaz.alternate_only(text)
    if cluster.type == "PERSON" and cluster.full_name is None:
        org_cues, person_cues, place_cues = _cues(cluster, body, strict)
        if (text.isupper() and text.isalpha()) or org_cues > person_cues:
            new_type = "ORG"
        elif place_cues > person_cues and gaz.candidates(text):
            new_type = "LOC"
    elif cluster.type == "ORG" and cluster.long_type is None and gaz.candidates(text):
        org_cues, _, place_cues = _cues(cluster, body, strict)
        if place_cues > org_cues:
            new_type = "LOC"
    elif cluster.type == "LOC" and cluster.place is None and not gaz.candidates(text):
        company_cues = sum(1 for m in cluster.mentions if _COMPANY_CUE.match(body, m.end))
        if 2 * company_cues >= len(cluster.mentions):
            new_type = "ORG"
    if new_type is not None:
        cluster.types = Counter({new_type: len(cluster.mentions)})
        cluster.place = resolve(gaz, text, context) if new_type == "LOC" else None


def _cues(cluster: Cluster, body: str, strict: bool = False) -> tuple[int, int, int]:
    """How many of the cluster's mentions are followed by an organisation's or a person's cue, and how many
    come after a place's (``strict``: not counting "from")."""
    after = [body[m.end : m.end + _CUE_WINDOW] for m in cluster.mentions]
    org = sum(1 for a in after if _ORG_CUE.search(a))
    person = sum(1 for a in after if _PERSON_CUE.search(a))
    cue = _STRICT_PLACE_CUE if strict else _PLACE_CUE
    place = sum(1 for m in cluster.mentions if cue.search(body[max(0, m.start - 12) : m.start]))
    return org, person, place


def _team(body: str, m: RawMention, gaz: Gazetteer) -> RawMention:
    """A known place followed by a capitalised plural ("Philadelphia Eagles", "Chicago Bulls") is a team,
    unless the whole is a place's name ("Cayman Islands") or an event's ("Olympic Games"); a person's
    ("Jackson Williams") is left alone, and so are a work's title ("the series Gilmore Girls") and an area
    ("the St. Louis Hills area")."""
    words = body[m.start : m.end].split()
    if (
        m.type in ("LOC", "MISC")
        and len(words) >= 2
        and not is_event(words)
        and words[0].casefold() not in _FEATURE_FIRST  # "Lake Manassas" is no team of a town called Lake
        and len(words[-1]) > 3
        and words[-1][0].isupper()
        and words[-1].endswith("s")
        and not words[-1].isupper()
        and gaz.demonym(" ".join(words)[:-1]) is None  # "South Africans" are people, not a team
        and gaz.candidates(" ".join(words[:-1]))
        and not gaz.candidates(" ".join(words))
        and not lexicon.after_work_noun(body, m.start, m.end)  # "the series Gilmore Girls" is no team
        and not _AREA_AFTER.match(body, m.end)  # "the St. Louis Hills area" is no team
    ):
        return RawMention(m.start, m.end, "ORG")
    return m


def _places_not_people(body: str, mentions: list[RawMention], gaz: Gazetteer) -> list[RawMention]:
    """A one-word "person" or "organisation" that is a country or a national capital, and no person's name
    in this article, is that place: small models read "Kyiv" as a surname, and a capital standing for its
    government ("Kyiv must act") is the place in CoNLL's reading and in linking. So is a one-word "person"
    the gazetteer knows, right after "in", "near" or "from" and not before a possessive ("died in Cork"),
    and a one-word "person" or "organisation" the gazetteer knows before a word for its people ("Nelson
    residents", "a Cork mother") or in parentheses after an organisation ("Fig Leaf Boutique (Maywood)").
    A name before "area" or "region" names that area, known or not ("the Orinoco area", "the St. Louis
    Hills area")."""
    name_parts = set()
    for m in mentions:
        words = body[m.start : m.end].split()
        if m.type == "PERSON" and len(words) >= 2:
            name_parts.update(fold(w) for w in words)
    ends = {m.end for m in mentions if m.type == "ORG"}
    all_ends = {m.end for m in mentions}
    return [
        RawMention(m.start, m.end, "LOC")
        if m.type in ("PERSON", "ORG")
        and (
            _AREA_AFTER.match(body, m.end) is not None
            or _qualified(body, m, gaz)
            or _division_qualifying(body, m, gaz, all_ends)
            or _one_word_place(body, m, gaz, name_parts, ends)
        )
        else m
        for m in mentions
    ]


_AREA_AFTER = re.compile(r" (?:area|region)\b")
_CAPITALISED_END = re.compile(r"(?<![\w.'’-])[A-Z][\w'’-]*$")


def _division_qualifying(body: str, m: RawMention, gaz: Gazetteer, ends: set[int]) -> bool:
    """A division's name after a comma right after another name, recognised or only capitalised, ending the
    phrase ("Brands Hatch, Kent.", "Brands Hatch Indy, Kent.", "Knockhill, Fife;"): the county or state of
    the place before it, which the model may have read as a team or a firm."""
    gap = re.search(r"\s*,\s*$", body[max(0, m.start - 4) : m.start])
    if gap is None:
        return False
    before = max(0, m.start - 4) + gap.start()
    if before not in ends and not _CAPITALISED_END.search(body, max(0, before - 40), before):
        return False
    if not PHRASE_END.match(body, m.end):
        return False
    text = body[m.start : m.end]
    if ordinary_words(text) or gaz.alternate_only(text):
        return False
    return any(p.kind in ("admin1", "admin2") for p in gaz.candidates(text))


# Words that open or end the names of natural features and grounds, never a person's: "Lake Manassas",
# "Rue Casa Calvo", "Faubourg Marigny", "Glenrock Lagoon", "Meydan Racecourse" (LOC in CoNLL-2003's reading).
_FEATURE_FIRST = {"lake", "mount", "mt.", "rue", "faubourg", "loch", "lac", "cape"}
_FEATURE_LAST = ending_words(Use.FEATURE_PERSON_IS_PLACE)  # ``place_endings``; not "Lake": Ricki Lake


def _natural_feature(body: str, m: RawMention) -> RawMention:
    """A "person" or two-word "organisation" named as a natural feature is ("Lake ...", "Rue ...") is that
    place, and so is a "person" ending as one does ("... Lagoon"): a place the gazetteer may lack, then
    located in the article's focus."""
    words = body[m.start : m.end].split()
    if m.type not in ("PERSON", "ORG") or len(words) < 2:
        return m
    if m.type == "ORG" and len(words) > 2:
        return m  # "Lake Forest Capital Partners LLC", "Mount Sinai Hospital"
    if words[0].casefold() in _FEATURE_FIRST or m.type == "PERSON" and words[-1].casefold() in _FEATURE_LAST:
        return RawMention(m.start, m.end, "LOC")
    return m


def _hyphen_joined_places(body: str, mentions: list[RawMention], gaz: Gazetteer) -> list[RawMention]:
    """Two mentions joined by a hyphen that together are a division's, country's or town's name
    ("Gilgit-Baltistan", which a model reads as "Gilgit" and a person "Baltistan") are one place mention, and
    so are two joined by "and" that are a country's own name ("Bosnia and Herzegovina"; not "England and
    Wales", another name of the United Kingdom, where the article names two places)."""
    out: list[RawMention] = []
    for m in sorted(mentions, key=lambda m: m.start):
        gap = body[out[-1].end : m.start] if out else None
        if gap == " and ":
            joined = body[out[-1].start : m.end]
            if any(p.kind == "country" and fold(p.name) == fold(joined) for p in gaz.candidates(joined)):
                out[-1] = RawMention(out[-1].start, m.end, "LOC")
                continue
        if gap == "-":
            joined = body[out[-1].start : m.end]
            if any(p.kind in ("country", "admin1", "admin2", "city") for p in gaz.candidates(joined)):
                out[-1] = RawMention(out[-1].start, m.end, "LOC")
                continue
        out.append(m)
    return out


def _one_word_place(body: str, m: RawMention, gaz: Gazetteer, name_parts: set[str], ends: set[int]) -> bool:
    """The one-word cases of ``_places_not_people``."""
    text = body[m.start : m.end]
    if " " in text or fold(text) in name_parts:
        return False
    candidates = gaz.candidates(text)
    if any(p.kind == "country" or p.capital for p in candidates):
        return True
    if _KIND_OF_PLACE_BEFORE.search(body[max(0, m.start - 40) : m.start]) or _KIND_OF_PLACE_AFTER.match(
        body, m.end
    ):
        # "the town of Afrin" (a town's other name: GeoNames' is "‘Afrīn"), "eastern Ghouta" (a place the
        # gazetteer lacks, which is then located in the article's focus)
        return True
    if not candidates:
        return False
    if re.match(r"['’]s?\b", body[m.end : m.end + 2]):
        return False  # "came to Smith's aid"
    if m.type == "PERSON" and _PLACE_CUE.search(body[max(0, m.start - 12) : m.start]):
        return True
    return (
        (_locating(body, m, ends) or _GOING_TO.search(body[max(0, m.start - 40) : m.start]) is not None)
        and not ordinary_words(text)
        and not gaz.alternate_only(text)
    )


def _qualified(body: str, m: RawMention, gaz: Gazetteer) -> bool:
    """A name followed by its state or country after a comma ("Bowling Green, Kentucky", "Matias Romero,
    Oaxaca State"), the qualifier holding one of the gazetteer's places of that name: the name is that
    place, however the model read it, even made of ordinary words or only a town's other name ("Bowling
    Green"): the qualifier is evidence enough. Not one in parentheses: "Barcelona (Spain)" in a table of
    results is the club and its country."""
    text = body[m.start : m.end]
    if not body[m.end : m.end + 2].lstrip().startswith(","):
        return False
    found = qualifier(gaz, body, m.end, text)
    return found is not None and any(
        p.geonameid != found[0].geonameid and _within(p, found[0]) for p in gaz.candidates(text)
    )


# What says that the name after it is a place: a word for a kind of place and "of" ("the town of", "the
# nearby cities of") or a direction in lower case ("eastern Ghouta"), and after it, its kind of place ("Qamishli and other towns"); less surely, a verb of
# going "to" ("moved to", "driving to": "moved to Google" is a job), or a person's home after a comma ("Jane
# Doe, 34, of").
_KIND_OF_PLACE_BEFORE = re.compile(
    r"\b(?:(?:[Cc]ity|[Cc]ities|[Tt]owns?|[Vv]illages?|[Ss]uburbs?|[Hh]amlets?|[Mm]unicipality|[Pp]ort)\s+of"
    r"|(?:north|south|east|west)(?:-?(?:east|west))?(?:ern)?|central)\s+$"
)
_KIND_OF_PLACE_AFTER = re.compile(r"\s+and\s+other\s+(?:cities|towns|villages|communities|places|areas)\b")
_GOING_TO = re.compile(
    r"(?:\b(?:move[ds]?|moving|driv(?:e|es|ing)|drove|travel(?:s|led|ed|ling|ing)?|fl(?:y|ies|ew|ying)"
    r"|relocat(?:e|ed|es|ing)|return(?:s|ed|ing)?|head(?:s|ed|ing)|c(?:ome|omes|oming|ame)|went)\s+(?:back\s+)?to"
    r"|,\s*(?:\d{1,3},\s*)?of)\s+$"
)


def _listed_with_places(body: str, mentions: list[RawMention], gaz: Gazetteer) -> list[RawMention]:
    """A "person" or "organisation" the gazetteer knows, listed next to a place ("Žilina, Nitra, Prešov and
    Košice", "Seoul and the cities of Suwon and Incheon"), is a place too: a list names things of one kind.
    Not a part of a person's longer name, an ordinary word or only a town's other name. Repeated until no
    mention changes, so a place spreads along its list."""
    name_parts = set()
    for m in mentions:
        words = body[m.start : m.end].split()
        if m.type == "PERSON" and len(words) >= 2:
            name_parts.update(fold(w) for w in words)
    out = sorted(mentions, key=lambda m: m.start)
    changed = True
    while changed:
        changed = False
        for i, m in enumerate(out):
            if m.type not in ("PERSON", "ORG"):
                continue
            text = body[m.start : m.end]
            neighbours = [out[j] for j in (i - 1, i + 1) if 0 <= j < len(out)]
            if not any(
                n.type == "LOC" and (listed_next(body, n.end, m.start) or listed_next(body, m.end, n.start))
                for n in neighbours
            ):
                continue
            if (
                fold(text) in name_parts
                or ordinary_words(text)
                or not gaz.candidates(text)
                or gaz.alternate_only(text)
            ):
                continue
            out[i] = RawMention(m.start, m.end, "LOC")
            changed = True
    return out


# Offices a place's name goes before ("New York Attorney General", "Harare Mayor", "Cuyahoga County
# Executive"): with the titles, the words of an office that is a place's.
_OFFICES = TITLES | {
    "attorney",
    "executive",
    "sheriff",
    "commissioner",
    "councillor",
    "councilman",
    "councilwoman",
}


def _place_before_office(body: str, m: RawMention, gaz: Gazetteer) -> RawMention:
    """A place's name that the model read as an organisation or a person before an office's title ("New York
    Attorney General Eric Schneiderman"), or together with it ("Harare Mayor"), is the place: the title is
    that place's office. Only a division, a country or a city well known enough to have offices of its own
    ("Ford Chairman" is the company's), not ordinary words nor a town's alternate name."""
    if m.type not in ("ORG", "PERSON"):
        return m
    text = body[m.start : m.end]
    words = list(re.finditer(r"\S+", text))
    head_end = m.end
    if len(words) >= 2 and words[-1].group().casefold() in _OFFICES and words[-1].group()[0].isupper():
        head_end = m.start + words[-2].end()  # "Harare Mayor": the place and its office in one mention
    else:
        after = re.match(r"\s+([A-Z][a-z]+)", body[m.end : m.end + 30])
        if after is None or after.group(1).casefold() not in _OFFICES:
            return m
    head = body[m.start : head_end]
    if ordinary_words(head) or gaz.alternate_only(head):
        return m
    if not any(_has_offices(p, head) for p in gaz.candidates(head)):
        return m
    return RawMention(m.start, head_end, "LOC")


def _has_offices(place: Place, name: str) -> bool:
    """A country, a first-level division, a county named with its word ("Riverside County"; "Yara" alone is
    a company before a title, not the Cuban municipality) or a capital or city of 100,000 people."""
    if place.kind in ("country", "admin1"):
        return True
    if place.kind == "admin2":
        return " " in name
    return place.capital or place.population >= _NESTED_CITY_POPULATION


# Words for a place's people that follow its name ("Nelson residents", "a Cork mother").
_PEOPLE_AFTER = re.compile(
    r"\s+(?:residents?|natives?|man|woman|men|women|mother|father|boy|girl|teens?|teenagers?|family|families"
    r"|couple|voters|officials|councillors?|police|firefighters)\b"
)


def _locating(body: str, m: RawMention, organisation_ends: set[int]) -> bool:
    """A name followed by a word for its people, or alone in parentheses right after an organisation's (not
    in capitals: "(CIS)" after "Commonwealth of Independent States" is its acronym)."""
    if _PEOPLE_AFTER.match(body, m.end):
        return True
    if body[m.start : m.end].isupper():
        return False
    before = re.search(r"\(\s*$", body[max(0, m.start - 3) : m.start])
    return (
        before is not None
        and body[m.end : m.end + 1] == ")"
        and any(e in organisation_ends for e in range(m.start - 3, m.start - 1))
    )


def _absorb_name_parts(
    cluster: Cluster, words: list[str], parts: dict[str, Cluster], by_key: dict[str, Cluster]
) -> None:
    """Registers a full name's first and last word; an earlier one-word entity with that last name (or a
    first name used alone) joins this person, unless every mention of it is a miscellaneous name (a people's
    or language's name, "Moriori" before "Te Imi Moriori")."""
    for word in (words[-1], words[0]):
        key = fold(word)
        earlier = by_key.get(key)
        if (
            earlier is not None
            and earlier is not cluster
            and earlier.place is None
            and earlier.mentions
            and all(len(mm.text.split()) == 1 for mm in earlier.mentions)
            and not all(t == "MISC" for t in earlier.own)
        ):
            cluster.mentions.extend(earlier.mentions)
            cluster.own.extend(["PERSON"] * len(earlier.mentions))
            cluster.types["PERSON"] += len(earlier.mentions)
            earlier.mentions.clear()
            earlier.own.clear()
            by_key[key] = cluster
        parts.setdefault(key, cluster)
    order = sorted(range(len(cluster.mentions)), key=lambda i: cluster.mentions[i].start)
    cluster.mentions = [cluster.mentions[i] for i in order]
    cluster.own = [cluster.own[i] for i in order]
