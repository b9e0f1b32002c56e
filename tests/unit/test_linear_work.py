"""Work linear in the input where it was not: each rewritten algorithm gives exactly what the one it replaced
gave (property tests against a plain statement of the old rule), and its work is bounded by counting it
(Python lines run, or the reordering left to a C call), never by a wall clock.

Timings before and after: pipelines/RELIABILITY.md, "Hostile input", and ``benchmarks/complexity.py``.
"""

from __future__ import annotations

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from transforms import unicode_forms
from transforms.dedup.shingles import normalise
from transforms.normalize import normalize_text, strip_controls

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
