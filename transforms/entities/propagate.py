"""One name, one reading per article: occurrences of a recognised name that the model skipped are mentions too.

A small model reads each sentence on its own, so it tags "Airbus" in one sentence and misses it in the next,
and tags "Donald Trump" but not a later "Trump". Within one article a capitalised name nearly always means
the same thing each time (the "one sense per discourse" heuristic), so every further standalone occurrence
of a recognised name, or of a recognised person's surname, becomes a mention of the same type.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict

from transforms.entities.recognize import RawMention, covered
from transforms.entities.rules import COMMON_WORDS, SENTENCE_ENDS, TITLES, starts_sentence

# What may not touch a name on either side for an occurrence to stand alone (besides letters and digits).
_JOINED_CHARS = frozenset("_&@#+-–/")
_WORD = re.compile(r"\w+")
_LOWERCASE_WORD = re.compile(r"(?<!\w)[a-z][\w'’-]*")


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
    by_first_word: dict[str, list[tuple[str, str]]] = defaultdict(list)  # first word -> (name, type)
    for name, counts in types.items():
        ranked = counts.most_common(2)
        if len(name) >= 2 and name[0].isupper() and not (len(ranked) == 2 and ranked[0][1] == ranked[1][1]):
            by_first_word[_WORD.match(name).group()].append((name, ranked[0][0]))
    for names in by_first_word.values():
        names.sort(key=lambda item: -len(item[0]))  # the longest name that fits wins
    taken = covered(len(body), mentions)
    lowercase_words = set(_LOWERCASE_WORD.findall(body))
    added: list[RawMention] = []
    for word in _WORD.finditer(body):
        start = word.start()
        if taken[start] or start and body[start - 1] in _JOINED_CHARS:
            continue
        for name, type_ in by_first_word.get(word.group(), ()):
            end = start + len(name)
            if (
                not body.startswith(name, start)
                or end < len(body)
                and (body[end] in _JOINED_CHARS or body[end].isalnum())
                or any(taken[start:end])
                or not _standalone(body, start, end)
            ):
                continue
            folded = name.casefold()
            if (
                " " not in name
                and (folded in COMMON_WORDS or folded in lowercase_words)
                and starts_sentence(body, start)
            ):
                break
            taken[start:end] = b"\1" * (end - start)
            added.append(RawMention(start, end, type_))
            break
    return sorted([*mentions, *added], key=lambda m: m.start)
