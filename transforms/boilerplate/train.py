"""Refit ``text_model.json`` from the benchmark sets' full-page text dumps, with k-fold-by-page validation.

    .venv/bin/python -m transforms.boilerplate.train [--sets a,b] [--folds 5] [--seed 13] [--write]

Trained on Scrapinghub's shipped ``html-text`` input and the same dump of readability-testpages and
fundus-testpages (``html_text``, the bench extra; cached under ``.cache/``). Never on Dragnet (AGPL: measure
only). ``benchmarks/extraction.py`` refits without each scored set (:func:`fit_sets`) for its figures.

Line labels come from the ground truth: a line is body when most of its 4-word shingles (or, for short
lines, its whole token sequence next to body lines) occur in the page's expected article body. The script
prints the held-out F1 of each fold (pages never seen in training) and the in-sample F1, then writes the
model fitted on all pages when ``--write`` is given. Deterministic: fixed seed, Newton's method.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path

import numpy as np

from transforms.boilerplate import signals as sig
from transforms.boilerplate.model import MODEL_PATH, LineModel, fit_logreg, stage2_features
from transforms.boilerplate.text import STOPWORDS, decide_body, split_lines
from transforms.boilerplate.text import label_lines as label_parts

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / ".." / "shared" / "bench" / "extraction"
CACHE = ROOT / ".cache" / "extraction-bench"
TRAIN_SETS = ("scrapinghub",)  # the shipped weights (README: why not all three)
MEASURE_ONLY = frozenset({"dragnet"})  # AGPL v3: scored, never trained or tuned on
THRESHOLDS = np.round(np.arange(0.30, 0.71, 0.05), 2)


def load_score():
    spec = importlib.util.spec_from_file_location("bench_score", BENCH / "score.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def text_dumps(name: str, pages: dict[str, bytes], cache: Path = CACHE) -> dict[str, str]:
    """Each page's full-page text dump: Scrapinghub ships its own; the others are made with ``html_text``,
    the way Scrapinghub's were, and cached."""
    if name == "scrapinghub":
        return load_score().load(BENCH / name / "text-input" / "html-text.json")
    import html_text

    from transforms.boilerplate.charset import decode_html

    path = cache / f"text-{name}.json"
    texts = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    missing = [k for k in pages if k not in texts]
    for k in missing:
        texts[k] = html_text.extract_text(decode_html(pages[k]))
    if missing:
        cache.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
    return texts


def set_pages(name: str, score) -> tuple[dict[str, str], dict[str, str]]:
    """Truth and text dump of every page of a benchmark set."""
    import gzip

    truth = score.load(BENCH / name / "ground-truth.json")
    pages = {k: gzip.decompress((BENCH / name / "html" / f"{k}.html.gz").read_bytes()) for k in truth}
    return truth, text_dumps(name, pages)


def labelled(sets: list[str], score) -> tuple[dict, dict[str, str]]:
    """Lines, language and gold labels of every page of ``sets`` (keys prefixed with the set); a
    measure-only set is refused, so no fit can learn from it."""
    if refused := MEASURE_ONLY.intersection(sets):
        raise ValueError(f"measure-only sets cannot be trained on: {', '.join(sorted(refused))}")
    pages, truth = {}, {}
    for name in sets:
        set_truth, texts = set_pages(name, score)
        for k, body in set_truth.items():
            key = f"{name}/{k}"
            lines = split_lines(texts[k])
            pages[key] = (lines, page_language(texts[k]), gold_labels(lines, body, score))
            truth[key] = body
    return pages, truth


def fit_sets(sets: list[str], seed: int = 13) -> LineModel:
    """The line model fitted on ``sets`` only."""
    return leave_one_set_out(sets, seed, held_out=[None])[None]


def leave_one_set_out(
    sets: list[str], seed: int = 13, held_out: list[str | None] | None = None
) -> dict[str | None, LineModel]:
    """A model fitted without each set in ``held_out`` (default: each of ``sets``), keyed by the set left out
    (None: fitted on all); the lines' features are computed once for all of them."""
    score = load_score()
    pages, truth = labelled(sets, score)
    data = build(pages)
    models: dict[str | None, LineModel] = {}
    for held in held_out if held_out is not None else sets:
        keys = sorted(k for k in pages if held is None or not k.startswith(f"{held}/"))
        models[held] = tune_threshold(fit(data, keys, seed), pages, data, truth, keys, score)
    return models


def page_language(text: str) -> str | None:
    from transforms.boilerplate.metadata import detect_text_language

    return detect_text_language(split_lines(text))


def gold_labels(lines: list[str], truth: str, score) -> np.ndarray:
    """1 for lines whose text is in the expected body, else 0 (see module docstring)."""
    gold = set(score.shingles(truth))
    gold_seq = " " + " ".join(sig.WORD.findall(truth)) + " "
    y = np.zeros(len(lines))
    for i, line in enumerate(lines):
        toks = sig.WORD.findall(line)
        if len(toks) >= 4:
            sh = score.shingles(line)
            y[i] = sum(1 for s in sh if s in gold) / max(len(sh), 1) >= 0.5
        elif toks:
            y[i] = (" " + " ".join(toks) + " ") in gold_seq
    long_body = (y == 1) & np.array([len(sig.WORD.findall(line)) >= 4 for line in lines])
    for i in np.flatnonzero((y == 1) & ~long_body):
        if not long_body[max(0, i - 2) : i + 3].any():
            y[i] = 0
    return y


def build(pages: dict[str, tuple[list[str], str | None, np.ndarray]]):
    data = {}
    for k, (lines, lang, y) in pages.items():
        x = sig.line_features(lines, lang)
        units = np.array([sig.length_units(line) for line in lines])
        w = (np.minimum(units, 60) + 1.0) / (np.minimum(units, 60) + 1.0).sum()
        data[k] = (x, units, y, w)
    return data


def fit(data: dict, keys: list[str], seed: int, inner_folds: int = 4) -> LineModel:
    """Stage 1 on all training pages; stage 2 on out-of-fold stage-1 scores (no leakage)."""

    def cat(column: int, ks: list[str]) -> np.ndarray:
        return np.concatenate([data[k][column] for k in ks])

    stage1 = fit_logreg(cat(0, keys), cat(2, keys), cat(3, keys))
    rng = np.random.default_rng(seed)
    order = list(rng.permutation(keys))
    x2, y2, w2 = [], [], []
    for f in range(inner_folds):
        held = order[f::inner_folds]
        inner = fit_logreg(*(cat(i, [k for k in order if k not in held]) for i in (0, 2, 3)))
        for k in held:
            x, units, y, w = data[k]
            x2.append(np.hstack([x, stage2_features(inner.predict(x), units)]))
            y2.append(y)
            w2.append(w)
    stage2 = fit_logreg(np.concatenate(x2), np.concatenate(y2), np.concatenate(w2))
    return LineModel(stage1, stage2, 0.5)


def predict_pages(model: LineModel, pages, data, keys) -> dict[str, str]:
    return {
        k: "\n\n".join(
            label_parts(
                pages[k][0],
                decide_body(
                    pages[k][0],
                    data[k][1],
                    model.predict(data[k][0], data[k][1]),
                    model.threshold,
                    data[k][0][:, STOPWORDS],
                ),
            ).paragraphs
        )
        for k in keys
    }


def tune_threshold(model: LineModel, pages, data, truth, keys, score) -> LineModel:
    """The body-probability cut-off with the best F1 on the training pages."""
    probs = {k: model.predict(data[k][0], data[k][1]) for k in keys}
    best = None
    for t in THRESHOLDS:
        pred = {
            k: "\n\n".join(
                label_parts(
                    pages[k][0], decide_body(pages[k][0], data[k][1], probs[k], t, data[k][0][:, STOPWORDS])
                ).paragraphs
            )
            for k in keys
        }
        f1 = score.score({k: truth[k] for k in keys}, pred)[0]
        if best is None or f1 > best[0]:
            best = (f1, float(t))
    return LineModel(model.stage1, model.stage2, best[1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default=",".join(TRAIN_SETS), help="training sets (never dragnet)")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--write", action="store_true", help=f"write {MODEL_PATH.name}")
    args = parser.parse_args(argv)
    score = load_score()
    sets = [name.strip() for name in args.sets.split(",") if name.strip()]
    pages, truth = labelled(sets, score)
    keys = sorted(pages)
    data = build(pages)
    order = list(np.random.default_rng(args.seed).permutation(keys))
    held_preds: dict[str, str] = {}
    for f in range(args.folds):
        test = order[f :: args.folds]
        train = [k for k in order if k not in test]
        model = tune_threshold(fit(data, train, args.seed), pages, data, truth, train, score)
        held_preds.update(predict_pages(model, pages, data, test))
        f1, p, r, _ = score.score({k: truth[k] for k in test}, held_preds)
        print(
            f"fold {f}: threshold={model.threshold:.2f} held-out F1={f1:.3f} P={p:.3f} R={r:.3f}", flush=True
        )
    f1, p, r, _ = score.score(truth, held_preds)
    print(f"held-out ({args.folds}-fold by page) F1={f1:.3f} P={p:.3f} R={r:.3f}")
    model = tune_threshold(fit(data, keys, args.seed), pages, data, truth, keys, score)
    f1, p, r, _ = score.score(truth, predict_pages(model, pages, data, keys))
    print(f"in-sample (all pages) threshold={model.threshold:.2f} F1={f1:.3f} P={p:.3f} R={r:.3f}")
    if args.write:
        MODEL_PATH.write_text(json.dumps(model.to_json(), indent=1) + "\n", encoding="utf-8")
        print(f"wrote {MODEL_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
