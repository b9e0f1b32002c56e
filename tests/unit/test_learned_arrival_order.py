"""Learned boilerplate in the local stream follows arrival order, not delivery order: however a micro-batch
reaches it (the reader bundles by fetch, so a partition fetched late comes after records that arrived
later; the pooled chain adds records as bundles bring them), the batch's cleaned bodies are those of the
batch stripped in arrival order (Kafka timestamp, then position), as ``newsflow process`` strips inputs
given in that order."""

from __future__ import annotations

import dataclasses
import json
import uuid
from concurrent.futures import Future

from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.chain import LocalChain
from pipelines.chain_workers import _Articles
from pipelines.options import Limits, Processing
from tests.beam_runs import run_local_chain
from tests.dedup_arrivals import bodies
from transforms.boilerplate.learned import LearnedBoilerplate, arrival_order
from transforms.kafka_io import KafkaRecord
from transforms.records import Article, SourcePosition

FOOTER = "Sign up for our morning briefing and get the day's top stories from the wire in your inbox."
T0_MS = 1_760_000_000_000


TOWNS = ["Ashford", "Brierley", "Calder", "Dunmore", "Elstow", "Fenwick", "Garston", "Holmfirth"]


def _body(i: int) -> str:
    town = TOWNS[i]  # a word of its own in every paragraph: numbers are the same to the sketch
    return (
        f"The council of {town} met on Monday and voted on the plan for its roads and the old market hall.\n\n"
        f"A resident of {town} spoke at length about the repairs and the cost of closing the bridge.\n\n"
        f"What happens next in {town}: another vote, once the county has answered the letter it was sent.\n\n"
        f"{FOOTER}"
    )


def _batch(source: str, n: int = 8) -> list[tuple[Article, int]]:
    """One source's articles with the footer, over two partitions, each with its record's timestamp: the
    odd partition's records arrived interleaved with the even one's."""
    out = []
    for i in range(n):
        pos = SourcePosition("raw", i % 2, i // 2)
        article = Article(id=f"{source}-{i}", body=_body(i), source=source, source_position=pos)
        out.append((article, T0_MS + 10 * i))
    return out


def _in_arrival_order(batch: list[tuple[Article, int]]) -> dict[str, str]:
    """What one sketch gives applied to the batch in arrival order: id -> body."""
    store = LearnedBoilerplate()
    ordered = sorted(batch, key=lambda x: arrival_order(x[1], x[0].source_position))
    return {a.id: store.apply(a).body for a, _ in ordered}


def _stripped_count(bodies: dict[str, str]) -> int:
    return sum(FOOTER not in b for b in bodies.values())


def _records(source: str, n: int = 8) -> list[KafkaRecord]:
    """Distinct real stories of one source, each ending with the footer, over two partitions: the odd
    partition's records arrived interleaved with the even one's."""
    return [
        KafkaRecord(
            "raw",
            i % 2,
            i // 2,
            None,
            json.dumps({"text": f"{bodies()[i]}\n\n{FOOTER}", "source": source}).encode(),
            T0_MS + 10 * i,
        )
        for i in range(n)
    ]


@settings(max_examples=6, deadline=None, database=None)
@given(order=st.permutations(range(8)), bundles=st.integers(1, 4))
def test_the_one_worker_stream_strips_a_batch_delivered_in_any_order_across_bundles_as_in_arrival_order(
    order, bundles, tmp_path_factory
):
    source = f"local-{uuid.uuid4().hex}"  # the process-wide sketches are shared by every test
    records = _records(source)
    processing = Processing(state_dir=str(tmp_path_factory.mktemp("state")), entities=False)
    one_at_a_time = LocalChain(Limits(), dataclasses.replace(processing, state_dir=None))
    expected = {}
    for record in sorted(records, key=lambda r: arrival_order(r.timestamp_ms, r.position())):
        kind, article = one_at_a_time.run(record)
        assert kind == "article"
        expected[article.source_position.offset, article.source_position.partition] = article.body
    assert _stripped_count(expected) >= len(records) - 4  # learned after three articles

    delivered = [records[i] for i in order]
    (out,) = run_local_chain([delivered], Limits(), processing, bundles=bundles)
    got = {(a.source_position.offset, a.source_position.partition): a.body for a in out["articles"]}
    assert got == expected


class _DonePool:
    """Stands in for the worker pool: a clean task answers at once with the record's article."""

    def __init__(self, articles: dict[tuple[str, int, int], Article]) -> None:
        self.articles = articles

    def submit(self, priority: int, task: tuple[str, object]) -> Future:
        kind, element = task
        done: Future = Future()
        assert kind == "clean", "no NER asked for in this test"
        done.set_result(("ok", self.articles[(element.topic, element.partition, element.offset)], {}))
        return done


@settings(max_examples=50, deadline=None)
@given(st.permutations(range(8)))
def test_pooled_batch_added_in_any_order_is_stripped_as_in_arrival_order(order):
    source = f"pooled-{uuid.uuid4().hex}"
    batch = _batch(source)
    by_position = {
        (a.source_position.topic, a.source_position.partition, a.source_position.offset): a for a, _ in batch
    }
    articles = _Articles(_DonePool(by_position), LearnedBoilerplate(), entities=False, priority=0)
    for i in order:
        article, ms = batch[i]
        pos = article.source_position
        articles.add(KafkaRecord(pos.topic, pos.partition, pos.offset, None, b"{}", ms))
    articles.learn()
    assert {item.article.id: item.article.body for item in articles.order} == _in_arrival_order(batch)
