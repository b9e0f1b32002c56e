"""The committed warm-up list is what its generator makes from the installed model and CoNLL-2003 train."""

from __future__ import annotations

import cProfile
import importlib
import pstats

from tests.shared_data import CONLL_TRAIN
from transforms.entities import warm_words

recognize = importlib.import_module("transforms.entities.recognize")


def test_ranked_by_frequency_then_known_order_and_only_known_words():
    known = ["b", "a", "c", "d", "e"]
    assert warm_words.ranked(known, ["a", "c", "a", "x", "x", "x", "b", "c"], count=3) == ["a", "c", "b"]
    assert warm_words.ranked(known, ["e", "d", "zz"]) == ["d", "e"]


def test_committed_list_is_regenerated_exactly():
    words = warm_words.load()
    assert len(words) == warm_words.COUNT
    assert words == warm_words.ranked(warm_words.known_words(), warm_words.conll_tokens(CONLL_TRAIN))


def test_warmed_words_outlive_a_memory_zone():
    nlp = recognize.load_model()
    with nlp.memory_zone():
        nlp("The minister said on Tuesday that the government would raise taxes in Zyxwvland.")
    assert all(w in nlp.vocab.strings for w in ("said", "government", "Tuesday"))
    assert "Zyxwvland" not in nlp.vocab.strings


def _affix_searches(nlp, text: str) -> int:
    """How many times the tokenizer ran its affix expressions on ``text`` in a memory zone (spaCy's
    tokenizer is built with profiling hooks, so cProfile sees the calls)."""
    profile = cProfile.Profile()
    with nlp.memory_zone():
        profile.runcall(nlp.make_doc, text)
    return sum(
        calls for (_, _, name), (calls, *_) in pstats.Stats(profile).stats.items() if name == "find_suffix"
    )


def test_warmed_words_come_from_the_tokenizer_cache():
    nlp = recognize.load_model()
    # The list holds special cases ("'s", "U.S."), which stop the tokenizer caching the rest of a text.
    assert _affix_searches(nlp, "the government said on Tuesday that U.S. troops 's minister") == 0
    assert _affix_searches(nlp, "Zyxwvland") > 0
