"""Training-data augmentation: entity mentions swapped for other names of the same type.

A model fine-tuned on one year of Reuters learns its names by heart (Clinton is a person, Lufthansa an
organisation) and falters on the next decade's. Putting other names of the same type into the same
sentences makes it read the context ("shares of X rose", "X, the chief executive") and the shape of a name,
which carries over to names it has never seen.
"""

from __future__ import annotations

import random
from collections import defaultdict

from transforms.entities.conll import ConllDoc


def inventory(docs: list[ConllDoc]) -> dict[str, list[str]]:
    """Every mention's text per label, with repeats, so that common names are drawn more often."""
    names: dict[str, list[str]] = defaultdict(list)
    for d in docs:
        for start, end, label in d.spans:
            names[label].append(d.text[start:end])
    return dict(names)


def swap_mentions(doc: ConllDoc, names: dict[str, list[str]], rng: random.Random, p: float) -> ConllDoc:
    """``doc`` with each mention replaced, with probability ``p``, by a random name of its label; the spans
    move with the text."""
    parts: list[str] = []
    spans = []
    pos = 0  # in the old text
    shift = 0  # new offset minus old offset
    for start, end, label in sorted(doc.spans):
        parts.append(doc.text[pos:start])
        text = doc.text[start:end]
        if label in names and rng.random() < p:
            text = rng.choice(names[label])
        parts.append(text)
        spans.append((start + shift, start + shift + len(text), label))
        shift += len(text) - (end - start)
        pos = end
    parts.append(doc.text[pos:])
    return ConllDoc(text="".join(parts), spans=spans)
