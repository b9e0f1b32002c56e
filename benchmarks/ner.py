"""NER benchmark: our EntityExtractor against plain en_core_web_sm, on news sets and for speed.

Prints PER/ORG/LOC precision, recall and F1 (exact character-span match, micro-averaged over the set) on
CoNLL++ 2020, the corrected CoNLL-2003 test and GUM test (none of them trained or tuned on; GUM also with its
persons' titles left out, the convention of CoNLL-2003 and OntoNotes), articles per
second on a 500-word article (one thread, interleaved with en_core_web_sm and with our recognition alone,
by our decoder and by spaCy's), the resident memory after loading, where our errors are (type confusions,
boundaries, spurious and missed names), and the gazetteer's budgets: its load time from the user cache in a
fresh process, the memory it
adds, and how much of it each forked worker holds privately after using it. Each document is rebuilt from
its tokens and fed whole to ``EntityExtractor.extract``, the code the pipeline runs. ``--dev`` scores
CoNLL-2003 dev and GUM dev instead, the sets rules and weights are tuned on. Boundary errors are named by what
the spans differ in (a title, a determiner, a possessive, a bridge over "of"/"in"), and GUM test is also
scored per genre. ``--ablate`` scores the dev sets with the model alone, then with all of normalisation and
with each of its steps left out in turn (and with every mention keeping its own type instead of its
entity's), so that what each step is worth, and for which set, is measured rather than assumed.

    .venv/bin/python benchmarks/ner.py [--docs N] [--no-baseline] [--speed-only] [--dev] [--ablate]
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import importlib
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from transforms.budget import Deadline  # noqa: E402
from transforms.entities import EntityExtractor, lexicon  # noqa: E402
from transforms.entities.conll import ConllDoc, Span, read_conll  # noqa: E402
from transforms.entities.decode import GreedyDecoder  # noqa: E402
from transforms.entities.recognize import RawMention, load_base, load_model, recognize  # noqa: E402
from transforms.entities.rules import strip_titles  # noqa: E402
from transforms.entities.scoring import PRF, error_classes, score_spans  # noqa: E402

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared"
SETS = {
    "CoNLL++ 2020": SHARED / "bench" / "ner" / "conllpp-2020" / "conllpp.txt",
    "CoNLL-2003 test (corrected)": SHARED / "bench" / "ner" / "conllpp-2003" / "conllpp_test.txt",
    "GUM test": SHARED / "bench" / "ner" / "gum" / "gum_test.txt",
}
# The sets rules and weights are tuned on (``--dev``), never reported as held-out figures.
DEV_SETS = {
    "CoNLL-2003 dev": SHARED / "bench" / "ner" / "conllpp-2003" / "conllpp_dev.txt",
    "GUM dev": SHARED / "bench" / "ner" / "gum" / "gum_dev.txt",
}
FIXTURE = SHARED / "fixtures" / "000_9f6cfb509fb54cb0.expected.json"
OURS = {"PERSON": "PER", "ORG": "ORG", "LOC": "LOC"}
SM = {"PERSON": "PER", "ORG": "ORG", "GPE": "LOC", "LOC": "LOC"}


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def ours_spans(extractor: EntityExtractor, doc: ConllDoc) -> set[Span]:
    return {
        (m.start, m.end, OURS[e.type])
        for e in extractor.extract(doc.text, time_budget=120.0)
        if e.type in OURS
        for m in e.mentions
        if not m.nested  # a place inside an organisation's name: the sets annotate the outer name only
    }


def without_titles(doc: ConllDoc) -> set[Span]:
    """GUM's gold spans with a person's leading titles left out ("Mr. Kelly" is "Kelly"): GUM keeps a
    title tagged NNP inside the name, CoNLL-2003 and OntoNotes (and so our output) do not. A figure to show
    how much of the GUM score is that convention, not a score to tune on."""
    out = set()
    for s, e, lab in doc.spans:
        if lab == "PER":
            m = strip_titles(doc.text, RawMention(s, e, "PERSON"))
            s, e = m.start, m.end
        out.add((s, e, lab))
    return out


def _keep_one(body: str, m: RawMention, *rest) -> RawMention:
    return m


def _keep_all(body: str, mentions: list[RawMention], *rest) -> list[RawMention]:
    return mentions


# Normalisation steps ``--ablate`` leaves out, one at a time: each is replaced by "keep the mentions as they
# are". Named by the attribute of ``transforms.entities.normalize`` (``lexicon.apply`` of its module).
ABLATIONS = {
    "model's confidence (confident)": ("confident", _keep_all),
    "titles (strip_titles)": ("strip_titles", _keep_one),
    "designators (organisation_by_form)": ("organisation_by_form", _keep_one),
    "lists split (split_coordination)": ("split_coordination", lambda body, m: [m]),
    "word classes (lexicon.apply)": ("lexicon.apply", _keep_all),
    "places not people": ("_places_not_people", _keep_all),
    "listed with places": ("_listed_with_places", _keep_all),
    "place before an office": ("_place_before_office", _keep_one),
    "country joins organisation": ("join_country_to_organisation", _keep_all),
    "teams (sports.teams)": ("teams", _keep_all),
    "aliases": ("aliases", _keep_all),
    "one reading per name (propagate)": ("propagate", _keep_all),
    "retyping (_retype)": ("_retype", lambda *args: None),
    "places split from teams": ("_split_places_from_teams", lambda cluster: [cluster]),
}


@contextlib.contextmanager
def without(step: str):
    """Normalisation with ``step`` (a key of ``ABLATIONS``) left out, for the length of the block."""
    module = importlib.import_module("transforms.entities.normalize")
    name, keep = ABLATIONS[step]
    owner, attr = (lexicon, "apply") if name == "lexicon.apply" else (module, name)
    saved = getattr(owner, attr)
    setattr(owner, attr, keep)
    try:
        yield
    finally:
        setattr(owner, attr, saved)


def ablation(extractor: EntityExtractor, docs: list[ConllDoc]) -> None:
    """Micro-F1 of the model alone, of all of normalisation, and of normalisation without each step in turn
    (recognition run once per document), with the difference to all of it."""
    normalize = importlib.import_module("transforms.entities.normalize").normalize
    gold = [set(d.spans) for d in docs]
    raw = [recognize(extractor._nlp, d.text, Deadline(120.0), extractor._decoder) for d in docs]

    def spans(own_types: bool = False) -> list[set[Span]]:
        out = []
        for d, found in zip(docs, raw, strict=True):
            clusters = normalize(d.text, [dataclasses.replace(m) for m in found], extractor._gaz)
            out.append(
                {
                    (m.start, m.end, OURS[own if own_types else c.type])
                    for c in clusters
                    for m, own in zip(c.mentions, c.own, strict=False)
                    if not m.nested and (own if own_types else c.type) in OURS
                }
            )
        return out

    alone = score_spans(gold, [{(m.start, m.end, OURS[m.type]) for m in r if m.type in OURS} for r in raw])
    full = score_spans(gold, spans())["micro"].f1
    print(f"  {'model alone':<40} {alone['micro'].f1:.4f}")
    print(f"  {'all of normalisation':<40} {full:.4f}")
    for step in ABLATIONS:
        with without(step):
            f1 = score_spans(gold, spans())["micro"].f1
        print(f"  {'without ' + step:<40} {f1:.4f}  ({f1 - full:+.4f})")
    f1 = score_spans(gold, spans(own_types=True))["micro"].f1
    print(f"  {'each mention its own type, not its entity':<40} {f1:.4f}  ({f1 - full:+.4f})")


def sm_spans(nlp, doc: ConllDoc) -> set[Span]:
    return {(e.start_char, e.end_char, SM[e.label_]) for e in nlp(doc.text).ents if e.label_ in SM}


def row(name: str, prf: PRF) -> str:
    return f"{name:>6}  P {prf.precision:.3f}  R {prf.recall:.3f}  F1 {prf.f1:.3f}"


def five_hundred_words() -> str:
    paragraphs = json.loads(FIXTURE.read_text())["body_paragraphs"]
    words: list[str] = []
    out: list[str] = []
    while len(words) < 500:
        for p in paragraphs:
            take = p.split()[: 500 - len(words)]
            if take:
                out.append(" ".join(take))
                words.extend(take)
    return "\n\n".join(out)


def rates(
    fns: dict[str, object], text: str, repeats: int = 9, inner: int = 5
) -> dict[str, tuple[float, float]]:
    """Articles per second of each function, by the wall clock and per CPU-second of this process (what one
    core does, whatever else the machine runs); runs interleaved so that outside load falls on all alike;
    medians of ``repeats`` runs of ``inner`` calls each."""
    wall: dict[str, list[float]] = {name: [] for name in fns}
    cpu: dict[str, list[float]] = {name: [] for name in fns}
    for fn in fns.values():
        fn(text)
    for _ in range(repeats):
        for name, fn in fns.items():
            w0, c0 = time.perf_counter(), time.process_time()
            for _ in range(inner):
                fn(text)
            wall[name].append((time.perf_counter() - w0) / inner)
            cpu[name].append((time.process_time() - c0) / inner)
    return {name: (1.0 / statistics.median(wall[name]), 1.0 / statistics.median(cpu[name])) for name in fns}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=0, help="only the first N documents of each set")
    parser.add_argument("--no-baseline", action="store_true", help="skip en_core_web_sm")
    parser.add_argument("--speed-only", action="store_true", help="skip the accuracy sets")
    parser.add_argument(
        "--dev", action="store_true", help="the dev sets to tune on instead of the held-out ones"
    )
    parser.add_argument(
        "--ablate", action="store_true", help="on the dev sets, what each normalisation step is worth"
    )
    args = parser.parse_args()
    if args.ablate:
        extractor = EntityExtractor().load()
        for name, path in DEV_SETS.items():
            docs = read_conll(path)[: args.docs or None]
            print(f"\n{name} ({len(docs)} documents), micro-F1 (PER/ORG/LOC)")
            ablation(extractor, docs)
        return

    gazetteer_budgets()
    base_rss = rss_mb()
    extractor = EntityExtractor().load()
    print(
        f"RSS after loading EntityExtractor: {rss_mb():.0f} MB (interpreter before loading: {base_rss:.0f} MB)"
    )
    forked_workers(extractor)
    sm = None if args.no_baseline else load_base(only_ner=False)

    for name, path in {} if args.speed_only else (DEV_SETS if args.dev else SETS).items():
        docs = read_conll(path)
        if args.docs:
            docs = docs[: args.docs]
        gold = [{s for s in d.spans} for d in docs]
        predicted = [ours_spans(extractor, d) for d in docs]
        ours = score_spans(gold, predicted)
        base = score_spans(gold, [sm_spans(sm, d) for d in docs]) if sm else None
        print(f"\n{name} ({len(docs)} documents)   ours | en_core_web_sm")
        for label in ("PER", "ORG", "LOC", "micro"):
            print(row(label, ours[label]) + ("   |   " + row(label, base[label]) if base else ""))
        errors = error_classes(gold, predicted, texts=[d.text for d in docs])
        print("  our errors: " + ", ".join(f"{name} {n}" for name, n in errors.most_common()))
        if name.startswith("GUM"):
            print_genres(gold, predicted, split=name.split()[-1])
            again = score_spans([without_titles(d) for d in docs], predicted)
            print(f"{name}, gold persons without their titles (the CoNLL-2003 and OntoNotes convention):")
            for label in ("PER", "micro"):
                print(row(label, again[label]))

    text = five_hundred_words()
    fns = {"ours (EntityExtractor.extract)": lambda t: extractor.extract(t)}
    # Its first part alone: the tokenizer, the model and the decoder, then with spaCy's own greedy decoder.
    nlp = load_model()
    decoder = GreedyDecoder.of(nlp.get_pipe("ner"))
    fns["ours, recognition only"] = lambda t: recognize(nlp, t, Deadline(60.0), decoder)
    fns["ours, recognition, spaCy's decoder"] = lambda t: recognize(nlp, t, Deadline(60.0))
    if sm:
        sm_ner = load_base(only_ner=True)
        fns["en_core_web_sm, full pipeline"] = sm
        fns["en_core_web_sm, NER component only"] = sm_ner
    got = rates(fns, text)
    ours_wall, ours_cpu = got["ours (EntityExtractor.extract)"]
    print(f"\nSpeed on a {len(text.split())}-word article, one thread (median of 9 interleaved runs):")
    print(f"  {'':<38} {'wall clock':>14} {'per CPU-second':>16}")
    for name, (w, c) in got.items():
        ratio = (
            "" if name.startswith("ours") else f"  (ours x{ours_wall / w:.2f} wall, x{ours_cpu / c:.2f} CPU)"
        )
        print(f"  {name:<38} {w:8.1f} art/s {c:10.1f} art/s{ratio}")
    print(f"\nPeak RSS of this process: {_peak_mb():.0f} MB")


def print_genres(gold: list[set[Span]], predicted: list[set[Span]], split: str) -> None:
    """Micro-F1 per genre of a GUM split ("test": two documents each), whose documents are in name order in
    its file."""
    meta = json.loads((SHARED / "bench" / "ner" / "gum" / "documents.json").read_text())
    genres = [meta[name]["genre"] for name in sorted(n for n in meta if meta[n]["split"] == split)][
        : len(gold)
    ]
    parts = []
    for genre in sorted(set(genres)):
        picked = [i for i, g in enumerate(genres) if g == genre]
        f1 = score_spans([gold[i] for i in picked], [predicted[i] for i in picked])["micro"].f1
        parts.append(f"{genre} {f1:.3f}")
    print("  micro-F1 by genre: " + ", ".join(parts))


def gazetteer_budgets() -> None:
    """The gazetteer read from the user cache in a fresh process (built first if missing): CPU and wall time
    of the load, and the RSS it adds, both right after loading and after a thousand lookups."""
    from transforms.entities.gazetteer import gazetteer

    gazetteer()  # makes sure the cache exists
    probe = (
        "import time, numpy\n"
        "from benchmarks.ner import rss_mb\n"
        "from transforms.entities.gazetteer import gazetteer\n"
        "r0 = rss_mb(); w0, c0 = time.perf_counter(), time.process_time()\n"
        "g = gazetteer()\n"
        "w1, c1 = time.perf_counter(), time.process_time(); r1 = rss_mb()\n"
        "names = ['Paris', 'Springfield', 'Georgia', 'Lamar County', 'Kyiv', 'San Jose', 'Moscow', 'Zzz'] * 125\n"
        "n = sum(len(g.candidates(x)) for x in names)\n"
        "print(f'{w1 - w0:.3f} {c1 - c0:.3f} {r1 - r0:.1f} {rss_mb() - r0:.1f} {len(g)}')\n"
    )
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
    ).stdout.split()  # fmt: skip
    wall, cpu, added, used, places = out
    print(
        f"Gazetteer ({int(places):,} places) from the user cache in a fresh process: {float(wall):.2f} s wall,"
        f" {float(cpu):.2f} s CPU; RSS +{float(added):.0f} MB after loading, +{float(used):.0f} MB after"
        " 1,000 lookups (mapped read-only: the pages are the OS page cache's, shared by all processes)"
    )


def forked_workers(extractor: EntityExtractor, workers: int = 2) -> None:
    """Forks workers from this loaded process, as the backfill's fork server does; each extracts from an
    article, then reports its RSS and the part of it that is its own (private pages: what a worker adds)."""
    text = five_hundred_words()
    pipes = []
    for _ in range(workers):
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the worker
            os.close(read)
            extractor.extract(text)
            private = 0
            with open("/proc/self/smaps_rollup") as f:
                for line in f:
                    if line.startswith(("Private_Clean:", "Private_Dirty:")):
                        private += int(line.split()[1])
            os.write(write, f"{rss_mb():.0f} {private / 1024:.0f}".encode())
            os._exit(0)
        os.close(write)
        pipes.append((pid, read))
    for pid, read in pipes:
        rss, private = os.read(read, 100).decode().split()
        os.waitpid(pid, 0)
        os.close(read)
        print(f"Forked worker {pid}: RSS {rss} MB, of it private to the worker {private} MB")


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


if __name__ == "__main__":
    main()
