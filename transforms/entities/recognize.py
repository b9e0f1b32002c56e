"""Recognition: the news NER model over a body, in bounded chunks, under a time budget."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import spacy
from thinc.api import NumpyOps

from transforms.budget import Deadline
from transforms.entities import warm_words
from transforms.entities.base_models import base_path
from transforms.entities.blas import limit_openblas_threads
from transforms.entities.decode import Entity, GreedyDecoder

MODEL_DIR = Path(__file__).resolve().parent / "model"
CHUNK_CHARS = 8_000  # spaCy's memory grows with the document; a chunk is a few paragraphs

# CoNLL labels ↔ the OntoNotes labels of the component the news model was fine-tuned from. A CoNLL place is
# trained as the OntoNotes kind the base model reads it as (GPE, or LOC for regions and natural features,
# FAC for buildings), so that what the base knows of each kind is kept; all three read back as LOC.
TO_MODEL_LABEL = {"PER": "PERSON", "ORG": "ORG", "LOC": "GPE", "MISC": "NORP"}
PLACE_KINDS = frozenset({"GPE", "LOC", "FAC"})
FROM_MODEL_LABEL = {"PERSON": "PER", "ORG": "ORG", "GPE": "LOC", "LOC": "LOC", "FAC": "LOC", "NORP": "MISC"}
# Page furniture that news text carries along and small models read as names ("FILE PHOTO: ...").
NOT_NAMES = frozenset({"file", "file photo", "photo", "slideshow", "graphic", "reuters graphic", "video"})
# The record's entity types.
ENTITY_TYPE = {"PER": "PERSON", "ORG": "ORG", "LOC": "LOC", "MISC": "MISC"}


@dataclass
class RawMention:
    start: int
    end: int
    type: str  # PERSON | ORG | LOC | MISC
    # The model's confidence (``decode.Entity.margin``); infinite for a mention a rule made, or where no
    # greedy decoder can score the model's entities. Not part of a mention's identity.
    margin: float = field(default=math.inf, compare=False)


def covered(length: int, mentions: list[RawMention]) -> bytearray:
    """A mask of a body's ``length`` characters, 1 where a mention lies: what later rules must not overlap."""
    mask = bytearray(length)
    for m in mentions:
        mask[m.start : m.end] = b"\1" * (m.end - m.start)
    return mask


_NOT_NER = ["tok2vec", "tagger", "parser", "senter", "attribute_ruler", "lemmatizer"]


def load_base(name: str = "sm", *, only_ner: bool) -> spacy.Language:
    """A base pipeline as installed; with ``only_ner`` just its tokenizer and self-contained ``ner``."""
    return spacy.load(base_path(name), exclude=_NOT_NER if only_ner else [])


def load_model(path: Path = MODEL_DIR) -> spacy.Language:
    """The news model. Its word vectors and norm tables are en_core_web_md's, read from the installed
    package rather than copied into git; its 700,000 strings are not loaded at all (a third of the RSS),
    as only their hashes are looked up."""
    vocab = spacy.blank("en").vocab
    vocab.from_disk(base_path("md") / "vocab", exclude=["strings"])
    nlp = spacy.load(path, vocab=vocab, exclude=["vocab"])
    use_numpy_matmul(nlp)
    _warm(nlp)
    return nlp


def use_numpy_matmul(nlp: spacy.Language) -> None:
    """Runs the NER model's matrix products with numpy (OpenBLAS) instead of thinc's default BLIS, which
    is about 3 times slower on the tok2vec's shapes here: recognition takes a quarter less time. OpenBLAS is
    kept to one thread (``blas.py``), as BLIS is."""
    limit_openblas_threads(1)
    ops = NumpyOps(use_blis=False)
    for node in nlp.get_pipe("ner").model.walk():
        node.ops = ops


def _warm(nlp: spacy.Language) -> None:
    """Makes the 10,000 commonest news words (``warm_words.py``) permanent lexemes and tokenizer cache
    entries. Each text is processed in a memory zone, which forgets every word it added and caches nothing,
    so without this each common word would be analysed afresh, by the affix expressions, in every article.
    One word per call: the tokenizer caches nothing more of a text once one of its words is a special case
    ("'s", "U.S."), and the commonest words include several."""
    tokenizer = nlp.tokenizer
    for word in warm_words.load():
        tokenizer(word)


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


def recognize(
    nlp: spacy.Language, body: str, deadline: Deadline, decoder: GreedyDecoder | None = None
) -> list[RawMention]:
    """Entity spans in ``body`` (offsets into it), chunk by chunk; past ``deadline`` raises LimitExceeded.
    With ``decoder`` (``GreedyDecoder.of`` the model's NER), the same spans for far less CPU."""
    found: list[RawMention] = []
    for offset, piece in chunks(body):
        deadline.check(f"recognition up to offset {offset}")
        with nlp.memory_zone():  # frees the strings each text adds, which would grow a worker without bound
            for start, end, model_label, margin in _entities(nlp, piece, decoder):
                label = FROM_MODEL_LABEL.get(model_label)
                if label is not None and piece[start:end].casefold() not in NOT_NAMES:
                    found.append(RawMention(offset + start, offset + end, ENTITY_TYPE[label], margin))
    deadline.check("recognition")
    return found


def _entities(
    nlp: spacy.Language, text: str, decoder: GreedyDecoder | None
) -> list[tuple[int, int, str, float]]:
    """``(start, end, model label, margin)`` of the entities in ``text``, character offsets: found by
    ``decoder`` where it can certify every decision, else by the pipeline itself (and then scored by
    ``decoder`` if there is one: the margins do not depend on which decoder found the entities)."""
    doc = nlp.make_doc(text)
    ents = decoder.entities(doc) if decoder is not None else None
    if ents is None:
        ents = [Entity(e.start, e.end, e.label_, math.inf) for e in nlp(doc).ents]
        if decoder is not None:
            margins = decoder.opening_margins(doc, [(e.start, e.end, e.label) for e in ents])
            ents = [Entity(e.start, e.end, e.label, m) for e, m in zip(ents, margins, strict=True)]
    return [(doc[e.start].idx, doc[e.end - 1].idx + len(doc[e.end - 1]), e.label, e.margin) for e in ents]
