"""Mention-level rules from the CoNLL-2003 annotation guidelines that a small model gets wrong.

A person's title, or a nationality put before the name, is not part of the name ("Prince William" is the
person "William", "Welshman Evans" is "Evans"), and a name ending in an organisation's designator
("... Holdings", "... Ministry", "... Inc") is an organisation, whatever the model read it as. Both hold for
news in general, not for one data set.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from itertools import pairwise

from transforms.entities import warm_words, work_kinds
from transforms.entities.place_endings import Use, ending_words
from transforms.entities.recognize import RawMention


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


TITLES = _words(
    """mr mr. mrs mrs. ms ms. dr dr. sir dame lord lady prince princess king queen pope sheikh emir sultan
    president vice premier chancellor minister secretary governor gov gov. senator sen sen. rep rep. judge
    justice general gen gen. colonel col col. captain capt capt. major lieutenant lt lt. sergeant sgt sgt.
    admiral commander chairman chairwoman chief ceo coach father rev rev. reverend bishop archbishop
    cardinal ayatollah mayor ambassador professor prof prof. emperor empress tsar czar earl duke duchess baron
    baroness crown briton englishman englishwoman welshman
    welshwoman scotsman scotswoman irishman irishwoman frenchman frenchwoman dutchman dutchwoman
    deputy honourable honorable hon hon. rt rt. shri shrimati smt smt. datuk dato dato' dato’ datin seri tun
    alhaji alhaja hajia mallam engr engr. barr barr. pastor imam rabbi mufti maulana ustaz swami herr frau
    madame mme mme. mlle mlle. monsieur"""
)
# Honorifics of world news that only a person's name follows ("Shri Amit Shah", "Datuk Seri Anwar
# Ibrahim", "Alhaji Atiku Abubakar", "Rt Hon Rishi Sunak"): a mention they open is that person, whatever
# the model read it as. Not "Mr" or "Dr", which open shops' and firms' names ("Mr Price", "Dr Reddy's").
PERSON_HONORIFICS = _words(
    "shri shrimati smt smt. rt rt. datuk dato dato' dato’ datin tun alhaji alhaja hajia engr engr. barr barr."
)
# Designators only a company has, a newspaper's among them ("Financial Times", "Sueddeutsche Zeitung").
COMPANY_ENDINGS = _words(
    """inc inc. corp corp. corporation co co. ltd ltd. llc plc ag sa s.a. nv n.v. gmbh spa s.p.a. bv
    holdings group airlines airways motors pharmaceuticals technologies fc bancorp bancshares securities
    industries enterprises electronics semiconductor semiconductors software networks telecom
    communications petroleum chemicals therapeutics biotech insurance realty
    times herald gazette tribune journal telegraph chronicle zeitung inquirer daily"""
)
# Words that end organisations' names but also some places' ("West Bank", "Russian Federation").
BODY_ENDINGS = _words(
    """bank party ministry association federation council committee agency commission institute foundation
    authority parliament"""
)
ORG_STARTS = _words("ministry department university bank")
# Words for universities, libraries, institutes, foundations, parties, banks and ministries in other European
# languages, which only bodies' names have, wherever they stand in the name ("Koninklijke Bibliotheek",
# "Vrije Universiteit Amsterdam", "Banco Santander", "Institut Pasteur").
FOREIGN_BODY_WORDS = _words(
    """universität universitat universiteit université universite università universita universidad
    universidade universitatea universitet uniwersytet univerzita hochschule fachhochschule bibliotheek
    bibliothek bibliothèque biblioteca instituto istituto institut stiftung stichting fundación fundacion
    fundação fondation fondazione gesellschaft vereniging partido partei parti banco banca banque ministerio
    ministério ministère ministero ministerium koninklijke zeitung akademie accademia académie"""
)
# Words that end the names of events, which CoNLL-2003 and OntoNotes read as miscellaneous names, not as
# organisations or places ("World Cup", "Hong Kong Open", "Nobel Prize", "Cannes Festival").
EVENT_ENDINGS = _words(
    """cup open championship championships olympics paralympics prix festival awards prize marathon expo"""
)
_WAR_NUMBERS = _words("i ii iii one two 1 2")
# Battles, sieges and treaties named for their place ("Battle of Britain", "Siege of Savannah", "Treaty of
# Versailles"), and award categories ("Best Actor", "Best Original Song"): events' and prizes' names.
_EVENT_STARTS = _words("battle siege treaty massacre sack")
_AWARD_KINDS = _words(
    """actor actress director picture film song album supporting original foreign documentary animated
    screenplay score newcomer male female new"""
)
_AGE_KINDS = _words("middle dark stone bronze iron ice golden gilded space atomic information jazz viking")
_GAMES_KINDS = _words("olympic paralympic commonwealth asian pan-american winter summer youth")
# Last words of places' names, from the one table of them (``place_endings``, which says why each use takes
# different words): a "person" ending so is the place ("Royal Street", "Altnagelvin Hospital"); so is an
# organisation's or miscellaneous name ending so ("Manila Cathedral"); a venue's word that also ends the name
# of the body running it ("Barclays Center") makes the place only after "at" or "in".
PLACE_ENDINGS = ending_words(Use.PERSON_IS_PLACE)
BUILDING_ENDINGS = ending_words(Use.BODY_IS_PLACE)
VENUE_ENDINGS = ending_words(Use.VENUE_AFTER_AT)
_AT_VENUE = re.compile(
    r"\b(?:at|in|inside|outside|near|into|opposite)\s+(?:the\s+)?(?:[A-Z][\w.-]*(?:'s|’s)\s+)?$"
)
# Frequent news words in lower case ("he", "the", "chaos"): a capitalised one may be just that word.
COMMON_WORDS = frozenset(w for w in warm_words.load() if w.islower())
SENTENCE_ENDS = "\n.!?:\"“”'‘’("  # what may come before a sentence's first word


def starts_sentence(body: str, i: int) -> bool:
    while i > 0 and body[i - 1] in " \t":
        i -= 1
    return i == 0 or body[i - 1] in SENTENCE_ENDS


def strip_titles(body: str, m: RawMention) -> RawMention:
    """A person's mention without its leading titles, unless it is all titles (then it is likely a surname,
    as "Major" or "King"). "Tan" is a title only before "Sri" (a surname otherwise: "Tan Chee Keong"). A
    mention opened by an honorific only people have is a person's ("Rt Hon Rishi Sunak" read as a body). A
    "person" ending as a street's or a building's name does keeps its title ("King Street", "Imam Mosque"):
    it is that place, which ``organisation_by_form`` then says."""
    words = list(re.finditer(r"\S+", body[m.start : m.end]))
    type_ = m.type
    if type_ in ("ORG", "LOC") and len(words) > 1 and words[0].group().casefold() in PERSON_HONORIFICS:
        type_ = "PERSON"
    folded = [w.group().casefold() for w in words]
    if type_ != "PERSON" or folded[-1] in PLACE_ENDINGS:  # "King Street", "Imam Mosque": a place's name
        return m
    for i, word in enumerate(words):
        tan_sri = folded[i : i + 2] == ["tan", "sri"] or i > 0 and folded[i - 1 : i + 1] == ["tan", "sri"]
        if folded[i] not in TITLES and not tan_sri:
            return RawMention(m.start + word.start(), m.end, type_)
    return RawMention(m.start, m.end, type_)


def is_event(words: list[str]) -> bool:
    """Whether a name of several words ends as the names of events and eras do ("World Cup", "Olympic
    Games", "Vietnam War", "World War II", "Middle Ages"; "Ministry of War" is no war), or starts as a
    battle's, siege's or treaty's ("Battle of Britain", "Treaty of Versailles") or an award category's
    ("Best Actor") does."""
    if len(words) < 2 or not words[-1][0].isupper():
        return False
    last, before = words[-1].casefold(), words[-2].casefold()
    return (
        words[0].casefold() in _EVENT_STARTS
        and words[1].casefold() == "of"
        or words[0] == "Best"
        and words[1].casefold() in _AWARD_KINDS
        or last in EVENT_ENDINGS
        or last == "games"
        and before in _GAMES_KINDS
        or last == "war"
        and "of" not in words
        or before == "war"
        and last in _WAR_NUMBERS
        or last in ("age", "ages")
        and before in _AGE_KINDS
    )


def organisation_by_form(body: str, m: RawMention) -> RawMention:
    """A mention of several words that ends in a company's designator is an organisation; so is a person
    or other name that ends as bodies' names do ("... Committee") or starts as ministries and banks do
    ("Bank of Japan"), but a place may end so too ("West Bank"). A "person" that ends as a street's or a
    river's name does is that place ("Royal Street"), and one that ends as an event's name does is a
    miscellaneous name ("World Cup", "Hong Kong Open", "Olympic Games"). A name with another language's word
    for a university, library, institute, party or bank in it is an organisation ("Koninklijke Bibliotheek")."""
    words = body[m.start : m.end].split()
    if len(words) < 2:
        return m
    last, first = words[-1].casefold(), words[0].casefold()
    if is_event(words):
        return RawMention(m.start, m.end, "MISC")
    if m.type in ("ORG", "MISC") and (
        last in BUILDING_ENDINGS
        or last in VENUE_ENDINGS
        and _AT_VENUE.search(body[max(0, m.start - 40) : m.start]) is not None
    ):
        return RawMention(m.start, m.end, "LOC")
    if m.type == "ORG":
        return m
    if any(w.casefold() in FOREIGN_BODY_WORDS for w in words):
        return RawMention(m.start, m.end, "ORG")
    if m.type == "PERSON" and last in PLACE_ENDINGS:
        return RawMention(m.start, m.end, "LOC")
    if (
        last in COMPANY_ENDINGS
        or m.type != "LOC"
        and (last in BODY_ENDINGS or first in ORG_STARTS and words[1].casefold() == "of")
    ):
        return RawMention(m.start, m.end, "ORG")
    return m


_POSSESSIVE_GAP = re.compile(r"['’]s\s+")
_CAPITALISED_WORD = re.compile(r"[A-Z][\w-]*")
_NAME_GOES_ON = re.compile(r" [A-Z]")


def possessive_buildings(body: str, mentions: list[RawMention]) -> list[RawMention]:
    """A name with a possessive before a building's or venue's word is one place ("St. Peter's Basilica",
    "St George's Chapel", "Caesar's Palace"), which a model reads as the owner and a second name, or leaves
    the building's word out of: the owner's possessive makes it that building, not a body that runs one.
    Not where a name follows ("Brooklyn's Barclays Center" is a venue in a place, named on its own)."""
    ordered = sorted(mentions, key=lambda m: m.start)
    out: list[RawMention] = []
    absorbed: set[tuple[int, int]] = set()
    for m in ordered:
        if (m.start, m.end) in absorbed:
            continue
        gap = _POSSESSIVE_GAP.match(body, m.end)
        word = _CAPITALISED_WORD.match(body, gap.end()) if gap else None
        if (
            word is None
            or word.group().casefold() not in BUILDING_ENDINGS | VENUE_ENDINGS
            or _NAME_GOES_ON.match(body, word.end())
        ):
            out.append(m)
            continue
        absorbed.update((n.start, n.end) for n in ordered if n.start >= word.start() and n.end <= word.end())
        out.append(RawMention(m.start, word.end(), "LOC"))
    return out


_COORDINATION = re.compile(r"\s*,\s+(?:and\s+|or\s+)?|\s+(?:and|or)\s+")


def split_coordination(body: str, m: RawMention) -> list[RawMention]:
    """A mention that lists names ("Mercantile or Commerce", "Orange and Riverside") is one mention per
    name when each name also stands alone elsewhere in the body; a name that has "and" in it ("Procter and
    Gamble", "Trinidad and Tobago") seldom has its halves standing alone."""
    text = body[m.start : m.end]
    cuts = list(_COORDINATION.finditer(text))
    if not cuts:
        return [m]
    bounds = [0, *(x for c in cuts for x in (c.start(), c.end())), len(text)]
    parts = [(m.start + bounds[i], m.start + bounds[i + 1]) for i in range(0, len(bounds), 2)]
    elsewhere = body.replace(text, " ")
    for start, end in parts:
        name = body[start:end]
        if not name[:1].isupper():
            return [m]
        if not re.search(rf"(?<!\w){re.escape(name)}(?!\w)", elsewhere):
            return [m]
    return [RawMention(start, end, m.type) for start, end in parts]


_DASH_TAIL = re.compile(r"\s+[-–—]\s+(\w+)$")


def cut_dash_tail(body: str, m: RawMention, common_words: frozenset[str] = COMMON_WORDS) -> RawMention:
    """A name in a list of "Name - what they are" ends at the dash: "Lloyd Austin - A" is "Lloyd Austin"
    when the word after the dash is a common word opening the description."""
    tail = _DASH_TAIL.search(body[m.start : m.end])
    if tail and tail.group(1).casefold() in common_words:
        return RawMention(m.start, m.start + tail.start(), m.type)
    return m


def join_country_to_organisation(body: str, mentions: list[RawMention], is_country) -> list[RawMention]:
    """A country right before an organisation's name is part of it: "U.S. Senate", "U.S. Treasury"."""
    out: list[RawMention] = []
    for m in mentions:
        if (
            out
            and m.type == "ORG"
            and out[-1].type == "LOC"
            and body[out[-1].end : m.start] == " "
            and is_country(body[out[-1].start : out[-1].end])
        ):
            m = RawMention(out.pop().start, m.end, "ORG")
        out.append(m)
    return out


def split_lines(body: str, m: RawMention) -> list[RawMention]:
    """A name never runs across a line break: a mention that does ("REUTERS/Brian Snyder\\nBezuidenhout",
    a credit line and the next sentence's first word) is one mention per line."""
    text = body[m.start : m.end]
    if "\n" not in text:
        return [m]
    return [
        RawMention(m.start + line.start(), m.start + line.end(), m.type)
        for line in re.finditer(r"[^\s](?:[^\n]*[^\s])?", text)
    ]


_ALIAS = re.compile(  # an apposition, after a comma: "Lighthizer called China's move" names no alias
    r",\s+(?:(?:also|popularly|widely|better|commonly|locally)\s+)?(?:known\s+as|called|nicknamed|dubbed)"
    r"\s+(?:the\s+)?[\"“‘']?$"
)


def aliases(body: str, mentions: list[RawMention]) -> list[RawMention]:
    """A name a person or organisation is introduced by ("Joko Widodo, known as Jokowi", "Islamic State, also
    called ISIS") is that person's or organisation's, in every mention of it: the model, which has seen
    neither, reads such a short form as anything."""
    kinds: dict[str, str] = {}
    for before, m in pairwise(sorted(mentions, key=lambda m: m.start)):
        gap = body[before.end : m.start]
        if before.type in ("PERSON", "ORG") and len(gap) <= 40 and _ALIAS.fullmatch(gap):
            kinds[body[m.start : m.end]] = before.type
    if not kinds:
        return mentions
    return [RawMention(m.start, m.end, kinds.get(body[m.start : m.end], m.type)) for m in mentions]


# A definition: "<Name> is a city in ...", "<Name> (pronounced Wootch) is Poland's third biggest city,", "<Name>
# is a NASA space capsule that ...", "<First Last>, an Australian woman and ...". The kind ends the noun phrase
# (punctuation, a preposition or a relative pronoun follows), so "Jones is a city councillor" and "Smith was a
# film director" define no place or work.
_PLACE_KINDS = _words(
    "city cities town towns village villages hamlet island islands archipelago country nation state province"
    " county region district capital port ports municipality suburb borough metropolis peninsula valley republic"
    " kingdom territory commune settlement oasis neighbourhood neighborhood destination resort"
)
# Things CoNLL-2003 calls miscellaneous names: works, craft, products (``work_kinds``, one table with the
# kinds ``lexicon`` reads before a name).
_WORK_AND_CRAFT_KINDS = work_kinds.kind_words(work_kinds.Use.DEFINED_AS)
_PERSON_KINDS = _words(  # what only a person is
    "woman man girl boy mother father widow widower actor actress singer writer novelist poet painter sculptor"
    " lawyer teacher student nurse journalist politician businessman businesswoman entrepreneur musician"
    " composer scientist mathematician linguist historian philosopher priest monk nun soldier diplomat"
    " activist teenager grandmother grandfather"
)
_FUNCTION_WORDS = _words("of in at for on by to with from who which that and or but as")
_KIND_ENDS = r"(?=\s*[,.;:]|\s+(?:in|on|of|and|near|that|which|who|by|about|from|with|for)\b)"
_DEFINITION = re.compile(
    r"\s*(?:\([^()\n]{1,60}\)\s*)?(?:is|was)\s+(?:an?|the|one\s+of\s+the|[A-Z][\w-]*\s?['’]s)"
    r"((?:\s+[\w'’-]+){0,5}?)\s+([a-z]+)" + _KIND_ENDS
)
_APPOSITION = re.compile(r"\s*,\s+an?((?:\s+[\w'’-]+){0,4}?)\s+([a-z]+)" + _KIND_ENDS)


def defined_kinds(body: str, mentions: list[RawMention], is_place: Callable[[str], bool]) -> list[RawMention]:
    """A name that opens a sentence defining it as a kind of place ("Łódź (Pronounced: Wootch) is Poland's
    third biggest city", "Fort Lee is a city in Bergen County") is that place in every mention of it, and
    one defined as a work or a craft ("Stardust is a NASA space capsule that ...") is a miscellaneous name;
    a full name (two words or more, no place's) followed by a person's kind ("Valeska Paris, an Australian
    woman and former member") is that person. This holds however the model read each mention: the model
    reads an unfamiliar name by its neighbours, and a travel guide or an interview names its subject dozens
    of times in sentences that say nothing about its kind."""
    defined: dict[str, str] = {}
    for m in mentions:
        text = body[m.start : m.end]
        found = _DEFINITION.match(body, m.end) if starts_sentence(body, m.start) else None
        if found is None and " " in text and m.type != "PERSON":
            found = _APPOSITION.match(body, m.end)
        if found is None or _FUNCTION_WORDS & {w.casefold() for w in found.group(1).split()}:
            continue
        kind = found.group(2)
        if kind in _PLACE_KINDS and found.re is _DEFINITION:
            defined.setdefault(text, "LOC")
        elif kind in _WORK_AND_CRAFT_KINDS and found.re is _DEFINITION:
            defined.setdefault(text, "MISC")
        elif kind in _PERSON_KINDS and found.re is _APPOSITION and not is_place(text):
            defined.setdefault(text, "PERSON")
    if not defined:
        return mentions
    return [RawMention(m.start, m.end, defined.get(body[m.start : m.end], m.type)) for m in mentions]
