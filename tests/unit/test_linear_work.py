"""Work linear in the input where it was not: each rewritten algorithm gives exactly what the one it replaced
gave (property tests against a plain statement of the old rule), and its work is bounded by counting it
(Python lines run, or the reordering left to a C call), never by a wall clock.

Timings before and after: pipelines/RELIABILITY.md, "Hostile input", and ``benchmarks/complexity.py``.
"""

from __future__ import annotations

import dataclasses
import math
import unicodedata
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks.complexity import template_articles
from transforms import unicode_forms
from transforms.boilerplate import signals as sig
from transforms.dedup import Deduplicator, DedupSettings, index
from transforms.dedup.batch import batch_pairs, dedup_batch, member
from transforms.dedup.index import fingerprint
from transforms.dedup.shingles import normalise
from transforms.normalize import normalize_text, strip_controls


def scanned_blocks(units: list[float], penalty: float = 7.0) -> list[tuple[int, int, float]]:
    """The rule as first written: scan each stretch for its densest span, then the stretches either side."""
    blocks, todo = [], [(0, len(units))]
    while todo:
        lo, hi = todo.pop()
        best, span, run, start = 0.0, None, 0.0, lo
        for i in range(lo, hi):
            if run <= 0:
                run, start = 0.0, i
            run += units[i] - penalty
            if run > best:
                best, span = run, (start, i + 1)
        if span is None:
            continue
        blocks.append((span[0], span[1], best))
        todo += [(lo, span[0]), (span[1], hi)]
    return blocks


def scanned_distance(units: np.ndarray) -> np.ndarray:
    """Distance to the nearest main block, one pass over every line per block."""
    n = len(units)
    distance = np.full(n, float(n))
    blocks = scanned_blocks(list(units))
    if not blocks:
        return distance
    top = max(net for _, _, net in blocks)
    idx = np.arange(n)
    for start, end, net in blocks:
        if net >= sig.STRONG_BLOCK * top:
            distance = np.minimum(distance, np.maximum(np.maximum(start - idx, idx - (end - 1)), 0))
    return distance


# Word counts (integers) and CJK units (k / 1.8 is no dyadic fraction; quarters are): ties are common.
UNITS = st.lists(
    st.one_of(
        st.sampled_from([0.0, 1.0, 3.0, 6.0, 7.0, 8.0, 14.0]),
        st.integers(0, 40).map(float),
        st.integers(0, 80).map(lambda q: q / 4),
    ),
    max_size=60,
)


@settings(max_examples=400, deadline=None)
@given(UNITS, st.sampled_from([7.0, 0.0, 3.5]))
def test_dense_blocks_are_the_scans_blocks(units, penalty):
    assert sig.dense_blocks(units, penalty) == scanned_blocks(units, penalty)


@settings(max_examples=200, deadline=None)
@given(UNITS)
def test_block_features_are_the_scans_features(units):
    array = np.array(units, dtype=float)
    strength, distance = sig.block_features(array)
    assert np.array_equal(distance, np.log1p(scanned_distance(array)))
    blocks = scanned_blocks(units)
    expected = np.zeros(len(units))
    top = max((net for _, _, net in blocks), default=1.0)
    for start, end, net in blocks:
        expected[start:end] = net / top
    assert np.array_equal(strength, expected)


def test_blocks_of_a_long_text_cost_n_log_n_joins_not_n_squared(monkeypatch):
    """Prose lines and empty lines alternating: one block per prose line, each split off its stretch's
    edge, which cost a scan of the rest of the stretch each (11 CPU-s for 20,000 lines). The work is the
    segment tree's node joins: building it, and O(log n) per stretch asked about."""
    joins = 0
    join = sig._join

    def counted(left, right):
        nonlocal joins
        joins += 1
        return join(left, right)

    monkeypatch.setattr(sig, "_join", counted)

    def work(n: int) -> int:
        nonlocal joins
        joins = 0
        sig.block_features(np.array([9.0 if i % 2 == 0 else 0.0 for i in range(n)]))
        return joins

    for n in (500, 2000, 8000):
        assert work(n) <= 4 * n * math.log2(n)  # n^2 / 4 scanned lines before


MARKS = [chr(cp) for cp in range(0x300, 0x370)] + ["\u0323", "\u0345", "\u05b0", "\u0f71", "\u0f72", "\u1dc0"]
ALPHABET = st.sampled_from(
    [
        *MARKS,
        "a",
        "e",
        "\u00e9",
        "\u0f73",
        "\u0f75",
        "\u0344",
        "\u0958",
        "\uac00",
        "\u1100",
        "\u1161",
        "\ufb01",
    ]
    + ["\u0b47", "\u0b3e", "\u212b", " ", "\n", "\U0001d15e", "\U0001d165", "\U0001d16d"]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(ALPHABET, st.lists(st.sampled_from(MARKS), min_size=25, max_size=70).map("".join))))
def test_normalize_is_unicodedatas(parts):
    text = "".join(parts)
    for form in ("NFC", "NFKC", "NFD", "NFKD"):
        assert unicode_forms.normalize(form, text) == unicodedata.normalize(form, text)


def inversions(text: str) -> int:
    """Pairs of marks in one run out of canonical order: the swaps CPython's insertion sort makes."""
    total, seen = 0, {}
    for char in text:
        klass = unicodedata.combining(char)
        if klass == 0:
            seen = {}
            continue
        total += sum(n for k, n in seen.items() if k > klass)
        seen[klass] = seen.get(klass, 0) + 1
    return total


def test_no_long_run_reaches_cpythons_insertion_sort(monkeypatch):
    """A letter under 2,000 marks in reverse canonical order (a million swaps in one C call; 5 million marks
    fit a message) is put in order before ``unicodedata.normalize`` sees it, at every call site."""
    original = unicodedata.normalize
    swaps: list[int] = []

    def counted(form: str, text: str) -> str:
        swaps.append(inversions(text))
        return original(form, text)

    monkeypatch.setattr(unicodedata, "normalize", counted)
    zalgo = "Zalgo a" + "\u0301" * 1000 + "\u0323" * 1000 + " comes."
    expected = original("NFC", zalgo)
    assert normalize_text(zalgo) == expected
    assert strip_controls(f"<p>{zalgo}</p>") == f"<p>{expected}</p>"
    assert normalise(zalgo) == " ".join(original("NFKC", zalgo).casefold().split())
    assert swaps and max(swaps) <= unicode_forms.LONG_RUN**2


class Logged:
    """Stands in for a module's structlog logger: what it was asked to log at debug level."""

    def __init__(self) -> None:
        self.events: list[dict] = []

    def debug(self, event: str, **fields: object) -> None:
        self.events.append({"event": event, **fields})

    def evicted(self) -> int:
        return sum(e["entries"] for e in self.events if e["event"] == "dedup_evicted")


def test_a_template_flood_costs_each_article_the_same_and_counts_what_the_cap_pushes_out(monkeypatch):
    """Stories that are not duplicates (threshold 1.0) but share their band keys are all indexed: each
    article reads at most ``max_per_bucket`` entries a key however many came before it, and every entry
    the cap pushes out of a key is counted (``dedup.evicted``) and logged with the article that did it."""
    settings = DedupSettings(threshold=1.0, max_per_bucket=8)
    dedup = Deduplicator(settings)
    read: list[int] = []
    entries_of = index.iter_entries

    def counted(blob, kind, settings_):
        found = list(entries_of(blob, kind, settings_))
        read[-1] += len(found)
        return iter(found)

    monkeypatch.setattr(index, "iter_entries", counted)
    logged = Logged()
    monkeypatch.setattr(index, "log", logged)
    adds: Counter[bytes] = Counter()
    for art in template_articles(300):
        read.append(0)
        _, duplicate = dedup.check(art)
        assert duplicate is None
        adds.update(key for key, _ in dedup.fingerprint(art).keys)
    keys = len(dedup.fingerprint(template_articles(1)[0]).keys)
    assert max(read) <= 3 * keys * settings.max_per_bucket + keys  # candidates, insert, its newest second
    expected = sum(max(0, n - settings.max_per_bucket) for n in adds.values())
    assert expected > 1000
    assert logged.evicted() == expected


def test_the_batch_rule_counts_the_members_its_window_leaves_out(monkeypatch):
    settings = DedupSettings(threshold=1.0, max_per_bucket=8)
    hasher = settings.hasher()
    members = [member(a, fingerprint(a, settings, hasher)) for a in template_articles(60)]
    logged = Logged()
    monkeypatch.setattr(index, "log", logged)
    batch_pairs(members, settings)
    groups = Counter(key for m in members for key, _ in m.fp.keys)
    expected = sum(max(0, n - 1 - 2 * settings.max_per_bucket) for n in groups.values())
    assert expected > 100
    assert logged.evicted() == expected


@pytest.mark.parametrize("near", [False, True])
def test_a_flood_of_copies_leaves_one_survivor_in_a_backfill_as_in_the_stream(near):
    """More copies of one story than the window (8 here, 32 by default): with only the preceding window,
    every ninth copy saw nothing but dropped copies and survived."""
    settings = DedupSettings(max_per_bucket=8)
    hasher = settings.hasher()
    copies = template_articles(100)
    if not near:
        copies = [dataclasses.replace(a, body=copies[0].body) for a in copies]
    survivors, verdicts = dedup_batch(copies, settings, lambda a: fingerprint(a, settings, hasher))
    stream = Deduplicator(settings)
    delivered = [a for a in copies if stream.check(a)[1] is None]
    assert [a.id for a in survivors] == [a.id for a in delivered] == [copies[0].id]
    assert len(verdicts) == 99
