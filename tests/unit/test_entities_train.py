"""Training data: CoNLL and GUM spans brought onto the base model's OntoNotes labels and conventions."""

from __future__ import annotations

import numpy
import spacy

from transforms.entities.conll import ConllDoc
from transforms.entities.train import _examples, interpolate


def _pipes():
    """A model to train with the shipped labels, and a stand-in for the base model's own reading."""
    nlp = spacy.blank("en")
    ner = nlp.add_pipe("ner")
    for label in ("PERSON", "ORG", "GPE", "LOC", "FAC", "NORP"):
        ner.add_label(label)
    base = spacy.blank("en")
    base.add_pipe("entity_ruler").add_patterns(
        [
            {"label": "LOC", "pattern": "Mekong"},
            {"label": "FAC", "pattern": "Golden Gate Bridge"},
            {"label": "GPE", "pattern": "Paris"},
            {"label": "NORP", "pattern": "French"},
            {"label": "EVENT", "pattern": "Cyclone Phailin"},
        ]
    )
    return nlp, base


def _tags(nlp, base, text: str, spans: list[tuple[str, str]], *, no_misc: bool) -> dict[str, str]:
    doc = ConllDoc(text, [(text.index(s), text.index(s) + len(s), lab) for s, lab in spans])
    (example,) = _examples(nlp, base, [doc], no_misc=no_misc)
    return {t.text: tag or "-" for t, tag in zip(example.predicted, example.get_aligned_ner(), strict=True)}


def test_a_place_takes_the_kind_the_base_model_gives_it_else_gpe():
    nlp, base = _pipes()
    text = "The Mekong flows past Paris and the Golden Gate Bridge near Springfield"
    spans = [("Mekong", "LOC"), ("Paris", "LOC"), ("Golden Gate Bridge", "LOC"), ("Springfield", "LOC")]
    tags = _tags(nlp, base, text, spans, no_misc=False)
    assert (tags["Mekong"], tags["Paris"], tags["Springfield"]) == ("U-LOC", "U-GPE", "U-GPE")
    assert (tags["Golden"], tags["Bridge"]) == ("B-FAC", "L-FAC")


def test_gum_persons_lose_their_titles_and_its_unmarked_misc_names_are_unlabelled():
    nlp, base = _pipes()
    text = "Mr. Kelly told the Secretary that French aid after Cyclone Phailin reached Emperor of Mexico Iturbide"
    spans = [("Mr. Kelly", "PER"), ("Secretary", "PER"), ("Emperor of Mexico", "PER")]
    tags = _tags(nlp, base, text, spans, no_misc=True)
    assert (tags["Mr."], tags["Kelly"]) == ("O", "U-PERSON")
    assert tags["Secretary"] == "-" and tags["Emperor"] == tags["Mexico"] == "-"  # no name of CoNLL's kind
    assert tags["French"] == tags["Cyclone"] == tags["Phailin"] == "-"  # MISC to CoNLL, unmarked in GUM
    assert tags["told"] == tags["Iturbide"] == "O"


def test_conll_keeps_every_token_labelled():
    nlp, base = _pipes()
    text = "French troops entered Paris"
    tags = _tags(nlp, base, text, [("French", "MISC"), ("Paris", "LOC")], no_misc=False)
    assert tags == {"French": "U-NORP", "troops": "O", "entered": "O", "Paris": "U-GPE"}


def _saved_ner(path, seed: int):
    from thinc.api import fix_random_seed

    fix_random_seed(seed)
    nlp = spacy.blank("en")
    ner = nlp.add_pipe("ner")
    ner.add_label("PERSON")
    nlp.initialize()
    nlp.to_disk(path)
    return [p.copy() for node in ner.model.walk() for p in (node.get_param(n) for n in node.param_names)]


def test_mixing_weights_keeps_the_asked_share_of_the_new_ones(tmp_path):
    old = _saved_ner(tmp_path / "old", 1)
    new = _saved_ner(tmp_path / "new", 2)
    interpolate(tmp_path / "old", tmp_path / "new", 0.7)
    mixed = spacy.load(tmp_path / "new").get_pipe("ner").model
    got = [node.get_param(n) for node in mixed.walk() for n in node.param_names]
    assert len(got) == len(old) > 0
    for a, b, m in zip(old, new, got, strict=True):
        assert numpy.allclose(m, 0.3 * a + 0.7 * b)
    assert any(not numpy.allclose(a, b) for a, b in zip(old, new, strict=True))
