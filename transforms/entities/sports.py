"""Teams in sports reports: a place's name that plays is the team, and "the Cougars" is a team too.

News names clubs and college teams after their towns and states ("Oklahoma beat Baylor 27-14", "Oregon's
final three possessions") and by nicknames ("the Sooners"). A small model reads the first as places and
mostly skips the second. By the CoNLL-2003 guidelines, and for readers, such a team is an organisation; a
national team stays its country. So, in an article that reads as a sports report, a place that is not a
country or continent, and not where something happens ("in Norman", "at Lord's ground"), is the team, and a
capitalised plural after "the" is a team when nothing else tagged it.
"""

from __future__ import annotations

import re

from transforms.entities.gazetteer import Gazetteer
from transforms.entities.recognize import RawMention, covered

_SPORTS_WORDS = re.compile(
    r"\b(?:touchdowns?|quarterback|rushing|yards?|rebounds?|assists?|innings|wickets?|goalkeeper|half-?time"
    r"|overtime|goals?|coach|playoffs?|championship|tournament|striker|midfielder|pitcher|home runs?"
    r"|field goal|free throws?|scored|scoring|seasons?|games?|victory|defeated)\b",
    re.IGNORECASE,
)
# Per article, in all and different ones: other stories say "season" or "victory" a few times at most, and
# a story about the games industry says "games" often but little else from the list.
_SPORTS_WORDS_NEEDED = 8
_DIFFERENT_SPORTS_WORDS_NEEDED = 3
# Countries in sport that are not states: their teams are national teams, tagged as the place.
_HOME_NATIONS = frozenset({"england", "scotland", "wales", "northern ireland", "west indies"})
_VENUE_BEFORE = re.compile(
    r"\b(?:in|at|near|from|outside|across|of|to|into|visit(?:ed|ing)?)\s+(?:the\s+)?$", re.IGNORECASE
)
_CITY_COMMA_BEFORE = re.compile(r"([A-Z][\w.'’-]*(?:\s[A-Z][\w.'’-]*)*)\s*,\s*$")  # "ARLINGTON, Texas"
_PLACE_AFTER = re.compile(r"\s*,\s+[A-Z][a-z]*\.?(?:\s|$)")  # "Norman, Okla." or "Manhattan, Kan."
# What may end a place's qualifier: "Brands Hatch, Kent." or "Knockhill, Fife;" (not "Kent, Surrey and").
PHRASE_END = re.compile(r"\s*(?:[.;:()\n]|$)")
_DATE_AFTER = re.compile(r"\s+\d{4}-\d\d-\d\d")
_NICKNAME = re.compile(r"(?<=\bthe )[A-Z][a-z]+s\b")


def is_sports_report(body: str) -> bool:
    words = [w.casefold().rstrip("s") for w in _SPORTS_WORDS.findall(body)]
    return len(words) >= _SPORTS_WORDS_NEEDED and len(set(words)) >= _DIFFERENT_SPORTS_WORDS_NEEDED


def teams(body: str, mentions: list[RawMention], gaz: Gazetteer) -> list[RawMention]:
    """In a sports report, places that play are organisations and "the <Nicknames>" are added as such."""
    if not is_sports_report(body):
        return mentions
    out = [_as_team(body, m, gaz) for m in mentions]
    taken = covered(len(body), out)
    for hit in _NICKNAME.finditer(body):
        if not any(taken[hit.start() : hit.end()]):
            out.append(RawMention(hit.start(), hit.end(), "ORG"))
    return sorted(out, key=lambda m: m.start)


def _as_team(body: str, m: RawMention, gaz: Gazetteer) -> RawMention:
    if m.type != "LOC":
        return m
    name = body[m.start : m.end]
    if name.casefold() in _HOME_NATIONS or any(
        p.kind in ("country", "continent") for p in gaz.candidates(name)
    ):
        return m
    if _VENUE_BEFORE.search(body[max(0, m.start - 20) : m.start]) or _PLACE_AFTER.match(body, m.end):
        return m
    city = _CITY_COMMA_BEFORE.search(body[max(0, m.start - 40) : m.start])
    if city and any(p.kind == "city" for p in gaz.candidates(city.group(1))):
        return m  # the state or country of a city: "ARLINGTON, Texas"
    if (
        city
        and PHRASE_END.match(body, m.end)
        and any(p.kind in ("admin1", "admin2") for p in gaz.candidates(name))
    ):
        return m  # the county of a venue, ending its phrase: "Brands Hatch Indy, Kent."
    line_start = body.rfind("\n", 0, m.start) + 1
    if not body[line_start : m.start].strip() and (name.isupper() or _DATE_AFTER.match(body, m.end)):
        return m  # a dateline: "MADRID (AP) --", "NEW YORK 1996-08-22"
    return RawMention(m.start, m.end, "ORG")
