"""The kinds of work and of craft (films, novels, songs, ships, spacecraft...) whose names CoNLL-2003 calls
miscellaneous: one table, each word once with the uses it serves, from which ``rules`` and ``lexicon`` take
their sets.

One table, because it is one vocabulary: a word added for one use is then weighed for the other. Its uses
differ on purpose, because they read the word in different places. ``lexicon`` reads it right before a name
("the 1969 film Easy Rider", "the cruise ship Freewinds"), where a word that is also a verb, an adjective or
a noun of another sense ("single", "book", "mission", "drink") would stand before any name ("to book
Smith", "a single Trump voter"), and plurals name a list ("the films Easy Rider and Vertigo"). ``rules`` reads
it at the end of a definition ("Stardust is a NASA space capsule that ...", "X was a 1962 film by ..."), where
the noun phrase has already said that a thing is meant, so those words tell, and a word in two parts
("spin-off") never ends the definition's one-word kind.

It imports nothing of the project's but ``word_table``, so ``rules`` and ``lexicon`` (which imports ``rules``) can both import
it.
"""

from __future__ import annotations

from enum import Flag, auto

from transforms.entities.word_table import uses_by_word, words_for


class Use(Flag):
    """Where a kind's word is read, one flag for each question a module asks of it."""

    # ``lexicon``: the word right before a name makes the name a work or a craft ("the film Easy Rider", "the
    # spacecraft Stardust"), and right before a "person" or "organisation" makes it MISC.
    BEFORE_NAME = auto()
    # ``rules``: the kind a sentence defines its opening name as ("Stardust is a NASA space capsule that"),
    # which makes that name MISC in every mention of it.
    DEFINED_AS = auto()


_BEFORE = Use.BEFORE_NAME
_DEFINED = Use.DEFINED_AS

# Each word once, folded, grouped by the uses it serves.
_TABLE: tuple[tuple[Use, str], ...] = (
    (
        _BEFORE | _DEFINED,
        """film movie novel novella album song poem painting sculpture opera musical sitcom documentary
        spacecraft capsule satellite ship vessel yacht aircraft""",
    ),
    (
        _BEFORE,
        """films movies biopic docudrama series miniseries mini-series serial soap telenovela anime cartoon
        novels memoir autobiography biography albums songs ballad operetta poems comedy drama thriller horror
        prequel sequel remake spin-off videogame spaceship rover warship frigate destroyer submarine tanker
        ferry airliner jetliner""",
    ),
    (_DEFINED, "book single rocket mission browser software cocktail drink"),
)


USES = uses_by_word(_TABLE)


def kind_words(use: Use) -> frozenset[str]:
    """The folded kinds' words that serve ``use``."""
    return words_for(USES, use)
