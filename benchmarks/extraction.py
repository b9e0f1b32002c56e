"""Article extraction benchmark: newsflow's HTML and text modes against trafilatura, jusText and readability.

    .venv/bin/python benchmarks/extraction.py [--tools a,b,...] [--out DIR]

Scores every tool on the Scrapinghub benchmark (``../shared/bench/extraction``) with its own ``score.py``
(F1/P/R over 4-word shingles, averaged per page) and times it on the same machine in the same run: pages/s
over the whole set (tools interleaved page by page), the median time per page, and the speed ratio against trafilatura at its defaults.
Text-mode baselines get each input line wrapped as an HTML paragraph, as in the benchmark README.
Prediction files are written under a temporary directory (or ``--out``) for ``score.py --per-page``.
"""

from __future__ import annotations

import argparse
import gzip
import html as html_lib
import importlib.util
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BENCH = ROOT / ".." / "shared" / "bench" / "extraction"


def load_score():
    spec = importlib.util.spec_from_file_location("bench_score", BENCH / "score.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def wrap_lines(text: str) -> str:
    """Plain text as HTML, one paragraph per line (how HTML tools are fed the text inputs)."""
    paras = "".join(f"<p>{html_lib.escape(line)}</p>" for line in text.splitlines() if line.strip())
    return f"<html><body>{paras}</body></html>"


def newsflow_html(page: bytes, url: str | None, _text: str) -> str:
    from transforms.boilerplate import extract_html
    from transforms.errors import PipelineError

    try:
        return extract_html(page, url).body
    except PipelineError:
        return ""


def newsflow_text(_page: bytes, url: str | None, text: str) -> str:
    from transforms.boilerplate import extract_text
    from transforms.errors import PipelineError

    try:
        return extract_text(text, url).body
    except PipelineError:
        return ""


def trafilatura_html(page: bytes, url: str | None, _text: str) -> str:
    import trafilatura

    return trafilatura.extract(page, url=url) or ""


def trafilatura_html_tuned(page: bytes, url: str | None, _text: str) -> str:
    import trafilatura

    return trafilatura.extract(page, url=url, fast=True, include_comments=False) or ""


def trafilatura_text(_page: bytes, _url: str | None, text: str) -> str:
    import trafilatura

    return trafilatura.extract(wrap_lines(text)) or ""


def _justext(document: bytes | str) -> str:
    import justext

    paragraphs = justext.justext(document, justext.get_stoplist("English"))
    return "\n\n".join(p.text for p in paragraphs if not p.is_boilerplate)


def justext_html(page: bytes, _url: str | None, _text: str) -> str:
    return _justext(page)


def justext_text(_page: bytes, _url: str | None, text: str) -> str:
    return _justext(wrap_lines(text).encode("utf-8"))


def readability_html(page: bytes, _url: str | None, _text: str) -> str:
    import lxml.html
    from readability import Document

    summary = Document(page.decode("utf-8", errors="replace")).summary(html_partial=True)
    return lxml.html.fromstring(summary).text_content() if summary.strip() else ""


TOOLS: dict[str, tuple[str, Callable[[bytes, str | None, str], str]]] = {
    "newsflow-html": ("newsflow, HTML mode", newsflow_html),
    "newsflow-text": ("newsflow, text mode", newsflow_text),
    "trafilatura-html": ("trafilatura 2.3.1 on the HTML (defaults)", trafilatura_html),
    "trafilatura-html-tuned": ("trafilatura 2.3.1 on the HTML (fast, no comments)", trafilatura_html_tuned),
    "trafilatura-text": ("trafilatura 2.3.1, text mode (lines as paragraphs)", trafilatura_text),
    "justext-html": ("jusText 3.0.2 on the HTML", justext_html),
    "justext-text": ("jusText 3.0.2, text mode (lines as paragraphs)", justext_text),
    "readability-html": ("readability-lxml 0.9 on the HTML", readability_html),
}
BASELINE = "trafilatura-html"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--tools", default=",".join(TOOLS), help="comma-separated subset of: " + ", ".join(TOOLS)
    )
    parser.add_argument("--out", type=Path, default=None, help="directory for prediction files")
    args = parser.parse_args(argv)
    score = load_score()
    root = BENCH / "scrapinghub"
    truth_doc = json.loads((root / "ground-truth.json").read_text(encoding="utf-8"))
    truth = score.load(root / "ground-truth.json")
    texts = score.load(root / "text-input" / "html-text.json")
    keys = sorted(truth)
    pages = {k: gzip.decompress((root / "html" / f"{k}.html.gz").read_bytes()) for k in keys}
    urls = {k: truth_doc[k].get("url") if isinstance(truth_doc[k], dict) else None for k in keys}
    out = args.out or Path(tempfile.mkdtemp(prefix="newsflow-extraction-"))
    out.mkdir(parents=True, exist_ok=True)
    chosen = [t.strip() for t in args.tools.split(",") if t.strip()]
    for name in chosen:  # warm-up: imports and lazy models outside the timed loop
        TOOLS[name][1](pages[keys[0]], urls[keys[0]], texts[keys[0]])
    preds: dict[str, dict[str, str]] = {name: {} for name in chosen}
    times: dict[str, list[float]] = {name: [] for name in chosen}
    for k in keys:  # tools interleaved page by page, so load from other processes hits all of them alike
        for name in chosen:
            start = time.perf_counter()
            preds[name][k] = TOOLS[name][1](pages[k], urls[k], texts[k])
            times[name].append(time.perf_counter() - start)
    rows = []
    for name in chosen:
        (out / f"{name}.json").write_text(
            json.dumps({k: {"articleBody": v} for k, v in preds[name].items()}, ensure_ascii=False),
            encoding="utf-8",
        )
        f1, p, r, _ = score.score(truth, preds[name])
        pps = len(keys) / sum(times[name])
        rows.append((name, TOOLS[name][0], f1, p, r, pps, statistics.median(times[name]) * 1000))
    base = {row[0]: row[5] for row in rows}.get(BASELINE)
    print(f"\npages={len(keys)}  predictions in {out}\n")
    print("| tool and mode | F1 | P | R | pages/s | median ms/page | speed vs trafilatura |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, label, f1, p, r, pps, med in rows:
        ratio = f"{pps / base:.2f}x" if base else "n/a"
        print(f"| {label} (`{name}`) | {f1:.3f} | {p:.3f} | {r:.3f} | {pps:.1f} | {med:.1f} | {ratio} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
