"""Authors cited by surname in scholarly text are persons: "(Porte, 2012)", "Quilis (1964)", "Makel et al.",
"(Marsden, Mackey, & Plonsky, 2016)".

A news model has seen few citations and reads a lone surname by its sound: "Quilis" as a place, "Martin &
Clarke" as a firm. An author-year citation is the APA/Harvard form that academic writing and science news
use; the surnames in it are people, each its own mention.
"""

from __future__ import annotations

import re

from transforms.entities.gazetteer import Gazetteer
from transforms.entities.recognize import RawMention, covered

# A surname: a capitalised word, maybe hyphenated ("Berez-Kroeker", tokenised "García - Paje").
_NAME = r"[A-Z][^\W\d_]*(?:['’][A-Z]?[^\W\d_]+)?(?:\s?-\s?[A-Z][^\W\d_]+)?"
_AUTHORS = rf"{_NAME}(?:\s*,\s*{_NAME})*(?:\s*,?\s*(?:&|and)\s*{_NAME})?"
_YEAR = r"(?:1[6-9]|20)\d\d[a-z]?\b"
# "Makel et al.", "Quilis (1964)", and inside brackets "(Porte, 2012", "; Brieber 2014".
_ET_AL = re.compile(rf"({_AUTHORS})\s+et\s+al\b")
_YEAR_IN_BRACKETS = re.compile(rf"({_AUTHORS})\s*\(\s*{_YEAR}")
_IN_BRACKETS = re.compile(rf"(?:\(|;)\s*(?:(?:e\.\s?g\.|see|cf\.)\s*,?\s*)?({_AUTHORS})\s*,?\s*{_YEAR}")
_ONE_NAME = re.compile(_NAME)
# What each pattern needs somewhere in the text: most articles have neither, and skip the patterns' scans.
_NEEDS = {
    _ET_AL: re.compile(r"\bet\s+al\b"),
    _YEAR_IN_BRACKETS: re.compile(rf"\(\s*{_YEAR}"),
    _IN_BRACKETS: None,
}
_NOT_SURNAMES = frozenset(
    re.findall(
        r"\w+",
        """January February March April May June July August September October November December Jan Feb Mar
        Apr Jun Jul Aug Sep Sept Oct Nov Dec Spring Summer Autumn Fall Winter The In See From Since Until Before
        After And Table Figure Fig Section Chapter Vol Volume No Act Law Article Rule Version Edition Census""",
    )
)
_CAPITALISED_BEFORE = re.compile(r"[A-Z][^\W\d_]*\s*$")


def _cited(body: str, pattern: re.Pattern) -> list[tuple[int, int]]:
    """The surnames of ``pattern``'s citations in ``body``, as character spans; not where a capitalised word
    comes right before, as in a title with its year ("The Imitation Game (2014)")."""
    spans: set[tuple[int, int]] = set()
    if (needs := _NEEDS[pattern]) is not None and not needs.search(body):
        return []
    for found in pattern.finditer(body):
        if _CAPITALISED_BEFORE.search(body, max(0, found.start(1) - 30), found.start(1)):
            continue
        names = [(n.start(), n.end()) for n in _ONE_NAME.finditer(body, found.start(1), found.end(1))]
        if not any(body[s:e] in _NOT_SURNAMES for s, e in names):
            spans.update(names)
    return sorted(spans)


def authors(body: str, mentions: list[RawMention], gaz: Gazetteer) -> list[RawMention]:
    """The mentions with each cited surname a person: a mention that is one surname is retyped, one that
    lists several ("Martin & Clarke") is split into them, and a surname no mention covers is added, except
    after a name with its year in brackets, which may be a work's ("Hydrodynamica (1738)"). A known place
    the model read as one is left alone ("(Tokyo 2020)")."""
    sure = sorted({*_cited(body, _ET_AL), *_cited(body, _IN_BRACKETS)})
    cited = sorted({*sure, *_cited(body, _YEAR_IN_BRACKETS)})
    if not cited:
        return mentions
    out: list[RawMention] = []
    for m in mentions:
        inside = [(s, e) for s, e in cited if m.start <= s and e <= m.end]
        if not inside or m.type == "LOC" and gaz.candidates(body[m.start : m.end]):
            out.append(m)
        elif len(inside) == 1 and inside[0] == (m.start, m.end) or len(inside) > 1:
            out.extend(RawMention(s, e, "PERSON") for s, e in inside)
        else:
            out.append(m)
    taken = covered(len(body), out)
    out += [RawMention(s, e, "PERSON") for s, e in sure if not any(taken[s:e])]
    return sorted(out, key=lambda m: m.start)
