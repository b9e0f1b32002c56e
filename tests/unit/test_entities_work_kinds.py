"""The one table of kinds of work and craft and the sets ``rules`` and ``lexicon`` take from it."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from transforms.entities import lexicon, rules
from transforms.entities.recognize import RawMention
from transforms.entities.work_kinds import USES, Use, kind_words

_WORDS = sorted(USES)


def test_every_word_is_folded_and_serves_a_use() -> None:
    # the modules look up folded words: an entry with a capital, or with no use, would never be read
    assert all(word == word.casefold() and uses for word, uses in USES.items())


@given(st.sampled_from(_WORDS), st.sampled_from(["PERSON", "ORG", "LOC"]))
def test_a_definition_makes_a_work_exactly_for_its_kinds(word: str, read_as: str) -> None:
    body = f"Stardust is a NASA {word} that flew in 1999. Stardust landed."
    mentions = [
        RawMention(0, 8, read_as),
        RawMention(body.rindex("Stardust"), body.rindex("Stardust") + 8, "ORG"),
    ]
    out = rules.defined_kinds(body, mentions, lambda _: False)
    defined = word in kind_words(Use.DEFINED_AS)
    assert [m.type for m in out] == (["MISC", "MISC"] if defined else [read_as, "ORG"])


@given(st.sampled_from(_WORDS))
def test_a_name_after_a_kind_is_a_work_exactly_for_its_kinds(word: str) -> None:
    body = f"He saw the 1969 {word} Easy Rider again."
    start = body.index("Easy")
    assert lexicon.after_work_noun(body, start, start + len("Easy Rider")) == (
        word in kind_words(Use.BEFORE_NAME)
    )
