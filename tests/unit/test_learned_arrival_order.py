"""Learned boilerplate in the local stream follows arrival order, not delivery order: however a micro-batch
reaches it (a one-worker run's reader bundles by fetch, so a partition fetched late comes after records that
arrived later; the pooled path adds records as bundles bring them), the batch's cleaned bodies are those of
the batch stripped in arrival order (Kafka timestamp, then position)."""

from __future__ import annotations

import uuid
from concurrent.futures import Future

import apache_beam as beam
from apache_beam.runners.portability.fn_api_runner import FnApiRunner
from apache_beam.testing.util import assert_that
from apache_beam.transforms.window import TimestampedValue
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.chain_workers import _Articles
from transforms.boilerplate.learned import LearnedBoilerplate, RemoveLearnedBoilerplate, arrival_order
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


@settings(max_examples=8, deadline=None)
@given(st.permutations(range(8)), st.integers(1, 4))
def test_one_worker_strips_a_batch_delivered_in_any_order_across_bundles_as_in_arrival_order(order, parts):
    source = f"local-{uuid.uuid4().hex}"  # the process-wide sketches are shared by every test
    batch = _batch(source)
    delivered = [batch[i] for i in order]
    expected = _in_arrival_order(batch)
    assert _stripped_count(expected) == len(batch) - 3  # the footer is learned after three articles

    def check(out: list[Article]) -> None:
        assert {a.id: a.body for a in out} == expected

    # Several Create steps flattened: the batch reaches the step in several bundles, in delivered order.
    with beam.Pipeline(runner=FnApiRunner()) as p:
        chunks = [delivered[k::parts] for k in range(parts)]
        pieces = [
            p
            | f"Bundle{k}"
            >> beam.Create([TimestampedValue(a, ms / 1000) for a, ms in chunk], reshuffle=False)
            for k, chunk in enumerate(chunks)
            if chunk
        ]
        out = pieces | beam.Flatten() | RemoveLearnedBoilerplate(mode="local")
        assert_that(out, check)


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
