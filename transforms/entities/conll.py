"""CoNLL-format NER files as documents with character spans, shared by training and the benchmark.

Both file flavours in ``../shared/bench/ner`` are read: ``token POS chunk tag`` (CoNLL-2003, the text is
rebuilt by joining tokens) and ``token start end tag`` (CoNLL++ 2020, tokens are put back at their offsets).
Tags are IOB1 or IOB2; an entity starts at ``B-`` or when the type changes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

Span = tuple[int, int, str]

# Tokens glued to the previous one when ``detokenize`` rebuilds running text (as in real articles).
_NO_SPACE_BEFORE = {
    ",",
    ".",
    ":",
    ";",
    ")",
    "]",
    "?",
    "!",
    "%",
    "'s",
    "'S",
    "n't",
    "'re",
    "'ve",
    "'ll",
    "'d",
    "'",
}
_NO_SPACE_AFTER = {"(", "[", "$"}


@dataclass
class ConllDoc:
    """One document: its text and its gold entity spans as ``(start, end, label)`` character offsets."""

    text: str
    spans: list[Span] = field(default_factory=list)


def _sentences(lines: Iterator[str]) -> Iterator[list[list[str]] | None]:
    """Yields sentences as lists of columns, and None at each ``-DOCSTART-``."""
    sentence: list[list[str]] = []
    for line in lines:
        cols = line.split()
        if not cols:
            if sentence:
                yield sentence
            sentence = []
        elif cols[0] == "-DOCSTART-":
            if sentence:
                yield sentence
            sentence = []
            yield None
        else:
            sentence.append(cols)
    if sentence:
        yield sentence


def _has_offsets(cols: list[str]) -> bool:
    return len(cols) == 4 and cols[1].isdigit() and cols[2].isdigit()


def _entity_spans(tokens: list[tuple[int, int, str]]) -> list[Span]:
    spans: list[Span] = []
    current: list | None = None
    for start, end, tag in tokens:
        if tag == "O":
            current = None
            continue
        prefix, label = tag.split("-", 1)
        if current is not None and prefix == "I" and current[2] == label:
            current[1] = end
            continue
        current = [start, end, label]
        spans.append(current)  # type: ignore[arg-type]
    return [(s, e, lab) for s, e, lab in spans]


def _build(sentences: list[list[list[str]]], detokenize: bool) -> ConllDoc:
    parts: list[str] = []
    pos = 0
    tokens: list[tuple[int, int, str]] = []
    for sentence in sentences:
        for j, cols in enumerate(sentence):
            word, tag = cols[0], cols[-1]
            if _has_offsets(cols):
                gap = max(int(cols[1]) - pos, 1 if tokens and j == 0 else 0)
                sep = (" " * (gap - 1) + "\n") if (j == 0 and gap) else " " * gap
            elif not tokens:
                sep = ""
            elif j == 0:
                sep = "\n"
            else:
                glue = detokenize and (word in _NO_SPACE_BEFORE or sentence[j - 1][0] in _NO_SPACE_AFTER)
                sep = "" if glue else " "
            parts.append(sep)
            pos += len(sep)
            tokens.append((pos, pos + len(word), tag))
            parts.append(word)
            pos += len(word)
    return ConllDoc(text="".join(parts), spans=_entity_spans(tokens))


def read_conll(path: str | Path, *, detokenize: bool = False) -> list[ConllDoc]:
    """All documents of a CoNLL file; ``detokenize`` glues punctuation and clitics as running text has it."""
    docs: list[ConllDoc] = []
    current: list[list[list[str]]] = []
    with open(path, encoding="utf-8") as f:
        for sentence in _sentences(iter(f)):
            if sentence is None:
                if current:
                    docs.append(_build(current, detokenize))
                current = []
            else:
                current.append(sentence)
    if current:
        docs.append(_build(current, detokenize))
    return docs


def stories(path: str | Path, *, min_words: int = 60, prose_only: bool = False) -> list[str]:
    """Documents as article bodies (running text, a paragraph per sentence), for pipeline tests and benchmarks.
    ``prose_only`` skips results tables and market reports (over 4% of the words start with a digit): they
    look alike across stories and a cleaner may rightly find no article in them."""
    out = []
    for doc in read_conll(path, detokenize=True):
        words = doc.text.split()
        if len(words) <= min_words:
            continue
        if prose_only and sum(w[0].isdigit() for w in words) >= 0.04 * len(words):
            continue
        out.append(doc.text.replace("\n", "\n\n"))
    return out
