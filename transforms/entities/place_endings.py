"""The last words of places' names (streets, natural features, buildings, venues, places wider than a town):
one table, each word once with the uses it serves, from which ``rules``, ``locate`` and ``normalize`` take
their sets.

One table, because it is one vocabulary: a word added for one use is then weighed for the others. Its uses
differ on purpose, because they answer different questions. ``rules`` asks whether a mention the model read
as a person, an organisation or a miscellaneous name ends as a place's name does: there a surname's word
("Hall", "Church", "Tower") cannot tell, and a venue's word that also names the body running it ("Center",
"Museum") tells only with "at" or "in" before it. ``locate`` asks whether a place lies inside a town: there
"Hall", "Church" and "Tower" are buildings like any other, and no surname is in question.

It imports nothing of the project's but ``word_table``, so ``rules``, ``locate`` and ``normalize`` can all import it; it is
not part of ``lexicon``, which imports ``rules`` (a cycle).
"""

from __future__ import annotations

from enum import Flag, auto

from transforms.entities.word_table import uses_by_word, words_for


class Use(Flag):
    """What an ending word tells, one flag for each question a module asks of a name's last word."""

    # ``rules``: a "person" ending so is the place ("Royal Street", "Imam Mosque"), its title kept. Words
    # that end no person's name: not "Temple", "Tower", "Castle", "Hall", "Church", "Bridge", "Chapel",
    # "Park" or "Palace", which are also surnames.
    PERSON_IS_PLACE = auto()
    # ``rules``: an organisation's or miscellaneous name ending so is the place ("Manila Cathedral", "New
    # Bilibid Prison"; CoNLL-2003 reads "... Hospital", "... Square", "... Bridge" as places). Words that
    # seldom end a body's name.
    BODY_IS_PLACE = auto()
    # ``rules``: words that end the names of both venues and the bodies that run them ("Barclays Center",
    # "Pew Research Center", "St Mary's Church", "the Church"): the venue only where the text puts something
    # at or in it.
    VENUE_AFTER_AT = auto()
    # ``locate``: a street's name, in which a direction makes no region ("North State Street", "West End
    # Avenue"), and which is named after a place rather than inside it ("Hampton Avenue").
    STREET = auto()
    # ``locate``: buildings and grounds, which lie in a town whatever direction their name has
    # ("Northwestern Memorial Hospital", "Central Mental Hospital", "East High School").
    BUILDING_IN_TOWN = auto()
    # ``locate``: features wider than a town, or that run through many ("Mississippi River"), and polities
    # ("Soviet Union"): no part of a town.
    WIDER_THAN_TOWN = auto()
    # ``normalize``: a "person" of two words or more ending so is a natural feature or ground ("Glenrock
    # Lagoon", "Meydan Racecourse"). ``PERSON_IS_PLACE``'s question, asked later, at ``_natural_feature``;
    # its words kept apart because merging the two would change what either rule reads.
    FEATURE_PERSON_IS_PLACE = auto()


_PERSON = Use.PERSON_IS_PLACE
_BODY = Use.BODY_IS_PLACE
_VENUE = Use.VENUE_AFTER_AT
_STREET = Use.STREET
_BUILDING = Use.BUILDING_IN_TOWN
_WIDE = Use.WIDER_THAN_TOWN
_FEATURE = Use.FEATURE_PERSON_IS_PLACE

# Each word once, folded, grouped by the uses it serves.
_TABLE: tuple[tuple[Use, str], ...] = (
    (_PERSON | _BODY | _STREET, "street avenue ave boulevard blvd road rd highway parkway"),
    (_PERSON | _BODY, "ave. blvd. rd. freeway expressway motorway canyon creek basilica gardens"),
    (_PERSON | _BODY | _WIDE, "river mountains ocean desert peninsula"),
    (_PERSON | _BODY | _BUILDING, "mosque cathedral synagogue stadium hospital prison"),
    (_PERSON | _VENUE | _BUILDING, "airport centre center theatre theater museum hotel arena mall"),
    (_PERSON | _VENUE, "estate cemetery plaza"),
    (_BODY | _STREET, "square"),
    (_BODY | _BUILDING, "chapel"),
    (_BODY, "bridge"),
    (_VENUE | _BUILDING, "church hall"),
    (_VENUE | _STREET, "park"),
    (_VENUE, "palace farm farms"),
    (_STREET, "st dr drive lane ln way place court terrace row end village"),
    (
        _BUILDING,
        """clinic school college university academy temple library station tower building courthouse jail
        market""",
    ),
    (
        _WIDE,
        """oceans sea seas gulf strait straits channel coast coastline range basin plateau delta islands
        archipelago continent hemisphere region belt union republic empire kingdom federation caliphate
        emirate emirates""",
    ),
    (_FEATURE, "lagoon racecourse reservoir canal harbour harbor"),
)


USES = uses_by_word(_TABLE)


def ending_words(use: Use) -> frozenset[str]:
    """The folded last words that serve ``use``."""
    return words_for(USES, use)
