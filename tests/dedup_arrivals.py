"""Syndicated copies arriving in the order a crawler hands them over: the scenarios behind dedup's
property tests (tests/unit/test_dedup_arrival_properties.py) and its broker test.

A scenario is a few clusters of copies of real article bodies (Scrapinghub's benchmark), each copy exact
(whitespace, case and quote style only) or near (a new lede, a sentence dropped, boilerplate appended,
truncation: at most about 20% of the body changed), delivered in a random order on random partitions,
with ``published_at`` scattered over ±6 h or missing, cut into micro-batches at random points, with
restarts (and a crash in the middle of a batch) at random points. :func:`check` states what must hold.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache

from hypothesis import strategies as st

from tests.shared_data import SCRAPINGHUB
from transforms.records import Article, SourcePosition, stable_id

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
ARRIVAL0_MS = int(T0.timestamp() * 1000)
TOPIC = "articles.raw"
BOILERPLATE = (
    "Sign up for our morning newsletter to get the top stories in your inbox.",
    "Copyright 2026 Example Wire. All rights reserved.",
    "Follow us on social media for the latest updates from the newsroom.",
)
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"“])")


@cache
def bodies() -> list[str]:
    """Distinct real article bodies of 250 to 2,000 words."""
    truth = json.loads((SCRAPINGHUB / "ground-truth.json").read_text(encoding="utf-8"))
    found = [v["articleBody"] for v in truth.values() if 250 <= len(v["articleBody"].split()) <= 2000]
    return sorted(set(found))


def exact_copy(body: str, rng: random.Random) -> str:
    """Only what the content hash normalises away: whitespace, case, quote and dash style."""
    text = body.replace('"', "\u201c") if rng.random() < 0.5 else body
    text = text.replace(". ", ".  ") if rng.random() < 0.5 else text
    return text.upper() if rng.random() < 0.2 else text + "\n"


def near_copy(body: str, rng: random.Random) -> str:
    """One or two of the edits syndication makes; each changes well under a fifth of the words."""
    sentences = _SENTENCE.split(body)
    for edit in rng.sample(("lede", "drop", "boilerplate", "truncate"), rng.randint(1, 2)):
        if edit == "lede":
            sentences = ["In a report first published by a partner outlet, officials said."] + sentences[1:]
        elif edit == "drop" and len(sentences) > 4:
            sentences.pop(rng.randrange(1, len(sentences) - 1))
        elif edit == "boilerplate":
            sentences.append(rng.choice(BOILERPLATE))
        elif edit == "truncate":
            sentences = sentences[: max(3, int(len(sentences) * 0.92))]
    return " ".join(sentences)


@dataclass
class Copy:
    cluster: int
    exact: bool
    url: str
    body: str = field(repr=False)
    published_at: datetime | None
    partition: int = 0
    offset: int = 0
    arrival_ms: int = 0

    @property
    def id(self) -> str:
        return stable_id(self.url, self.body)

    def article(self) -> Article:
        return Article(
            id=self.id,
            body=self.body,
            url=self.url,
            canonical_url=self.url,
            published_at=self.published_at,
            source_position=SourcePosition(TOPIC, self.partition, self.offset),
        )

    def envelope(self) -> bytes:
        """The copy as a raw input message (what a crawler produces to ``articles.raw``)."""
        message = {"url": self.url, "source": f"site{self.cluster}.example", "text": self.body}
        if self.published_at:
            message["published_at"] = self.published_at.isoformat()
        return json.dumps(message).encode("utf-8")


@dataclass
class Scenario:
    clusters: list[bool]  # exact or near, per cluster
    arrivals: list[Copy]  # in delivery order
    batches: list[list[Copy]]  # the delivery order cut into micro-batches
    restarts: set[int] = field(default_factory=set)  # restart before these batches
    crash: tuple[int, int] | None = None  # (batch, decided before the kill) or none


def make_scenario(
    rng: random.Random, *, max_copies: int = 50, max_clusters: int = 3, partitions: int = 4
) -> Scenario:
    """One scenario, every choice drawn from ``rng`` (a seeded one for a fixed case)."""
    picked = rng.sample(bodies(), rng.randint(1, max_clusters))
    clusters = [rng.random() < 0.5 for _ in picked]
    copies: list[Copy] = []
    for c, (original, exact) in enumerate(zip(picked, clusters, strict=True)):
        for k in range(rng.randint(1, max_copies)):
            body = original if k == 0 else (exact_copy if exact else near_copy)(original, rng)
            dated = rng.random() >= 0.1
            published = T0 + timedelta(minutes=rng.uniform(-360, 360)) if dated else None
            copies.append(Copy(c, exact, f"https://site{k}.example/c{c}/story-{k}", body, published))
    arrivals = rng.sample(copies, len(copies))
    # The Kafka timestamp: the broker's clock (arrival order, with ties) or the crawler's CreateTime set
    # to the article's date (any order at all; undated copies get the crawl time).
    create_time = rng.random() < 0.5
    next_offset = [0] * partitions
    for i, copy in enumerate(arrivals):
        copy.partition = rng.randrange(partitions)
        copy.offset = next_offset[copy.partition]
        next_offset[copy.partition] += 1
        if create_time and copy.published_at:
            copy.arrival_ms = int(copy.published_at.timestamp() * 1000)
        else:
            copy.arrival_ms = ARRIVAL0_MS + (i // rng.choice((1, 3))) * 1000
    cuts = (
        sorted({rng.randrange(1, len(arrivals)) for _ in range(rng.randint(0, 4))})
        if len(arrivals) > 1
        else []
    )
    bounds = [0, *cuts, len(arrivals)]
    batches = [arrivals[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]
    for batch in batches:
        rng.shuffle(batch)  # a runner hands a batch's elements over in any order
    restarts = {b for b in range(1, len(batches)) if rng.random() < 0.4}
    crash = None
    if rng.random() < 0.5:
        at = rng.randrange(len(batches))
        crash = (at, rng.randrange(len(batches[at]) + 1))
    return Scenario(clusters, arrivals, batches, restarts, crash)


def scenarios(**limits: int) -> st.SearchStrategy[Scenario]:
    """Hypothesis scenarios: every choice comes from a Random that hypothesis draws (and shrinks)."""
    return st.randoms(use_true_random=False).map(lambda rng: make_scenario(rng, **limits))


def check(scenario: Scenario, survivors: set[str], verdicts: dict[str, str], *, max_chain: int = 1) -> None:
    """What must hold whatever the arrival order.

    ``survivors``: every id that reached ``articles.clean`` (in any run); ``verdicts``: id -> duplicate_of
    for every verdict written (in any run). Each cluster of exact copies has exactly one survivor; no
    cluster is left without one; every verdict reaches a survivor within ``max_chain`` steps; every copy
    has an outcome.
    """
    by_cluster: dict[int, set[str]] = {}
    for copy in scenario.arrivals:
        assert copy.id in survivors or copy.id in verdicts, f"copy {copy.url} has no outcome"
        if copy.id in survivors:
            by_cluster.setdefault(copy.cluster, set()).add(copy.id)
    for cluster, exact in enumerate(scenario.clusters):
        kept = by_cluster.get(cluster, set())
        assert kept, f"cluster {cluster} vanished"
        if exact:
            assert len(kept) == 1, f"exact cluster {cluster} kept {len(kept)} copies"
    for dropped, target in verdicts.items():
        steps = 1
        while target not in survivors:
            assert target in verdicts, f"{dropped} points at {target}, which was never delivered"
            target = verdicts[target]
            steps += 1
            assert steps <= max_chain, f"{dropped}: chain longer than {max_chain}"
