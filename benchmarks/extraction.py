"""Article extraction benchmark: newsflow's HTML and text modes against trafilatura, readability and jusText.

    nice .venv/bin/python benchmarks/extraction.py [--sets a,b] [--tools a,b] [--reuse] [--time-sample N]

Scores every set in ``../shared/bench/extraction`` (scrapinghub, readability-testpages, fundus-testpages and
dragnet's published test split) with the sets' own ``score.py`` (F1/P/R over 4-word shingles, averaged per
page). Text-mode tools get each set's full-page text dump: Scrapinghub's shipped ``html-text`` input, and for
the other sets the same ``html_text.extract_text`` of the page (cached under ``--cache``).

Leave-one-set-out: text mode is scored with a line model that never saw the set: the shipped model
(fitted on Scrapinghub) on the other sets, and on Scrapinghub a model fitted on readability-testpages and
fundus-testpages (:func:`transforms.boilerplate.train.leave_one_set_out`). Dragnet is never trained on
(AGPL, measure only). HTML mode has no fitted parameters: its few thresholds are set by hand, not fitted.

Speed: all tools run interleaved page by page in one process, so load from other processes hits them alike;
pages/s and the ratio against trafilatura at its defaults come from the same run. ``--reuse`` takes the
predictions of third-party tools from an earlier run's cache (their output does not change with our code);
``--time-sample N`` then times every tool, interleaved, on N pages of each set in this run, and the speed
columns come from that sample. German pages of fundus-testpages are reported in their own column.
``--fit-seed N`` refits every text model with seed N (stage 2's inner folds), to read the fit's noise on
every set.
``--learned`` adds the learned-boilerplate measurement (k and the share, keyed by source or by site).
jusText runs twice: with English's stop list (its default) and with the list of the language detected in
the page's dump (``-lang``), the way text mode picks its stop words.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import html as html_lib
import importlib.util
import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BENCH = ROOT / ".." / "shared" / "bench" / "extraction"
SETS = ("scrapinghub", "readability-testpages", "fundus-testpages", "dragnet")
TUNED_SETS = ("scrapinghub", "readability-testpages", "fundus-testpages")  # dragnet: measure only


def load_score():
    spec = importlib.util.spec_from_file_location("bench_score", BENCH / "score.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class BenchSet:
    name: str
    keys: list[str]
    pages: dict[str, bytes]
    urls: dict[str, str | None]
    truth: dict[str, str]
    texts: dict[str, str]
    german: set[str]


def html_text_dump(page: bytes) -> str:
    """The full-page text dump text mode is fed, made the way Scrapinghub's text input was."""
    import html_text

    from transforms.boilerplate.charset import decode_html

    return html_text.extract_text(decode_html(page))


def load_set(name: str, score, cache: Path) -> BenchSet:
    root = BENCH / name
    raw = json.loads((root / "ground-truth.json").read_text(encoding="utf-8"))
    truth = score.load(root / "ground-truth.json")
    meta = (
        json.loads((root / "meta.json").read_text(encoding="utf-8")) if (root / "meta.json").exists() else {}
    )
    keys = sorted(truth)
    if name == "dragnet":
        keys = [k for k in keys if meta.get(k, {}).get("split") == "test"]
    pages = {k: gzip.decompress((root / "html" / f"{k}.html.gz").read_bytes()) for k in keys}
    urls = {k: (raw[k].get("url") or None) if isinstance(raw[k], dict) else None for k in keys}
    if name == "scrapinghub":
        texts = score.load(root / "text-input" / "html-text.json")
    else:
        path = cache / f"text-{name}.json"
        texts = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        missing = [k for k in keys if k not in texts]
        for k in missing:
            texts[k] = html_text_dump(pages[k])
        if missing:
            path.write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
    german = (
        {k for k in keys if meta.get(k, {}).get("country") == "de"} if name == "fundus-testpages" else set()
    )
    return BenchSet(name, keys, pages, urls, {k: truth[k] for k in keys}, texts, german)


def wrap_lines(text: str) -> str:
    """Plain text as HTML, one paragraph per line (how HTML tools are fed the text dumps)."""
    paras = "".join(f"<p>{html_lib.escape(line)}</p>" for line in text.splitlines() if line.strip())
    return f"<html><body>{paras}</body></html>"


def newsflow_html(page: bytes, url: str | None, _text: str, _ctx: dict) -> str:
    from transforms.boilerplate import extract_html
    from transforms.errors import PipelineError

    try:
        return extract_html(page, url).body
    except PipelineError:
        return ""


def newsflow_text(_page: bytes, url: str | None, text: str, ctx: dict) -> str:
    from transforms.boilerplate import extract_text
    from transforms.errors import PipelineError

    try:
        return extract_text(text, url, model=ctx.get("model")).body
    except PipelineError:
        return ""


def _trafilatura(page: bytes, url: str | None, **options) -> str:
    import trafilatura

    return trafilatura.extract(page, url=url, **options) or ""


def trafilatura_default(page: bytes, url: str | None, _text: str, _ctx: dict) -> str:
    return _trafilatura(page, url)


def trafilatura_fast(page: bytes, url: str | None, _text: str, _ctx: dict) -> str:
    return _trafilatura(page, url, fast=True)


def trafilatura_precision(page: bytes, url: str | None, _text: str, _ctx: dict) -> str:
    return _trafilatura(page, url, favor_precision=True)


def trafilatura_recall(page: bytes, url: str | None, _text: str, _ctx: dict) -> str:
    return _trafilatura(page, url, favor_recall=True)


def trafilatura_text(_page: bytes, _url: str | None, text: str, _ctx: dict) -> str:
    return _trafilatura(wrap_lines(text).encode("utf-8"), None)


def _justext(document: bytes | str, text: str | None = None) -> str:
    """jusText with English's stop list, or, given the page's text dump, with the list of the language
    detected in it (as text mode detects it; English when jusText has no list)."""
    import justext

    stoplist = justext.get_stoplist("English")
    if text is not None:
        from transforms.boilerplate.metadata import detect_text_language
        from transforms.boilerplate.signals import justext_stop_words
        from transforms.boilerplate.text import split_lines

        stoplist = justext_stop_words(detect_text_language(split_lines(text)) or "en") or stoplist
    paragraphs = justext.justext(document, stoplist)
    return "\n\n".join(p.text for p in paragraphs if not p.is_boilerplate)


def justext_html(page: bytes, _url: str | None, _text: str, _ctx: dict) -> str:
    return _justext(page)


def justext_lang(page: bytes, _url: str | None, text: str, _ctx: dict) -> str:
    return _justext(page, text)


def justext_text(_page: bytes, _url: str | None, text: str, _ctx: dict) -> str:
    return _justext(wrap_lines(text).encode("utf-8"))


def justext_text_lang(_page: bytes, _url: str | None, text: str, _ctx: dict) -> str:
    return _justext(wrap_lines(text).encode("utf-8"), text)


def readability_html(page: bytes, _url: str | None, _text: str, _ctx: dict) -> str:
    import lxml.html
    from readability import Document

    from transforms.boilerplate.charset import decode_html

    try:
        summary = Document(decode_html(page)).summary(html_partial=True)
    except Exception:  # noqa: BLE001 - readability refuses some pages (control characters): no output
        return ""
    return lxml.html.fromstring(summary).text_content() if summary.strip() else ""


def text_as_is(_page: bytes, _url: str | None, text: str, _ctx: dict) -> str:
    return text


Tool = Callable[[bytes, str | None, str, dict], str]
TOOLS: dict[str, tuple[str, str, Tool]] = {  # name: (label, input, function)
    "newsflow-html": ("newsflow, HTML mode", "html", newsflow_html),
    "trafilatura": ("trafilatura 2.3.1, defaults", "html", trafilatura_default),
    "trafilatura-fast": ("trafilatura 2.3.1, fast=True", "html", trafilatura_fast),
    "trafilatura-precision": ("trafilatura 2.3.1, favor_precision", "html", trafilatura_precision),
    "trafilatura-recall": ("trafilatura 2.3.1, favor_recall", "html", trafilatura_recall),
    "readability": ("readability-lxml 0.9", "html", readability_html),
    "justext": ("jusText 3.0.2 (English stop list)", "html", justext_html),
    "justext-lang": ("jusText 3.0.2 (the page's language's stop list)", "html", justext_lang),
    "newsflow-text": ("newsflow, text mode (LOSO model)", "text", newsflow_text),
    "text-as-is": ("text dump as is", "text", text_as_is),
    "trafilatura-text": ("trafilatura 2.3.1 on the dump (lines as paragraphs)", "text", trafilatura_text),
    "justext-text": ("jusText 3.0.2 on the dump (lines as paragraphs; English)", "text", justext_text),
    "justext-text-lang": (
        "jusText 3.0.2 on the dump (lines as paragraphs; the page's language)",
        "text",
        justext_text_lang,
    ),
}
OURS = {"newsflow-html", "newsflow-text"}
BASELINE = "trafilatura"


SHIPPED_FIT_SEED = 13  # the seed text_model.json was fitted with (``train --seed``'s default)


def loso_models(sets: list[str], cache: Path, fit_seed: int = SHIPPED_FIT_SEED) -> dict[str, object]:
    """Text mode's line model for each scored set, one that never saw it: the shipped model (fitted on
    Scrapinghub only) for the other sets, and for Scrapinghub one fitted on the other training sets.

    ``fit_seed`` draws stage 2's inner folds: with any seed but the shipped one, the Scrapinghub-only model
    is refitted with it too, so the fit's noise can be read across seeds on every set. Fits are cached under
    a hash of the code that makes them and the seed, so a rerun of unchanged code reuses them."""
    from transforms.boilerplate import model, signals, text, train

    code = b"".join(Path(m.__file__).read_bytes() for m in (model, signals, text, train))
    tag = "" if fit_seed == SHIPPED_FIT_SEED else f"-seed{fit_seed}"
    path = cache / f"loso-models-{hashlib.sha256(code).hexdigest()[:16]}{tag}.json"
    if path.exists():
        fitted = {k: model.LineModel.from_json(v) for k, v in json.loads(path.read_text("utf-8")).items()}
    else:
        print("fitting text models without each shipped training set ...", file=sys.stderr, flush=True)
        fitted = dict(train.leave_one_set_out(list(TUNED_SETS), fit_seed, held_out=list(train.TRAIN_SETS)))
        if fit_seed != SHIPPED_FIT_SEED:
            fitted["shipped"] = train.fit_sets(list(train.TRAIN_SETS), fit_seed)
        path.write_text(json.dumps({k: m.to_json() for k, m in fitted.items()}), encoding="utf-8")
    shipped = fitted.get("shipped") or model.load_model()
    return {name: fitted[name] if name in train.TRAIN_SETS else shipped for name in sets}


def run_tools(
    bench: BenchSet, tools: list[str], keys: list[str], ctx: dict
) -> tuple[dict[str, dict[str, str]], dict[str, list[float]]]:
    """Every tool on every page, interleaved page by page; predictions and seconds per page."""
    preds: dict[str, dict[str, str]] = {t: {} for t in tools}
    times: dict[str, list[float]] = {t: [] for t in tools}
    for i, k in enumerate(keys):
        for t in tools:
            start = time.perf_counter()
            preds[t][k] = TOOLS[t][2](bench.pages[k], bench.urls[k], bench.texts[k], ctx)
            times[t].append(time.perf_counter() - start)
        if (i + 1) % 100 == 0:
            print(f"  {bench.name}: {i + 1}/{len(keys)} pages", file=sys.stderr, flush=True)
    return preds, times


LEARNED_GRID = [(1, 0.5), (2, 0.3), (3, 0.3), (3, 0.5), (5, 0.3)]


def learned_table(score, benches: dict[str, BenchSet], results: dict) -> None:
    """Learned boilerplate on HTML mode's bodies, every page of a set under ONE source label (the way the
    issue's damage was seen): F1 and body characters lost (removed paragraphs that are in the gold body),
    keyed by source alone (as before) and by source + registered domain, for several k and shares."""
    from transforms.boilerplate.learned import LearnedBoilerplate, LearnedConfig
    from transforms.records import Article

    print("\n| learned boilerplate (one label per set) | key | k | max share | F1 change | body chars lost |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, bench in benches.items():
        preds = results[name].get("newsflow-html")
        if preds is None:
            continue
        base = score.score(bench.truth, preds)[0]
        for by_domain in (False, True):
            for k, share in LEARNED_GRID:
                store = LearnedBoilerplate(LearnedConfig(min_others=k, max_share=share))
                out, lost = {}, 0
                for key in bench.keys:
                    url = bench.urls[key] if by_domain else None
                    article = Article(id=key, body=preds[key], source=name, url=url)
                    cleaned = store.apply(article)
                    out[key] = cleaned.body
                    gold = set(score.shingles(bench.truth[key]))
                    for removed in cleaned.boilerplate:
                        text = next((p for p in preds[key].split("\n\n") if p.startswith(removed.text)), "")
                        grams = score.shingles(text)
                        if grams and sum(g in gold for g in grams) >= len(grams) / 2:
                            lost += removed.chars
                f1 = score.score(bench.truth, out)[0]
                key_name = "source + domain" if by_domain else "source only"
                print(f"| {name} | {key_name} | {k} | {share} | {f1 - base:+.4f} | {lost:,} |")


CLEAN_MIN_WORDS = 50


def clean_input_table(benches: dict[str, BenchSet], models: dict[str, object]) -> None:
    """Text mode on text that is already clean: each set's expected bodies (50+ words) as the input, as
    written and upper-cased, through the set's held-out model. The share of the input's characters kept
    in the body is a recall floor: nothing in the input is furniture. Dragnet's answers also hold the
    reader comments of blog posts, which text mode cuts on purpose."""
    from transforms.boilerplate import extract_text
    from transforms.boilerplate.text import split_lines
    from transforms.errors import PipelineError

    print(
        "\n| clean input (expected bodies) | case | pages | median kept | 5th percentile | pages under 0.8 |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    for name, bench in benches.items():
        for case, change in (("as written", str), ("upper-cased", str.upper)):
            shares = []
            for key in bench.keys:
                if len(bench.truth[key].split()) < CLEAN_MIN_WORDS:
                    continue
                text = change(bench.truth[key])
                try:
                    kept = set(extract_text(text, model=models.get(name)).paragraphs)
                except PipelineError:
                    kept = set()
                lines = split_lines(text)
                shares.append(sum(len(ln) for ln in lines if ln in kept) / sum(map(len, lines)))
            shares.sort()
            p5 = shares[int(0.05 * (len(shares) - 1))]
            low = sum(s < 0.8 for s in shares)
            print(f"| {name} | {case} | {len(shares)} | {statistics.median(shares):.3f} | {p5:.3f} | {low} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sets", default=",".join(SETS), help="comma-separated subset of: " + ", ".join(SETS)
    )
    parser.add_argument(
        "--tools", default=",".join(TOOLS), help="comma-separated subset of: " + ", ".join(TOOLS)
    )
    parser.add_argument("--cache", type=Path, default=ROOT / ".cache" / "extraction-bench")
    parser.add_argument(
        "--reuse", action="store_true", help="third-party predictions from an earlier run's cache"
    )
    parser.add_argument("--time-sample", type=int, default=0, help="time all tools on N pages per set")
    parser.add_argument("--seed", type=int, default=7, help="the timed sample's seed")
    parser.add_argument(
        "--fit-seed",
        type=int,
        default=SHIPPED_FIT_SEED,
        help="text mode's fit seed (stage 2's inner folds); any but the shipped one refits every model",
    )
    parser.add_argument(
        "--learned", action="store_true", help="also measure learned boilerplate's k and share"
    )
    parser.add_argument(
        "--clean-input",
        action="store_true",
        help="also run text mode on each set's expected bodies (clean text) and report the share kept",
    )
    args = parser.parse_args(argv)
    score = load_score()
    args.cache.mkdir(parents=True, exist_ok=True)
    sets = [s.strip() for s in args.sets.split(",") if s.strip()]
    tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    models = loso_models(sets, args.cache, args.fit_seed) if "newsflow-text" in tools else {}
    results: dict[str, dict[str, dict[str, str]]] = {}
    speed: dict[str, list[float]] = {t: [] for t in tools}
    german: dict[str, set[str]] = {}
    truths: dict[str, dict[str, str]] = {}
    benches: dict[str, BenchSet] = {}
    for name in sets:
        bench = benches[name] = load_set(name, score, args.cache)
        truths[name], german[name] = bench.truth, bench.german
        ctx = {"model": models.get(name)}
        first = bench.keys[0]
        for t in tools:  # warm-up: imports and lazy models outside the timed loop
            TOOLS[t][2](bench.pages[first], bench.urls[first], bench.texts[first], ctx)
        cached, fresh = {}, []
        for t in tools:
            path = args.cache / f"pred-{name}-{t}.json"
            if args.reuse and t not in OURS and path.exists():
                cached[t] = json.loads(path.read_text(encoding="utf-8"))
            else:
                fresh.append(t)
        preds, times = run_tools(bench, fresh, bench.keys, ctx)
        for t in fresh:
            (args.cache / f"pred-{name}-{t}.json").write_text(
                json.dumps(preds[t], ensure_ascii=False), "utf-8"
            )
        results[name] = {**cached, **preds}
        if args.time_sample:
            sample = random.Random(args.seed).sample(bench.keys, min(args.time_sample, len(bench.keys)))
            _, times = run_tools(bench, tools, sample, ctx)
        for t in tools:
            speed[t].extend(times.get(t, []))
    print_tables(score, sets, tools, results, truths, german, speed, args)
    if args.learned:
        learned_table(score, benches, results)
    if args.clean_input:
        clean_input_table(benches, models)
    return 0


def scored(score, truth: dict[str, str], preds: dict[str, str]) -> tuple[float, float, float]:
    """F1, P, R; all zero when a tool returned nothing on every page (score.py cannot average that)."""
    if not any(preds.get(k) for k in truth):
        return 0.0, 0.0, 0.0
    return score.score(truth, preds)[:3]


def print_tables(score, sets, tools, results, truths, german, speed, args) -> None:
    timed = "timed on a sample" if args.time_sample else "timed on every page"
    print(f"\nsets: {', '.join(f'{s} ({len(truths[s])})' for s in sets)}; {timed}; cache {args.cache}\n")
    head = " | ".join(sets)
    extra = " | fundus German" if "fundus-testpages" in sets else ""
    print(f"| tool | input | {head} | mean{extra} | pages/s | vs trafilatura |")
    print("| --- | --- |" + " --- |" * (len(sets) + 3 + bool(extra)))
    base = len(speed[BASELINE]) / sum(speed[BASELINE]) if speed.get(BASELINE) else None
    for t in tools:
        cells, f1s = [], []
        for s in sets:
            f1, p, r = scored(score, truths[s], results[s][t])
            f1s.append(f1)
            cells.append(f"{f1:.3f} (P {p:.3f} R {r:.3f})")
        if extra:
            de = {k: v for k, v in truths["fundus-testpages"].items() if k in german["fundus-testpages"]}
            cells.append(f"{statistics.mean(f1s):.3f}")
            f1, p, r = scored(score, de, results["fundus-testpages"][t])
            cells.append(f"{f1:.3f} (P {p:.3f} R {r:.3f})")
        else:
            cells.append(f"{statistics.mean(f1s):.3f}")
        pps = len(speed[t]) / sum(speed[t]) if speed[t] else 0.0
        ratio = f"{pps / base:.2f}x" if base else "n/a"
        print(f"| {TOOLS[t][0]} (`{t}`) | {TOOLS[t][1]} | " + " | ".join(cells) + f" | {pps:.1f} | {ratio} |")


if __name__ == "__main__":
    sys.exit(main())
