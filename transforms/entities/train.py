"""Reproducible training of the news NER weights shipped in ``transforms/entities/model``.

Starts from en_core_web_md's own ``ner`` component (its internal tok2vec with static word vectors, trained on
OntoNotes) and fine-tunes it on CoNLL-2003 train only, keeping the best epoch on CoNLL-2003 dev (PER/ORG/LOC
micro-F1). CoNLL labels are mapped onto the OntoNotes labels the component already has (PER→PERSON,
LOC→GPE, MISC→NORP), so the pretrained output layer is reused rather than learned from zero; at the end the
other labels' transitions are dropped from the saved model (``prune.py``), which changes no prediction and
makes it faster. Documents are fed whole, each epoch half of them with punctuation glued back as in running
text, so the model sees both tokenised and natural spacing. Seeded; single-threaded; about 3 minutes an epoch
on a busy core.
``--base sm`` starts from en_core_web_sm instead (no word vectors; about 1 point lower on dev).

    .venv/bin/python -m transforms.entities.train [--base md] [--epochs 12] [--out transforms/entities/model]
"""

from __future__ import annotations

import argparse
import os
import random
import time
import warnings
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import spacy  # noqa: E402
from spacy.training import Example  # noqa: E402
from spacy.util import fix_random_seed, minibatch  # noqa: E402

from transforms.entities.conll import ConllDoc, read_conll  # noqa: E402
from transforms.entities.prune import prune_labels  # noqa: E402
from transforms.entities.recognize import FROM_MODEL_LABEL, MODEL_DIR, TO_MODEL_LABEL, load_base  # noqa: E402
from transforms.entities.scoring import score_spans  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "bench" / "ner" / "conllpp-2003"
SEED = 0

# Entities whose edges fall inside a spaCy token (a handful) are left out of training; spaCy warns for each.
warnings.filterwarnings("ignore", message=r"\[W030\]")


def _examples(nlp: spacy.Language, docs: list[ConllDoc]) -> list[Example]:
    out = []
    for d in docs:
        doc = nlp.make_doc(d.text)
        ents = [(s, e, TO_MODEL_LABEL[lab]) for s, e, lab in d.spans]
        out.append(Example.from_dict(doc, {"entities": ents}))
    return out


def _dev_f1(nlp: spacy.Language, docs: list[ConllDoc]) -> float:
    gold, pred = [], []
    for d, doc in zip(docs, nlp.pipe([d.text for d in docs], batch_size=16), strict=True):
        gold.append({s for s in d.spans if s[2] != "MISC"})
        pred.append(
            {
                (e.start_char, e.end_char, FROM_MODEL_LABEL[e.label_])
                for e in doc.ents
                if FROM_MODEL_LABEL.get(e.label_) in ("PER", "ORG", "LOC")
            }
        )
    return score_spans(gold, pred)["micro"].f1


def train(base: str, epochs: int, out: Path, dropout: float = 0.2) -> float:
    fix_random_seed(SEED)
    rng = random.Random(SEED)
    nlp = load_base(base, only_ner=True)
    tok = read_conll(DATA / "conllpp_train.txt")
    natural = read_conll(DATA / "conllpp_train.txt", detokenize=True)
    dev = read_conll(DATA / "conllpp_dev.txt", detokenize=True)
    train_sets = (_examples(nlp, tok), _examples(nlp, natural))
    nlp.meta.update(
        name="newsflow_news_ner",
        version="1.0.0",
        description=f"en_core_web_{base} NER fine-tuned on CoNLL-2003 train (transforms/entities/train.py)",
        performance={},
    )
    optimizer = nlp.resume_training()
    best = -1.0
    for epoch in range(epochs):
        t0 = time.perf_counter()
        examples = [rng.choice(pair) for pair in zip(*train_sets, strict=True)]
        rng.shuffle(examples)
        losses: dict[str, float] = {}
        for batch in minibatch(examples, size=8):
            nlp.update(batch, sgd=optimizer, drop=dropout, losses=losses)
        with nlp.use_params(optimizer.averages):
            f1 = _dev_f1(nlp, dev)
            if f1 > best:  # written at once, so that a run can be cut short
                best = f1
                nlp.to_disk(out, exclude=["vocab"])  # the vocabulary comes from the base package
        print(
            f"epoch {epoch} loss {losses['ner']:.0f} dev-F1 {f1:.4f} {time.perf_counter() - t0:.0f}s",
            flush=True,
        )
    prune_labels(out, set(TO_MODEL_LABEL.values()))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base", choices=("sm", "md"), default="md")
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--out", type=Path, default=MODEL_DIR)
    args = parser.parse_args()
    print(f"best dev micro-F1 (PER/ORG/LOC) {train(args.base, args.epochs, args.out):.4f}")


if __name__ == "__main__":
    main()
