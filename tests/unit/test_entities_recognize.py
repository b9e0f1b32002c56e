"""Chunking of long bodies (no model needed)."""

from __future__ import annotations

from transforms.entities.recognize import chunks


def test_chunks_cover_the_text_at_paragraph_breaks():
    text = "\n\n".join(f"Paragraph {i} " + "word " * 30 for i in range(200))
    pieces = list(chunks(text, 1000))
    assert "".join(p for _, p in pieces) == text
    assert all(len(p) <= 1000 for _, p in pieces)
    assert all(text[o : o + len(p)] == p for o, p in pieces)
    assert all(p.endswith("\n\n") for _, p in pieces[:-1])
    unbroken = "x" * 2500
    assert [len(p) for _, p in chunks(unbroken, 1000)] == [1000, 1000, 500]
