"""The CoNLL reader and exact-span scorer that training and benchmarks/ner.py share."""

from __future__ import annotations

from transforms.entities.conll import read_conll
from transforms.entities.scoring import error_classes, score_spans

TABULAR = """-DOCSTART- -X- -X- O

EU NNP I-NP I-ORG
rejects VBZ I-VP O
German JJ I-NP I-MISC
call NN I-NP O
, , O O
says VBZ I-VP O
Peter NNP I-NP I-PER
Blackburn NNP I-NP I-PER
's POS B-NP O
Paris NNP I-NP I-LOC
Lyon NNP I-NP B-LOC
. . O O

-DOCSTART- -X- -X- O

Second NNP I-NP O
"""

OFFSETS = """-DOCSTART- - - O

ANKARA 21 27 I-LOC
( 28 29 O
Reuters 29 36 I-ORG
) 36 37 O

Turkey 40 46 I-LOC
"""


def test_tabular_documents_spans_and_iob1_adjacent_entities(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text(TABULAR)
    docs = read_conll(path)
    assert len(docs) == 2
    text = docs[0].text
    assert text == "EU rejects German call , says Peter Blackburn 's Paris Lyon ."
    got = [(text[s:e], label) for s, e, label in docs[0].spans]
    assert got == [
        ("EU", "ORG"),
        ("German", "MISC"),
        ("Peter Blackburn", "PER"),
        ("Paris", "LOC"),
        ("Lyon", "LOC"),
    ]
    natural = read_conll(path, detokenize=True)[0]
    assert natural.text == "EU rejects German call, says Peter Blackburn's Paris Lyon."
    assert [natural.text[s:e] for s, e, _ in natural.spans][2] == "Peter Blackburn"


def test_offset_documents_keep_their_character_offsets(tmp_path):
    path = tmp_path / "o.txt"
    path.write_text(OFFSETS)
    (doc,) = read_conll(path)
    assert doc.text[21:27] == "ANKARA" and doc.text[29:36] == "Reuters" and doc.text[40:46] == "Turkey"
    assert doc.spans == [(21, 27, "LOC"), (29, 36, "ORG"), (40, 46, "LOC")]
    assert "\n" in doc.text[37:40]


def test_scores_exact_spans_per_label_and_micro():
    gold = [{(0, 2, "ORG"), (5, 9, "PER"), (10, 12, "LOC")}]
    pred = [{(0, 2, "ORG"), (5, 8, "PER"), (10, 12, "ORG"), (20, 22, "MISC")}]
    sc = score_spans(gold, pred)
    assert (sc["ORG"].tp, sc["ORG"].fp, sc["ORG"].fn) == (1, 1, 0)
    assert (sc["PER"].tp, sc["PER"].fp, sc["PER"].fn) == (0, 1, 1)
    assert (sc["LOC"].tp, sc["LOC"].fp, sc["LOC"].fn) == (0, 0, 1)
    assert (sc["micro"].tp, sc["micro"].fp, sc["micro"].fn) == (1, 2, 2)
    assert round(sc["micro"].f1, 4) == round(2 * (1 / 3) * (1 / 3) / (2 / 3), 4)
    assert score_spans([set()], [set()])["micro"].f1 == 0.0


def test_errors_are_classed_as_type_confusions_boundaries_spurious_and_missed():
    gold = [{(0, 5, "LOC"), (10, 20, "ORG"), (30, 35, "PER"), (50, 55, "MISC")}]
    pred = [{(0, 5, "ORG"), (10, 15, "ORG"), (40, 45, "PER"), (50, 55, "LOC")}]
    assert error_classes(gold, pred) == {
        "type LOC->ORG": 1,
        "boundary": 1,
        "spurious PER": 1,
        "spurious LOC": 1,  # gold MISC is not scored, so a place there is spurious
        "missed PER": 1,
    }


def test_boundary_errors_are_named_by_what_the_spans_differ_in():
    text = "Professor Eastman met the Civic Party and Tanya Chan of the Civic Party at Boatmen's Bank today"
    at = {
        w: (text.index(w), text.index(w) + len(w)) for w in ("Professor Eastman", "the Civic", "Tanya Chan")
    }
    gold = [
        {
            (*at["Professor Eastman"], "PER"),
            (text.index("Civic"), text.index(" and"), "ORG"),
            (text.index("Tanya"), text.index(" at"), "PER"),
            (text.index("Boatmen"), text.index(" Bank"), "ORG"),
            (text.index("today"), len(text), "LOC"),
        }
    ]
    pred = [
        {
            (text.index("Eastman"), at["Professor Eastman"][1], "PER"),
            (at["the Civic"][0], text.index(" and"), "ORG"),
            (*at["Tanya Chan"], "PER"),
            (text.index("Boatmen"), text.index("'s Bank"), "ORG"),
            (text.index("Bank"), len(text), "LOC"),
        }
    ]
    assert error_classes(gold, pred, texts=[text]) == {
        "boundary (title)": 1,
        "boundary (determiner)": 1,
        "boundary (bridge)": 1,
        "boundary (possessive)": 1,
        "boundary (other)": 1,
    }
    assert error_classes(gold, pred) == {"boundary": 5}
