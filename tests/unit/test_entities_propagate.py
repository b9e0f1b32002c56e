"""One reading per article: skipped occurrences of recognised names become mentions."""

from __future__ import annotations

import pytest

from transforms.entities.propagate import propagate
from transforms.entities.recognize import RawMention
from transforms.watchdog import Expired, cpu_limit


def mention(body: str, text: str, type_: str, nth: int = 0) -> RawMention:
    start = -1
    for _ in range(nth + 1):
        start = body.index(text, start + 1)
    return RawMention(start, start + len(text), type_)


def spans(body: str, got: list[RawMention]) -> list[tuple[str, str]]:
    return [(body[m.start : m.end], m.type) for m in got]


def test_later_occurrences_and_surnames_are_added_with_the_type_of_the_name():
    body = "Airbus said Donald Trump called. Shares of Airbus fell after President Trump's remarks."
    got = propagate(body, [mention(body, "Airbus", "ORG"), mention(body, "Donald Trump", "PERSON")])
    assert spans(body, got) == [
        ("Airbus", "ORG"),
        ("Donald Trump", "PERSON"),
        ("Airbus", "ORG"),
        ("Trump", "PERSON"),
    ]
    assert got[2] == mention(body, "Airbus", "ORG", nth=1)


def test_parts_of_longer_names_and_joined_forms_are_not_mentions():
    body = "Trump spoke. Trump Tower and New Airbus plans; OPEC+ met while OPEC waited for Airbus-made jets."
    got = propagate(body, [mention(body, "Trump", "PERSON"), mention(body, "OPEC", "ORG", nth=1)])
    assert spans(body, got) == [("Trump", "PERSON"), ("OPEC", "ORG")]
    got = propagate(body, [mention(body, "Airbus", "ORG")])
    assert spans(body, got) == [("Airbus", "ORG")]


def test_common_words_opening_a_sentence_and_split_votes_are_left_alone():
    body = "He Yafei spoke. He said Chaos Theory won. Chaos ensued, and Jordan met Jordan in Amman."
    got = propagate(
        body,
        [
            mention(body, "He Yafei", "PERSON"),
            mention(body, "Jordan", "PERSON"),
            mention(body, "Jordan", "LOC", nth=1),
        ],
    )
    assert spans(body, got) == [("He Yafei", "PERSON"), ("Jordan", "PERSON"), ("Jordan", "LOC")]


def test_particle_surnames_are_not_cut_from_the_name():
    body = "Ursula von der Leyen spoke. Leyen is not her surname alone; von der Leyen is."
    got = propagate(body, [mention(body, "Ursula von der Leyen", "PERSON")])
    assert spans(body, got) == [("Ursula von der Leyen", "PERSON")]


def test_an_acronym_defined_after_a_name_is_a_mention_of_its_type_even_opening_a_sentence():
    body = "The World Health Organisation (WHO) said so. WHO says more. Who knows? The TxDOT budget grew."
    got = propagate(body, [mention(body, "World Health Organisation", "ORG")])
    assert spans(body, got) == [("World Health Organisation", "ORG"), ("WHO", "ORG"), ("WHO", "ORG")]
    body = "The Texas Department of Transportation (TxDOT) said TxDOT would pay."
    got = propagate(body, [mention(body, "Texas Department of Transportation", "ORG")])
    assert spans(body, got)[1:] == [("TxDOT", "ORG"), ("TxDOT", "ORG")]


def test_an_acronym_defined_after_a_common_noun_is_a_miscellaneous_name():
    body = "It measures sea surface salinity (SSS) with radio frequency interference (RFI) removed. SSS rose."
    got = propagate(body, [mention(body, "SSS", "ORG"), mention(body, "SSS", "ORG", nth=1)])
    assert spans(body, got) == [("SSS", "MISC"), ("SSS", "MISC")]


def test_an_acronym_of_capitalised_common_words_is_a_term_but_not_one_of_a_body():
    body = "Errors are put into a System Under Test (SUT) by the Food Safety Agency (FSA). The SUT runs; FSA agrees."
    given = [mention(body, "SUT", "ORG"), mention(body, "FSA", "ORG")]
    given += [mention(body, "SUT", "ORG", nth=1), mention(body, "FSA", "ORG", nth=1)]
    got = spans(body, propagate(body, given))
    assert got == [("SUT", "MISC"), ("FSA", "ORG"), ("SUT", "MISC"), ("FSA", "ORG")]


def test_brackets_that_spell_no_acronym_of_the_words_before_change_nothing():
    body = "Andre Agassi (USA) beat Mark Philippoussis (AUS) and the Bosnian Serb army (BSA) said so."
    given = [
        mention(body, "Andre Agassi", "PERSON"),
        mention(body, "USA", "LOC"),
        mention(body, "BSA", "ORG"),
    ]
    assert spans(body, propagate(body, given)) == [("Andre Agassi", "PERSON"), ("USA", "LOC"), ("BSA", "ORG")]


def test_many_names_with_one_first_word_are_looked_up_not_tried_one_by_one():
    """Each "John" no mention covers once tried every name opening with "John": 10,000 such names and as
    many lone "John"s took about 8 CPU-s. A generous budget, not a timing: linear work takes 0.2 CPU-s."""
    names = [
        f"John {chr(65 + i % 26)}{chr(97 + i // 26 % 26)}{chr(97 + i // 676 % 26)}x" for i in range(10_000)
    ]
    body = " ".join(f"{name} met John." for name in names)
    mentions, at = [], 0
    for name in names:
        start = body.index(name, at)
        mentions.append(RawMention(start, start + len(name), "PERSON"))
        at = start + len(name)
    try:
        with cpu_limit(3.0):
            got = propagate(body, mentions)
    except Expired:
        pytest.fail("propagate is not linear in the names sharing a first word")
    assert got == mentions  # no lone "John" is a name
