"""Narrows a fine-tuned NER component to the labels it was trained on.

The component starts from en_core_web_md's, with 18 OntoNotes labels and 74 transitions, but CoNLL training
uses four of them. At every token the greedy decoder scores and validates every transition, which was about
30% of the time of recognition; keeping only the transitions of the trained labels (their output rows are
kept as they are) removes most of that.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from transforms.entities.recognize import load_model


def move_names(ner) -> list[str]:
    """The component's transitions in the order of its output layer's rows."""
    return [ner.moves.get_class_name(i) for i in range(ner.moves.n_moves)]


def prune_labels(path: Path, keep: set[str]) -> None:
    """Rewrites the model in ``path`` with only the transitions of the ``keep`` labels (and the label-less
    ones) in its ``ner`` component."""
    nlp = load_model(path)
    ner = nlp.get_pipe("ner")
    labels = {
        action: Counter({label: n for label, n in counts.items() if label in keep or label == ""})
        for action, counts in ner.moves.labels.items()
    }
    moves = type(ner.moves)(nlp.vocab.strings, labels)
    old = move_names(ner)
    rows = [old.index(moves.get_class_name(i)) for i in range(moves.n_moves)]
    upper = ner.model.get_ref("upper")
    weights, bias = upper.get_param("W"), upper.get_param("b")
    upper._dims["nO"] = len(rows)  # thinc refuses to resize a layer with weights; the new ones fit
    upper.set_param("W", weights[rows].copy())
    upper.set_param("b", bias[rows].copy())
    nlp.to_disk(path, exclude=["vocab"])
    # A live component's transitions are read-only, so they are replaced in its saved form.
    moves.to_disk(path / "ner" / "moves", exclude=["strings"])
    meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
    meta["labels"]["ner"] = sorted({label for counts in labels.values() for label in counts if label})
    (path / "meta.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
