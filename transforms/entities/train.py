"""Reproducible training of the news NER weights shipped in ``transforms/entities/model``.

Starts from en_core_web_md's own ``ner`` component (its internal tok2vec with static word vectors, trained on
OntoNotes) and fine-tunes it on CoNLL-2003 train, with ``--gum N`` also on N copies of GUM train (six genres:
news, interviews, biographies, academic papers, travel guides, court rulings), keeping the best epoch on
CoNLL-2003 dev (and GUM dev, the mean of the two). Labels are mapped onto the OntoNotes labels the component
already has, so the pretrained output layer and what it knows of each kind is reused rather than learned from
zero: PER→PERSON, ORG→ORG, MISC→NORP, and a place to the kind the base model itself gives that span (GPE, or
LOC for regions and natural features, FAC for buildings and roads; GPE when it gives none). GUM is brought to
the CoNLL/OntoNotes conventions where it differs: its persons' leading titles are left out, and the names it
does not annotate (nationalities, events, works: a span the base model reads as such) are left unlabelled
rather than taught as no name. At the end the other labels' transitions are dropped from the saved model
(``prune.py``), which changes no prediction and makes it faster. Documents are fed whole, each epoch half of
them with punctuation glued back as in running text, so the model sees both tokenised and natural spacing.
Seeded; single-threaded; about 3 minutes an epoch on CoNLL alone on a busy core.
``--base sm`` starts from en_core_web_sm instead (no word vectors; about 1 point lower on dev). ``--init DIR``
continues from trained weights (``--lr`` lower, so that less is forgotten), and ``--mix S`` then keeps a share
S of the new weights and 1 - S of the ones it started from (``interpolate``). ``--conll-share S`` draws that
share of CoNLL train afresh each epoch (GUM weighs more, an epoch costs less), ``--patience N`` stops after N
epochs without a better dev score. The shipped weights are made in two steps: ``model/README.md``.

    .venv/bin/python -m transforms.entities.train [--base md] [--epochs 12] [--gum 2] [--init DIR --lr 0.0005
        --mix 0.7] [--conll-share 0.5] [--patience 2] [--version 2.0.0] [--out DIR]
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
from spacy.training import Example, offsets_to_biluo_tags  # noqa: E402
from spacy.util import fix_random_seed, minibatch  # noqa: E402

from transforms.entities.conll import ConllDoc, read_conll  # noqa: E402
from transforms.entities.prune import prune_labels  # noqa: E402
from transforms.entities.recognize import (  # noqa: E402
    FROM_MODEL_LABEL,
    MODEL_DIR,
    PLACE_KINDS,
    TO_MODEL_LABEL,
    load_base,
)
from transforms.entities.rules import TITLES  # noqa: E402
from transforms.entities.scoring import score_spans  # noqa: E402

BENCH = Path(__file__).resolve().parents[2] / ".." / "shared" / "bench" / "ner"
DATA = BENCH / "conllpp-2003"
GUM = BENCH / "gum"
SEED = 0

# Entities whose edges fall inside a spaCy token (a handful) are left out of training; spaCy warns for each.
warnings.filterwarnings("ignore", message=r"\[W030\]")


# OntoNotes kinds CoNLL calls miscellaneous names (GUM annotates none of them).
MISC_KINDS = frozenset({"NORP", "EVENT", "WORK_OF_ART", "PRODUCT", "LAW", "LANGUAGE"})


def _gum_person(doc: spacy.tokens.Doc, start: int, end: int) -> tuple[int, int] | None:
    """A GUM person span in the CoNLL/OntoNotes convention: GUM keeps titles tagged NNP inside a person's
    name ("Mr. Kelly", "Justice Scalia"), which CoNLL and OntoNotes leave out, so leading titles are
    dropped. None when nothing of a name is left ("Secretary") or a title heads a phrase ("Emperor of the
    United States"): such a span is left unlabelled."""
    span = doc.char_span(start, end, alignment_mode="expand")
    if span is None:
        return None
    words = [t for t in span if t.text.casefold() not in TITLES]
    if not words or any(t.lower_ == "of" for t in span) and len(words) < len(span):
        return None
    return words[0].idx, end


def _examples(
    nlp: spacy.Language, base: spacy.Language, docs: list[ConllDoc], *, no_misc: bool = False
) -> list[Example]:
    """Training examples. Each place is labelled with the OntoNotes kind the base model gives the same span
    (GPE when it gives none), each miscellaneous name NORP. With ``no_misc`` (GUM, which annotates
    PER/ORG/LOC only) a token the base model reads as part of a miscellaneous name (nationality, event,
    work, product, law) is left unlabelled rather than taught as O, since the corpus does not mark such
    names, and person spans follow the CoNLL convention (``_gum_person``)."""
    kinds = PLACE_KINDS & set(nlp.get_pipe("ner").labels)  # a pruned model (``--init``) may lack some
    out = []
    for d in docs:
        doc = nlp.make_doc(d.text)
        seen = base(d.text)
        base_kind = {(e.start_char, e.end_char): e.label_ for e in seen.ents}
        ents, unknown = [], []
        for s, e, lab in d.spans:
            label = TO_MODEL_LABEL[lab]
            if lab == "LOC" and base_kind.get((s, e)) in kinds:
                label = base_kind[(s, e)]
            if no_misc and lab == "PER":
                person = _gum_person(doc, s, e)
                if person is None:
                    unknown.append((s, e))
                    continue
                s, e = person
            ents.append((s, e, label))
        tags = offsets_to_biluo_tags(doc, ents)
        if no_misc:
            unknown += [(e.start_char, e.end_char) for e in seen.ents if e.label_ in MISC_KINDS]
        for s, e in unknown:
            for tok in doc.char_span(s, e, alignment_mode="expand") or []:
                if tags[tok.i] == "O":
                    tags[tok.i] = "-"
        out.append(Example.from_dict(doc, {"entities": tags}))
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


def _load(base: str, init: Path | None) -> spacy.Language:
    """The pipeline to fine-tune: the base package's NER, or a model already trained (``init``) over the
    base package's full vocabulary."""
    if init is None:
        return load_base(base, only_ner=True)
    vocab = load_base(base, only_ner=True).vocab
    return spacy.load(init, vocab=vocab, exclude=["vocab"])


def train(
    base: str,
    epochs: int,
    out: Path,
    dropout: float = 0.2,
    *,
    init: Path | None = None,
    gum_copies: int = 0,
    learn_rate: float | None = None,
    conll_share: float = 1.0,
    patience: int | None = None,
    version: str = "1.0.0",
) -> float:
    """Fine-tunes and writes the best epoch to ``out``. ``gum_copies`` adds GUM train that many times to each
    epoch (it is a third of CoNLL's size, from six genres); the best epoch is then chosen on the mean of
    CoNLL-2003 dev and GUM dev micro-F1, so it is not chosen for Reuters alone. ``conll_share`` draws that
    share of CoNLL train afresh each epoch (all of it is seen over the epochs), which weighs GUM more at half
    the cost of an epoch; ``patience`` stops after that many epochs without a better dev score."""
    fix_random_seed(SEED)
    rng = random.Random(SEED)
    nlp = _load(base, init)
    reader = load_base(base, only_ner=True)  # the base model as installed, for the kinds of places
    tok = read_conll(DATA / "conllpp_train.txt")
    natural = read_conll(DATA / "conllpp_train.txt", detokenize=True)
    devs = [read_conll(DATA / "conllpp_dev.txt", detokenize=True)]
    train_sets = list(zip(_examples(nlp, reader, tok), _examples(nlp, reader, natural), strict=True))
    corpora = "CoNLL-2003 train"
    if gum_copies:
        gum_tok = _examples(nlp, reader, read_conll(GUM / "gum_train.txt"), no_misc=True)
        gum_nat = _examples(nlp, reader, read_conll(GUM / "gum_train.txt", detokenize=True), no_misc=True)
        train_sets += list(zip(gum_tok, gum_nat, strict=True)) * gum_copies
        devs.append(read_conll(GUM / "gum_dev.txt", detokenize=True))
        corpora += " and GUM train"
    nlp.meta.update(
        name="newsflow_news_ner",
        version=version,
        description=f"en_core_web_{base} NER fine-tuned on {corpora} (transforms/entities/train.py)",
        performance={},
    )
    optimizer = nlp.resume_training()
    if learn_rate is not None:  # a lower rate when continuing from trained weights forgets less of them
        optimizer.learn_rate = learn_rate
    conll_count = len(tok)
    best, best_epoch = -1.0, 0
    for epoch in range(epochs):
        t0 = time.perf_counter()
        conll = train_sets[:conll_count]
        if conll_share < 1:
            conll = rng.sample(conll, round(conll_share * conll_count))
        examples = [rng.choice(pair) for pair in conll + train_sets[conll_count:]]
        rng.shuffle(examples)
        losses: dict[str, float] = {}
        for batch in minibatch(examples, size=8):
            nlp.update(batch, sgd=optimizer, drop=dropout, losses=losses)
        with nlp.use_params(optimizer.averages):
            scores = [_dev_f1(nlp, dev) for dev in devs]
            f1 = sum(scores) / len(scores)
            if f1 > best:  # written at once, so that a run can be cut short
                best, best_epoch = f1, epoch
                nlp.to_disk(out, exclude=["vocab"])  # the vocabulary comes from the base package
        print(
            f"epoch {epoch} loss {losses['ner']:.0f} dev-F1 {' '.join(f'{x:.4f}' for x in scores)}"
            f" {time.perf_counter() - t0:.0f}s",
            flush=True,
        )
        if patience is not None and epoch - best_epoch >= patience:
            break
    prune_labels(out, set(TO_MODEL_LABEL.values()) | PLACE_KINDS)
    return best


def interpolate(init: Path, tuned: Path, share: float) -> None:
    """Rewrites ``tuned`` with its weights mixed with those it was fine-tuned from, ``share`` of its own
    (WiSE-FT, Wortsman et al. 2022): a fine-tuned model keeps more of what it knew before, here the
    Reuters-trained weights' accuracy on CoNLL, while keeping most of what GUM taught it. Both models must
    have the same labels (``--init`` from a pruned model is pruned to the same ones)."""
    vocab = load_base("md", only_ner=True).vocab
    before = spacy.load(init, vocab=vocab, exclude=["vocab"]).get_pipe("ner")
    nlp = spacy.load(tuned, vocab=vocab, exclude=["vocab"])
    after = nlp.get_pipe("ner")
    if before.move_names != after.move_names:
        raise ValueError("the models' transitions differ: prune both to the same labels first")
    for old, new in zip(before.model.walk(), after.model.walk(), strict=True):
        for name in new.param_names:
            if new.has_param(name) and old.has_param(name):
                new.set_param(name, (1 - share) * old.get_param(name) + share * new.get_param(name))
    nlp.meta["description"] += f"; weights mixed {share:g}/{1 - share:g} with the ones it started from"
    nlp.to_disk(tuned, exclude=["vocab"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base", choices=("sm", "md"), default="md")
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--out", type=Path, default=MODEL_DIR)
    parser.add_argument("--init", type=Path, help="continue from this trained model instead of the base")
    parser.add_argument("--gum", type=int, default=0, help="copies of GUM train in each epoch")
    parser.add_argument("--lr", type=float, help="learning rate (the base's Adam default: 0.001)")
    parser.add_argument(
        "--mix", type=float, help="with --init: keep this share of the new weights, the rest from --init"
    )
    parser.add_argument("--conll-share", type=float, default=1.0, help="share of CoNLL train in each epoch")
    parser.add_argument("--patience", type=int, help="stop after this many epochs without a better dev score")
    parser.add_argument("--version", default="1.0.0", help="the model's version in its meta.json")
    args = parser.parse_args()
    best = train(
        args.base,
        args.epochs,
        args.out,
        init=args.init,
        gum_copies=args.gum,
        learn_rate=args.lr,
        conll_share=args.conll_share,
        patience=args.patience,
        version=args.version,
    )
    print(f"best dev micro-F1 (PER/ORG/LOC) {best:.4f}")
    if args.init is not None and args.mix is not None:
        interpolate(args.init, args.out, args.mix)
        print(f"weights mixed: {args.mix} fine-tuned, {1 - args.mix:.2f} from {args.init}")


if __name__ == "__main__":
    main()
