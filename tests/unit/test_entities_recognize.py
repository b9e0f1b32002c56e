"""Chunking of long bodies and one-sense-per-document propagation (no model needed)."""

from __future__ import annotations

from transforms.entities.recognize import RawMention, chunks, propagate


def test_chunks_cover_the_text_at_paragraph_breaks():
    text = "\n\n".join(f"Paragraph {i} " + "word " * 30 for i in range(200))
    pieces = list(chunks(text, 1000))
    assert "".join(p for _, p in pieces) == text
    assert all(len(p) <= 1000 for _, p in pieces)
    assert all(text[o : o + len(p)] == p for o, p in pieces)
    assert all(p.endswith("\n\n") for _, p in pieces[:-1])
    unbroken = "x" * 2500
    assert [len(p) for _, p in chunks(unbroken, 1000)] == [1000, 1000, 500]


def test_propagate_tags_missed_repeats_without_overlaps():
    body = "Acme Corp rose. Shares of Acme rose. Acme Corp and ACME. Acme. Acmeville and the acme of it."
    raw = [RawMention(0, 9, "ORG"), RawMention(26, 30, "ORG")]
    got = [(body[m.start : m.end], m.start, m.type) for m in propagate(body, raw)]
    assert got == [
        ("Acme Corp", 0, "ORG"),
        ("Acme", 26, "ORG"),
        ("Acme Corp", 37, "ORG"),
        ("Acme", 57, "ORG"),
    ]


def test_propagate_leaves_short_and_lowercase_names_alone():
    body = "EU and eu and EU; iPhone and iPhone."
    raw = [RawMention(0, 2, "ORG"), RawMention(18, 24, "MISC")]
    assert propagate(body, raw) == raw
