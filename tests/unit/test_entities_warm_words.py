"""The committed warm-up list is what its generator makes from the installed model and CoNLL-2003 train."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

from tests.shared_data import CONLL_TRAIN
from transforms.entities import warm_words

recognize = importlib.import_module("transforms.entities.recognize")
ROOT = Path(__file__).resolve().parents[2]


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


# Counted with cProfile (spaCy's tokenizer is built with profiling hooks, so it sees ``find_suffix``), in a
# fresh interpreter: profiling inside the full suite's process once spun forever at a function's entry
# (CPython 3.11's tracing dispatch with an eval-breaker request that stayed set).
_COUNT_AFFIX_SEARCHES = """
import cProfile, importlib, json, pstats, sys
recognize = importlib.import_module("transforms.entities.recognize")

nlp = recognize.load_model()
counts = []
for text in json.loads(sys.argv[1]):
    profile = cProfile.Profile()
    with nlp.memory_zone():
        profile.runcall(nlp.make_doc, text)
    stats = pstats.Stats(profile).stats.items()
    counts.append(sum(calls for (_, _, name), (calls, *_) in stats if name == "find_suffix"))
print(json.dumps(counts))
"""


def _affix_searches(*texts: str) -> list[int]:
    """How many times the tokenizer ran its affix expressions on each text, each in a memory zone."""
    done = subprocess.run(
        [sys.executable, "-c", _COUNT_AFFIX_SEARCHES, json.dumps(texts)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_warmed_words_come_from_the_tokenizer_cache():
    # The list holds special cases ("'s", "U.S."), which stop the tokenizer caching the rest of a text.
    common, unknown = _affix_searches(
        "the government said on Tuesday that U.S. troops 's minister", "Zyxwvland"
    )
    assert common == 0
    assert unknown > 0
