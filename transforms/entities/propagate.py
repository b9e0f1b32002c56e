"""One name, one reading per article: occurrences of a recognised name that the model skipped are mentions too.

A small model reads each sentence on its own, so it tags "Airbus" in one sentence and misses it in the next,
and tags "Donald Trump" but not a later "Trump". Within one article a capitalised name nearly always means
the same thing each time (the "one sense per discourse" heuristic), so every further standalone occurrence
of a recognised name, or of a recognised person's surname, becomes a mention of the same type.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict

from transforms.entities.recognize import RawMention
from transforms.entities.rules import COMMON_WORDS, SENTENCE_ENDS, TITLES, starts_sentence

# What may not touch a name on either side for an occurrence to stand alone.
_JOINED = r"\w&@#+\-–/"


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


def propagate(body: str, mentions: list[RawMention]) -> list[RawMention]:
    """``mentions`` plus every standalone occurrence of their names, and of their people's surnames, that no
    mention covers; each with the type most of that name's mentions have (a tie adds nothing). A one-word
    name at the start of a sentence is skipped when it is also a common word ("He", "Chaos ensued")."""
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
    covered = bytearray(len(body))
    for m in mentions:
        covered[m.start : m.end] = b"\1" * (m.end - m.start)
    lowercase_words = COMMON_WORDS | set(re.findall(r"(?<!\w)[a-z][\w'’-]*", body))
    added: list[RawMention] = []
    for name, counts in types.items():
        if len(name) < 2 or not name[0].isupper():
            continue
        ranked = counts.most_common(2)
        if len(ranked) == 2 and ranked[0][1] == ranked[1][1]:
            continue
        type_ = ranked[0][0]
        common_word = " " not in name and name.casefold() in lowercase_words
        for hit in re.finditer(rf"(?<![{_JOINED}]){re.escape(name)}(?![{_JOINED}])", body):
            start, end = hit.span()
            if any(covered[start:end]) or not _standalone(body, start, end):
                continue
            if common_word and starts_sentence(body, start):
                continue
            covered[start:end] = b"\1" * (end - start)
            added.append(RawMention(start, end, type_))
    return sorted([*mentions, *added], key=lambda m: m.start)
