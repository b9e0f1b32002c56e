"""Chunking of long bodies and raw mentions (no model needed)."""

from __future__ import annotations

from transforms.entities.recognize import RawMention, chunks


def test_chunks_cover_the_text_at_paragraph_breaks():
    text = "\n\n".join(f"Paragraph {i} " + "word " * 30 for i in range(200))
    pieces = list(chunks(text, 1000))
    assert "".join(p for _, p in pieces) == text
    assert all(len(p) <= 1000 for _, p in pieces)
    assert all(text[o : o + len(p)] == p for o, p in pieces)
    assert all(p.endswith("\n\n") for _, p in pieces[:-1])
    unbroken = "x" * 2500
    assert [len(p) for _, p in chunks(unbroken, 1000)] == [1000, 1000, 500]


def test_a_rules_mention_has_no_margin_and_the_margin_is_no_part_of_its_identity():
    made = RawMention(0, 3, "ORG")
    assert made.margin == float("inf")
    assert RawMention(0, 3, "ORG", 0.2) == made
