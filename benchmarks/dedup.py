"""Dedup quality and speed on realistic near-duplicates built from real news bodies.

Originals: the article bodies of the Scrapinghub extraction benchmark and the Reuters documents of
CoNLL++ (2003 and 2020), read in place from ``../shared/bench``. Each original gets edited copies the way
syndication and re-crawls change a story; distinct Reuters stories from the same day that share the most
named entities are the hard negatives. Everything goes through one stream (originals first, copies later,
on other partitions), through newsflow's :class:`Deduplicator` and, side by side, through datasketch's
``MinHashLSH`` with the same shingles, threshold and verification.

Prints pair precision and recall by edit type, throughput of the dedup stage (one process, one core) and
index bytes per retained article. Run: ``nice .venv/bin/python benchmarks/dedup.py [--threshold T]``.

``--scenario arrival`` (also part of the default ``all``): syndicated clusters of 2-50 copies of each
original (exact, or near with at most 20% of the body changed), all delivered in one random order on
8 partitions, ``published_at`` jittered by up to ±6 h and missing for 10%, decided in micro-batches of
``--batch`` records the way the local stream does (:meth:`Deduplicator.check_many`). Prints survivors
per cluster, pair precision and articles per CPU-second.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import statistics
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import combinations
from pathlib import Path

from pipelines import logs
from transforms.dedup import Deduplicator, DedupSettings, SqliteStore
from transforms.dedup.shingles import normalise, words
from transforms.dedup.verify import sample_key
from transforms.records import Article, SourcePosition, stable_id

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared" / "bench"
T0 = datetime(2024, 3, 1, tzinfo=UTC)
SYNDICATED = (
    "headline_lede",
    "sentence_inserted",
    "sentence_removed",
    "boilerplate",
    "whitespace_quotes",
    "truncated",
    "syndicated",
)
BEYOND = ("truncated_half",)
KEPT = ("update_rewrite",)
BOILERPLATE = [
    "Sign up for our daily newsletter to get the top stories delivered to your inbox.",
    "Copyright 2024 The Associated Press. All rights reserved. This material may not be published, "
    "broadcast, rewritten or redistributed.",
    "Reporting by staff writers; Editing by the news desk.",
    "Related: More stories from our world news section.",
    "Follow us on Twitter and Facebook for the latest updates.",
    "Click here to read the full story on our partner's website.",
    "Our Standards: The Thomson Reuters Trust Principles.",
]
_SENT = re.compile(r"(?<=[.!?\"'])\s+(?=[A-Z\"“‘(])")


@dataclass
class Doc:
    paragraphs: list[list[str]]  # sentences per paragraph
    day: str
    entities: frozenset[str]

    @property
    def sentences(self) -> list[str]:
        return [s for p in self.paragraphs for s in p]

    @property
    def text(self) -> str:
        return "\n\n".join(" ".join(p) for p in self.paragraphs)


def _detok(tokens: list[str]) -> str:
    text = " ".join(tokens)
    text = re.sub(r" ([,.;:!?%)\]])", r"\1", text)
    text = re.sub(r"([(\[$]) ", r"\1", text)
    return re.sub(r" (n't|'s|'re|'ve|'ll|'d|'m)\b", r"\1", text)


def _conll(path: Path, *, offsets: bool) -> list[Doc]:
    docs: list[Doc] = []
    for chunk in path.read_text(encoding="utf-8").split("-DOCSTART-")[1:]:
        sentences: list[str] = []
        entities: set[str] = set()
        tokens: list[str] = []
        current: list[str] = []
        for line in chunk.splitlines()[1:] + [""]:
            parts = line.split()
            if not parts:
                if tokens:
                    sentences.append(_detok(tokens))
                tokens = []
                continue
            tokens.append(parts[0])
            tag = parts[-1]
            if tag != "O" and not tag.startswith("B-") and current:
                current.append(parts[0])
            else:
                if current:
                    entities.add(" ".join(current))
                current = [parts[0]] if tag != "O" else []
        if current:
            entities.add(" ".join(current))
        day = next((m.group(0) for s in sentences[:3] for m in [re.search(r"\d{4}-\d\d-\d\d", s)] if m), "")
        body = sentences[2:] if not offsets else sentences[1:]
        if sum(len(s.split()) for s in body) >= 120:
            paragraphs = [body[i : i + 2] for i in range(0, len(body), 2)]
            docs.append(Doc(paragraphs, day, frozenset(entities)))
    return docs


def load_corpus() -> list[Doc]:
    """Real news bodies: Scrapinghub articleBody, CoNLL++ 2020 and CoNLL-2003 Reuters documents."""
    docs: list[Doc] = []
    truth = json.loads(
        (SHARED / "extraction" / "scrapinghub" / "ground-truth.json").read_text(encoding="utf-8")
    )
    for item in truth.values():
        paragraphs = [_SENT.split(p.strip()) for p in item["articleBody"].split("\n") if p.strip()]
        if sum(len(s.split()) for p in paragraphs for s in p) >= 120:
            docs.append(Doc(paragraphs, "", frozenset()))
    ner = SHARED / "ner"
    docs += _conll(ner / "conllpp-2020" / "conllpp.txt", offsets=True)
    for name in ("conllpp_train.txt", "conllpp_dev.txt", "conllpp_test.txt"):
        docs += _conll(ner / "conllpp-2003" / name, offsets=False)
    return docs


def _flat(doc_paragraphs: list[list[str]]) -> str:
    return "\n\n".join(" ".join(p) for p in doc_paragraphs if p)


def _nwords(sentences: list[str]) -> int:
    return sum(len(s.split()) for s in sentences)


def edit(kind: str, doc: Doc, donors: list[Doc], rng: random.Random) -> tuple[str, float]:
    """An edited copy of ``doc`` and the share of its words that changed (added plus removed / original).

    Added text comes from other stories: one sentence from one donor, or, for a rewrite, one sentence from
    each of many donors (so that the rewrite is not itself a copy of some other story).
    """
    other = rng.choice([d for d in donors[:3] if d is not doc])
    paras = [list(p) for p in doc.paragraphs]
    total = _nwords(doc.sentences)
    donor = other.sentences
    if kind == "headline_lede":
        old = paras[0][0]
        paras[0][0] = rng.choice(donor[:3])
        paras.insert(0, [rng.choice(donor).upper().rstrip(".")])
        return _flat(paras), (_nwords([old]) + _nwords([paras[0][0], paras[1][0]])) / total
    if kind == "sentence_inserted":
        extra = rng.choice(donor)
        rng.choice(paras).insert(0, extra)
        return _flat(paras), _nwords([extra]) / total
    if kind == "sentence_removed":
        para = rng.choice([p for p in paras if p])
        gone = para.pop(rng.randrange(len(para)))
        return _flat(paras), _nwords([gone]) / total
    if kind == "boilerplate":
        lines = rng.sample(BOILERPLATE, 2)
        paras += [[line] for line in lines]
        return _flat(paras), _nwords(lines) / total
    if kind == "whitespace_quotes":
        text = doc.text.replace('"', "\u201c", 1).replace('"', "\u201d").replace("'", "\u2019")
        text = re.sub(r" ", lambda _: rng.choice([" ", " ", " ", "  ", "\n"]), text)
        return text.replace(" - ", " \u2014 "), 0.0
    if kind in ("truncated", "truncated_half", "syndicated"):
        keep = {"truncated": 0.85, "truncated_half": 0.5, "syndicated": 0.9}[kind]
        sentences, kept = doc.sentences, []
        for s in sentences:
            if _nwords(kept) >= keep * total:
                break
            kept.append(s)
        if kind != "syndicated":
            return " ".join(kept), 1 - _nwords(kept) / total
        lede = rng.choice(donor[:3])
        body = [lede] + kept[1:] + [rng.choice(BOILERPLATE)]
        text = " ".join(body).replace('"', "\u201c").replace("'", "\u2019")
        changed = _nwords([lede, body[-1], kept[0]]) + total - _nwords(kept)
        return text, changed / total
    if kind == "update_rewrite":
        sentences = doc.sentences
        cut = max(1, len(sentences) * 2 // 5)
        extra = [rng.choice(d.sentences) for d in rng.sample(donors, min(len(donors), len(sentences) - cut))]
        return " ".join(sentences[:cut] + extra), (total - _nwords(sentences[:cut]) + _nwords(extra)) / total
    raise ValueError(kind)


def grams(text: str, k: int) -> set[str]:
    w = words(normalise(text))
    return {" ".join(w[i : i + k]) for i in range(max(1, len(w) - k + 1))}


def jaccard(a: str, b: str, k: int) -> float:
    x, y = grams(a, k), grams(b, k)
    return len(x & y) / max(1, len(x | y))


def story_clusters(docs: list[Doc], k: int, threshold: float) -> list[int]:
    """Ground truth among the originals: the corpora hold some real near-duplicates (Reuters re-sends and
    updates), so originals whose exact Jaccard is ``>= threshold`` are one story (union-find)."""
    sets = [grams(d.text, k) for d in docs]
    postings: dict[str, list[int]] = defaultdict(list)
    for i, s in enumerate(sets):
        for g in s:
            postings[g].append(i)
    shared: dict[tuple[int, int], int] = defaultdict(int)
    for members in postings.values():
        if 1 < len(members) <= 50:
            for pair in combinations(members, 2):
                shared[pair] += 1
    parent = list(range(len(docs)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for (i, j), n in shared.items():
        if n >= 5 and len(sets[i] & sets[j]) / len(sets[i] | sets[j]) >= threshold:
            parent[root(j)] = root(i)
    return [root(i) for i in range(len(docs))]


def build_stream(
    docs: list[Doc], shingle_size: int, threshold: float, seed: int = 7
) -> tuple[list[Article], dict[str, int], dict[str, tuple[str, float]]]:
    """Originals (one a minute, partition 0), then edited copies a day later on partitions 1..5.

    Returns the articles in arrival order, the story (cluster of originals) of every article id, and the
    edit kind and change share of every copy.
    """
    rng = random.Random(seed)
    story = story_clusters(docs, shingle_size, threshold)
    articles: list[Article] = []
    cluster: dict[str, int] = {}
    info: dict[str, tuple[str, float]] = {}
    for i, doc in enumerate(docs):
        url = f"https://wire.example/story/{i}"
        article = Article(
            id=stable_id(url, ""),
            body=doc.text,
            url=url,
            canonical_url=url,
            fetched_at=T0 + timedelta(minutes=i),
            published_at=T0 + timedelta(minutes=i),
            source_position=SourcePosition("articles.raw", 0, i),
        )
        articles.append(article)
        cluster[article.id] = story[i]
    copies = []
    for i, doc in enumerate(docs):
        for kind in SYNDICATED + BEYOND + KEPT:
            donors = [d for d in rng.sample(docs, 80) if d is not doc]
            text, change = edit(kind, doc, donors, rng)
            url = f"https://outlet{rng.randrange(50)}.example/{kind}/{i}?utm_source=x"
            copies.append((i, kind, text, change, url))
    rng.shuffle(copies)
    for n, (i, kind, text, change, url) in enumerate(copies):
        canonical = url.split("?")[0]
        article = Article(
            id=stable_id(canonical, ""),
            body=text,
            url=url,
            canonical_url=canonical,
            fetched_at=T0 + timedelta(days=1, seconds=n),
            published_at=T0 + timedelta(minutes=i),
            source_position=SourcePosition("articles.raw", 1 + n % 5, n),
        )
        articles.append(article)
        cluster[article.id] = story[i]
        info[article.id] = (kind, change)
    return articles, cluster, info


def hard_negatives(docs: list[Doc], limit: int = 1500) -> list[tuple[int, int, int]]:
    """Distinct same-day Reuters stories sharing the most named entities: ``(shared, i, j)``."""
    by_day: dict[str, list[int]] = defaultdict(list)
    for i, doc in enumerate(docs):
        if doc.day:
            by_day[doc.day].append(i)
    pairs = [
        (len(docs[i].entities & docs[j].entities), i, j)
        for members in by_day.values()
        for i, j in combinations(members, 2)
    ]
    return sorted(pairs, reverse=True)[:limit]


def score(
    name: str,
    verdicts: dict[str, str],
    articles: list[Article],
    cluster: dict[str, int],
    info: dict[str, tuple[str, float]],
) -> dict[str, float]:
    """Pair precision (a drop is right when it points into its own cluster and is not a rewrite meant to
    be kept) and recall by edit type."""
    tp = fp = 0
    wrong: list[tuple[str, str]] = []
    for dropped, survivor in verdicts.items():
        kind = info.get(dropped, ("original", 0.0))[0]
        if cluster[dropped] == cluster[survivor] and kind not in KEPT:
            tp += 1
        else:
            fp += 1
            wrong.append((dropped, survivor))
    by_kind: dict[str, list[int]] = defaultdict(list)
    synd: list[int] = []
    for article in articles:
        if article.id not in info:
            continue
        kind, change = info[article.id]
        hit = int(article.id in verdicts and cluster[verdicts[article.id]] == cluster[article.id])
        by_kind[kind].append(hit)
        if kind in SYNDICATED and change <= 0.2:
            synd.append(hit)
    print(f"\n[{name}] precision {tp / max(1, tp + fp):.4f}  (drops {tp + fp}, wrong {fp})")
    print(
        f"[{name}] recall on syndicated copies (body change <= 20%): {sum(synd) / len(synd):.4f} (n={len(synd)})"
    )
    for kind in SYNDICATED + BEYOND + KEPT:
        hits = by_kind[kind]
        label = "kept (should be)" if kind in KEPT else "recall"
        rate = 1 - sum(hits) / len(hits) if kind in KEPT else sum(hits) / len(hits)
        print(f"[{name}]   {kind:<18} {label:<16} {rate:.4f}  n={len(hits)}")
    return {"precision": tp / max(1, tp + fp), "recall": sum(synd) / len(synd), "wrong": wrong}


def run_newsflow(
    articles: list[Article], settings: DedupSettings, state_dir: str | None
) -> tuple[dict[str, str], float, float, Deduplicator]:
    """Verdicts, wall seconds and CPU seconds of this process (the per-core figure on a shared machine);
    with ``state_dir`` the index is the durable SQLite store (a fresh one per run)."""
    store = None
    if state_dir:
        shutil.rmtree(state_dir, ignore_errors=True)
        store = SqliteStore(state_dir)
    dedup = Deduplicator(settings, store)
    verdicts: dict[str, str] = {}
    start, cpu = time.perf_counter(), time.process_time()
    for article in articles:
        _, verdict = dedup.check(article)
        if verdict:
            verdicts[verdict.id] = verdict.duplicate_of
    return verdicts, time.perf_counter() - start, time.process_time() - cpu, dedup


def run_datasketch(articles: list[Article], settings: DedupSettings) -> tuple[dict[str, str], float, float]:
    """The reference: datasketch MinHash (128 permutations) + MinHashLSH, same shingles and threshold."""
    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(threshold=settings.threshold, num_perm=128)
    kept: dict[str, MinHash] = {}
    verdicts: dict[str, str] = {}
    start, cpu = time.perf_counter(), time.process_time()
    for order, article in enumerate(articles):
        w = words(normalise(article.body))
        k = settings.shingle_size
        grams = {" ".join(w[i : i + k]).encode() for i in range(max(1, len(w) - k + 1))}
        m = MinHash(num_perm=128)
        m.update_batch(list(grams))
        matches = [c for c in lsh.query(m) if kept[c].jaccard(m) >= settings.threshold]
        if matches:
            verdicts[article.id] = min(matches, key=lambda c: kept[c].order)  # type: ignore[attr-defined]
            continue
        m.order = order  # type: ignore[attr-defined]
        kept[article.id] = m
        lsh.insert(article.id, m)
    return verdicts, time.perf_counter() - start, time.process_time() - cpu


@dataclass
class Arrivals:
    """The arrival-order scenario: copies in delivery order, with their Kafka time, cluster and kind."""

    articles: list[tuple[Article, int]]  # (article, Kafka timestamp ms), in delivery order
    cluster_of: dict[str, int]  # article id -> cluster (one per original)
    story_of: dict[int, int]  # cluster -> story (originals that are themselves near-duplicates share one)
    exact: dict[int, bool]  # cluster -> exact copies only


def build_arrivals(docs: list[Doc], shingle_size: int, threshold: float, seed: int = 16) -> Arrivals:
    """Every original gets 2-50 copies, all exact or all near (a syndication edit changing <= 20% of the
    body); all copies of all clusters are delivered in one random order, one every 100 ms, on 8 partitions,
    ``published_at`` within ±6 h of the story's time (10% without one)."""
    rng = random.Random(seed)
    story = story_clusters(docs, shingle_size, threshold)
    copies: list[tuple[int, str]] = []
    exact: dict[int, bool] = {}
    for c, doc in enumerate(docs):
        exact[c] = rng.random() < 0.5
        for k in range(rng.randint(2, 50)):
            if k == 0:
                copies.append((c, doc.text))
                continue
            if exact[c]:
                copies.append((c, edit("whitespace_quotes", doc, docs, rng)[0]))
                continue
            for _ in range(20):
                text, change = edit(rng.choice(SYNDICATED), doc, rng.sample(docs, 80), rng)
                if change <= 0.2:
                    break
            copies.append((c, text))
    rng.shuffle(copies)
    offsets = [0] * 8
    articles, cluster_of = [], {}
    for n, (c, text) in enumerate(copies):
        url = f"https://outlet{n}.example/story/{c}"
        partition = rng.randrange(8)
        dated = rng.random() >= 0.1
        article = Article(
            id=stable_id(url, ""),
            body=text,
            url=url,
            canonical_url=url,
            published_at=T0 + timedelta(minutes=c, hours=rng.uniform(-6, 6)) if dated else None,
            source_position=SourcePosition("articles.raw", partition, offsets[partition]),
        )
        offsets[partition] += 1
        articles.append((article, int((T0 + timedelta(days=1)).timestamp() * 1000) + n * 100))
        cluster_of[article.id] = c
    return Arrivals(articles, cluster_of, {c: story[c] for c in range(len(docs))}, exact)


def run_arrivals(
    arrivals: Arrivals, settings: DedupSettings, batch: int
) -> tuple[dict[str, str], set[str], float, float]:
    """Micro-batches of ``batch`` records, each handed over shuffled and decided in arrival order: the
    verdicts, the survivors, wall and CPU seconds."""
    rng = random.Random(1)
    dedup = Deduplicator(settings)
    verdicts: dict[str, str] = {}
    survivors: set[str] = set()
    start, cpu = time.perf_counter(), time.process_time()
    for i in range(0, len(arrivals.articles), batch):
        micro = arrivals.articles[i : i + batch]
        rng.shuffle(micro)
        for article, verdict in dedup.check_many(micro):
            if verdict:
                verdicts[verdict.id] = verdict.duplicate_of
            else:
                survivors.add(article.id)
    return verdicts, survivors, time.perf_counter() - start, time.process_time() - cpu


def arrival_scenario(docs: list[Doc], settings: DedupSettings, batch: int, repeats: int) -> None:
    arrivals = build_arrivals(docs, settings.shingle_size, settings.threshold)
    total = len(arrivals.articles)
    runs = [run_arrivals(arrivals, settings, batch) for _ in range(repeats)]
    verdicts, survivors = runs[0][0], runs[0][1]
    assert all(r[0] == verdicts for r in runs), "the same arrivals gave other verdicts"
    kept: dict[int, int] = defaultdict(int)
    for article_id in survivors:
        kept[arrivals.cluster_of[article_id]] += 1
    # Originals that are real near-duplicates of each other (Reuters re-sends) are one story: a story
    # keeps one survivor, whichever of its clusters that is.
    by_story: dict[int, list[int]] = defaultdict(list)
    for c, s in arrivals.story_of.items():
        by_story[s].append(c)
    exact_kept = [sum(kept[c] for c in cs) for cs in by_story.values() if all(arrivals.exact[c] for c in cs)]
    near_kept = [
        sum(kept[c] for c in cs) for cs in by_story.values() if not all(arrivals.exact[c] for c in cs)
    ]
    right = sum(
        1
        for d, s in verdicts.items()
        if arrivals.story_of[arrivals.cluster_of[d]] == arrivals.story_of[arrivals.cluster_of[s]]
    )
    undelivered = sum(1 for s in verdicts.values() if s not in survivors)
    body = {a.id: a.body for a, _ in arrivals.articles}
    for cs in by_story.values():
        if not any(kept[c] for c in cs):  # every copy dropped into another story: wrong near matches
            into = {verdicts[a] for a, c in arrivals.cluster_of.items() if c in cs}
            ours = next(a for a, c in arrivals.cluster_of.items() if c in cs)
            j = max(jaccard(body[ours], body[t], settings.shingle_size) for t in into)
            print(
                f"[arrival order]   story of cluster(s) {cs} kept none: dropped into another story, true J {j:.3f}"
            )
    cpu = statistics.median(r[3] for r in runs)
    print(
        f"\n[arrival order] {len(docs)} clusters of 2-50 copies, {total} articles in one random delivery "
        f"order, published_at ±6 h (10% missing), micro-batches of {batch}"
    )
    print(
        f"[arrival order] survivors per story: exact {statistics.mean(exact_kept):.3f} "
        f"(min {min(exact_kept)}, max {max(exact_kept)}, n={len(exact_kept)}); near (<= 20% changed) "
        f"{statistics.mean(near_kept):.3f} (min {min(near_kept)}, max {max(near_kept)}, n={len(near_kept)})"
    )
    print(
        f"[arrival order] pair precision {right / max(1, len(verdicts)):.4f} (drops {len(verdicts)}, "
        f"wrong {len(verdicts) - right}); verdicts pointing at an undelivered article: {undelivered}"
    )
    print(
        f"[arrival order] throughput: {total / cpu:.0f} articles per CPU-second, "
        f"{total / statistics.median(r[2] for r in runs):.0f} per wall second (median of {repeats} runs: "
        f"{[round(r[3], 2) for r in runs]} s CPU)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threshold", type=float, default=DedupSettings().threshold)
    parser.add_argument("--bands", type=int, default=DedupSettings().bands)
    parser.add_argument("--rows", type=int, default=DedupSettings().rows)
    parser.add_argument("--num-perm", type=int, default=DedupSettings().num_perm)
    parser.add_argument("--shingle-size", type=int, default=DedupSettings().shingle_size)
    parser.add_argument("--repeats", type=int, default=3, help="Timed runs of the newsflow side (median).")
    parser.add_argument("--no-reference", action="store_true", help="Skip datasketch.")
    parser.add_argument("--store", choices=("memory", "sqlite"), default="memory", help="Index backend.")
    parser.add_argument("--scenario", choices=("all", "syndication", "arrival"), default="all")
    parser.add_argument("--batch", type=int, default=500, help="Arrival scenario: records per micro-batch.")
    args = parser.parse_args()
    settings = DedupSettings(
        threshold=args.threshold,
        bands=args.bands,
        rows=args.rows,
        num_perm=args.num_perm,
        shingle_size=args.shingle_size,
    )
    logs.configure("INFO")
    docs = load_corpus()
    if args.scenario in ("all", "arrival"):
        arrival_scenario(docs, settings, args.batch, args.repeats)
    if args.scenario == "arrival":
        return
    articles, cluster, info = build_stream(docs, settings.shingle_size, settings.threshold)
    print(f"corpus: {len(docs)} originals, {len(articles) - len(docs)} copies; settings {settings}")

    k = settings.shingle_size
    by_kind: dict[str, list[float]] = defaultdict(list)
    for article in articles[len(docs) :: 7]:
        original = articles[int(article.url.rsplit("/", 1)[1].split("?")[0])]
        by_kind[info[article.id][0]].append(jaccard(article.body, original.body, k))
    print(
        "true Jaccard to the original (median by edit type, sampled):",
        {kind: round(statistics.median(v), 3) for kind, v in sorted(by_kind.items())},
    )
    negatives = hard_negatives(docs)
    neg_j = [jaccard(docs[i].text, docs[j].text, k) for _, i, j in negatives]
    print(
        f"hard negatives: {len(negatives)} same-day Reuters pairs, median shared entities "
        f"{statistics.median(s for s, _, _ in negatives)}, true Jaccard median {statistics.median(neg_j):.3f} "
        f"max {max(neg_j):.3f}"
    )

    work = tempfile.TemporaryDirectory()
    state_dir = str(Path(work.name) / "state") if args.store == "sqlite" else None
    times, cpu_times = [], []
    for _ in range(args.repeats):
        verdicts, elapsed, cpu, dedup = run_newsflow(articles, settings, state_dir)
        times.append(elapsed)
        cpu_times.append(cpu)
    result = score("newsflow", verdicts, articles, cluster, info)
    pair_ids = [(articles[i].id, articles[j].id) for _, i, j in negatives]
    neg_dropped = sum(1 for a, b in pair_ids if verdicts.get(a) == b or verdicts.get(b) == a)
    print(f"[newsflow] hard-negative pairs judged duplicates: {neg_dropped} of {len(negatives)}")
    for dropped, survivor in result["wrong"][:10]:
        kind = info.get(dropped, ("original", 0))[0]
        j = jaccard(
            next(a.body for a in articles if a.id == dropped),
            next(a.body for a in articles if a.id == survivor),
            k,
        )
        print(
            f"[newsflow]   wrong drop: {kind} -> cluster {cluster[survivor]} (own {cluster[dropped]}), true J {j:.3f}"
        )
    keys, state_bytes = dedup.store.size()
    retained = len(articles) - len(verdicts)
    sample_bytes = sum(
        len(sample_key(fp.id_bytes)) + len(fp.sample)
        for fp in (dedup.fingerprint(a) for a in articles if a.id not in verdicts)
    )
    rate = len(articles) / statistics.median(times)
    cpu_rate = len(articles) / statistics.median(cpu_times)
    print(
        f"[newsflow] throughput ({args.store} store): {rate:.0f} articles/s wall, {cpu_rate:.0f} articles per CPU-second "
        f"(median of {len(times)} runs of {len(articles)} articles, one process: "
        f"{[round(t, 2) for t in times]} s wall, {[round(t, 2) for t in cpu_times]} s CPU)"
    )
    print(
        f"[newsflow] index: {keys} keys, {state_bytes} bytes for {retained} retained articles = "
        f"{state_bytes / retained:.0f} bytes per retained article ({(state_bytes - sample_bytes) / retained:.0f} "
        f"of entries, {sample_bytes / retained:.0f} of shingle samples)"
    )
    if not args.no_reference:
        ref_verdicts, ref_time, ref_cpu = run_datasketch(articles, settings)
        score("datasketch MinHashLSH", ref_verdicts, articles, cluster, info)
        print(
            f"[datasketch MinHashLSH] throughput: {len(articles) / ref_time:.0f} articles/s wall, "
            f"{len(articles) / ref_cpu:.0f} per CPU-second (newsflow is "
            f"{ref_cpu / statistics.median(cpu_times):.2f}x its speed per CPU-second)"
        )


if __name__ == "__main__":
    main()
