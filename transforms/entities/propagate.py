"""One name, one reading per article: occurrences of a recognised name that the model skipped are mentions too.

A small model reads each sentence on its own, so it tags "Airbus" in one sentence and misses it in the next,
and tags "Donald Trump" but not a later "Trump". Within one article a capitalised name nearly always means
the same thing each time (the "one sense per discourse" heuristic), so every further standalone occurrence
of a recognised name, or of a recognised person's surname, becomes a mention of the same type. An acronym the
article defines ("the World Health Organisation (WHO)") is read as its definition is: of that name's type, or
a miscellaneous name when it abbreviates a common noun ("sea surface salinity (SSS)").
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict

from transforms.entities.recognize import RawMention, covered
from transforms.entities.rules import (
    BODY_ENDINGS,
    COMMON_WORDS,
    COMPANY_ENDINGS,
    ORG_STARTS,
    SENTENCE_ENDS,
    TITLES,
    starts_sentence,
)

# What may not touch a name on either side for an occurrence to stand alone (besides letters and digits).
_JOINED_CHARS = frozenset("_&@#+-–/")
_WORD = re.compile(r"\w+")
_LOWERCASE_WORD = re.compile(r"(?<!\w)[a-z][\w'’-]*")
# An acronym in brackets right after what it abbreviates: two capitals or more ("WHO", "TxDOT", "ACPeds").
_DEFINED = re.compile(r"\(\s*([A-Z][A-Za-z]*[A-Z][A-Za-z]*)\s*\)")
_LETTERS = re.compile(r"[^\W\d_]+")
_FUNCTION_WORDS = frozenset(
    {"of", "the", "and", "for", "in", "on", "at", "to", "by", "de", "du", "des", "la", "le"}
)
# Nouns that make a run of common words a body's name ("World Health Organisation", "Islamic State").
_MORE_BODY_NOUNS = """organisation organization union office bureau service services board court fund programme
    program force forces army navy state states government administration club league team network centre
    center school college academy hospital church movement front alliance coalition congress assembly senate
    corps command university society trust company"""
_BODY_NOUNS = BODY_ENDINGS | COMPANY_ENDINGS | ORG_STARTS | frozenset(_MORE_BODY_NOUNS.split())


def _standalone(body: str, start: int, end: int) -> bool:
    """The occurrence is a whole name of its own, not part of a longer capitalised name ("Trump Tower",
    "New Airbus"); a title before it is fine ("President Trump")."""
    after = re.match(r"[ \t]+(\S+)", body[end : end + 40])
    if after and after.group(1)[0].isupper():
        return False
    before = re.search(r"(\S+)[ \t]+$", body[max(0, start - 40) : start])
    if before:
        word = before.group(1)
        if word[0].isupper() and word.casefold() not in TITLES and word[-1] not in SENTENCE_ENDS:
            return False
    return True


def _long_form(body: str, paren: int, short: str) -> tuple[int, int, bool] | None:
    """The words just before ``paren`` whose initials spell the capitals of ``short``, the first on the first
    (Schwartz and Hearst's rule, 2003), as ``(start, end, is_common_noun)``; the shortest such run of words
    on the same line, else None."""
    caps = [c.casefold() for c in short if c.isupper()]
    line = body.rfind("\n", 0, paren) + 1
    words = list(_LETTERS.finditer(body, max(line, paren - 120), paren))
    for k in range(1, min(len(words), len(caps) + 3) + 1):
        run = words[-k:]
        if run[0].group()[0].casefold() != caps[0]:
            continue
        initials = iter(w.group()[0].casefold() for w in run)
        if all(c in initials for c in caps):
            content = [w.group() for w in run if w.group().casefold() not in _FUNCTION_WORDS]
            return (
                run[0].start(),
                run[-1].end(),
                all(w.islower() for w in content) or _capitalised_term(content),
            )
    return None


def _capitalised_term(words: list[str]) -> bool:
    """Common words capitalised as a term's definition often is ("Compact Fluorescent Light", "System Under
    Test"), with no noun a body's name ends in ("Agency", "Party", "Organisation")."""
    folded = [w.casefold() for w in words]
    return bool(folded) and all(w in COMMON_WORDS and w not in _BODY_NOUNS for w in folded)


def defined_acronyms(body: str, mentions: list[RawMention]) -> list[RawMention]:
    """Acronyms defined in brackets take their definition's reading: one defined right after a mention
    ("World Health Organisation (WHO)", which the model often misses as a common word) is a mention of that
    mention's type where no mention covers it (normalisation then groups the two); one defined after a
    common noun ("bovine spongiform encephalopathy (BSE)") is a miscellaneous name wherever it stands, as
    CoNLL-2003 reads such terms, not a person, organisation or place."""
    terms: set[str] = set()
    added: list[RawMention] = []
    taken = covered(len(body), mentions)
    for found in _DEFINED.finditer(body):
        short = found.group(1)
        long_form = _long_form(body, found.start(), short)
        if long_form is None:
            continue
        start, end, common_noun = long_form
        named = [m for m in mentions if m.start <= start and end <= m.end <= found.start()]
        if named and not any(taken[found.start(1) : found.end(1)]):
            added.append(RawMention(found.start(1), found.end(1), named[-1].type))
        elif not named and common_noun:
            terms.add(short)
    out = [RawMention(m.start, m.end, "MISC") if body[m.start : m.end] in terms else m for m in mentions]
    return sorted(out + added, key=lambda m: m.start)


def propagate(body: str, mentions: list[RawMention]) -> list[RawMention]:
    """``mentions`` plus every standalone occurrence of their names, and of their people's surnames, that no
    mention covers; each with the type most of that name's mentions have (a tie adds nothing). A one-word
    name at the start of a sentence is skipped when it is also a common word ("He", "Chaos ensued"), unless it
    is in capitals ("WHO says"). Acronyms the article defines are read first (``defined_acronyms``)."""
    mentions = defined_acronyms(body, mentions)
    types: dict[str, Counter] = defaultdict(Counter)
    surnames: set[str] = set()
    for m in mentions:
        text = body[m.start : m.end]
        types[text][m.type] += 1
        words = text.split()
        if m.type == "PERSON" and len(words) >= 2 and all(w[0].isupper() for w in words):
            surnames.add(words[-1])  # not "Leyen" of "Ursula von der Leyen"
    for surname in surnames - types.keys():
        types[surname]["PERSON"] = 1
    # first word -> (length, {name: type}) by decreasing length: the longest name that fits wins. Looked up
    # by the text at each word, not tried name by name: many names with one first word ("John Abe", "John
    # Ada", ...) made the pass quadratic.
    by_length: dict[str, dict[int, dict[str, str]]] = defaultdict(dict)
    for name, counts in types.items():
        ranked = counts.most_common(2)
        if len(name) >= 2 and name[0].isupper() and not (len(ranked) == 2 and ranked[0][1] == ranked[1][1]):
            by_length[_WORD.match(name).group()].setdefault(len(name), {})[name] = ranked[0][0]
    by_first_word = {word: sorted(lengths.items(), reverse=True) for word, lengths in by_length.items()}
    taken = covered(len(body), mentions)
    lowercase_words = set(_LOWERCASE_WORD.findall(body))
    added: list[RawMention] = []
    for word in _WORD.finditer(body):
        start = word.start()
        if taken[start] or start and body[start - 1] in _JOINED_CHARS:
            continue
        for length, names in by_first_word.get(word.group(), ()):
            name = body[start : start + length]
            type_ = names.get(name)
            if type_ is None:
                continue
            end = start + length
            if (
                end < len(body)
                and (body[end] in _JOINED_CHARS or body[end].isalnum())
                or any(taken[start:end])
                or not _standalone(body, start, end)
            ):
                continue
            folded = name.casefold()
            if (
                " " not in name
                and not name.isupper()
                and (folded in COMMON_WORDS or folded in lowercase_words)
                and starts_sentence(body, start)
            ):
                break
            taken[start:end] = b"\1" * (end - start)
            added.append(RawMention(start, end, type_))
            break
    return sorted([*mentions, *added], key=lambda m: m.start)
