"""A chain worker encodes the article it finishes as it is delivered if it survives dedup: the stream process
writes those bytes only when they are exactly what it would encode itself."""

from __future__ import annotations

import dataclasses
import json

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from pipelines.chain import article_value
from pipelines.chain_workers import ChainWork
from pipelines.options import Processing
from transforms import avro
from transforms.dedup import Deduplicator
from transforms.kafka_io import KafkaRecord
from transforms.records import Dedup, Encoded, to_dict
from transforms.settings import Limits

WORDS = [
    "Reuters",
    "said",
    "the",
    "minister",
    "\u2019s",
    "\u201cquote\u201d",
    "\u00a0",
    "caf\u00e9",
    "\ud800",
]
texts = st.lists(st.sampled_from(WORDS) | st.text(min_size=1, max_size=8), min_size=30, max_size=200).map(
    " ".join
)


@pytest.fixture(scope="module")
def worker(tmp_path_factory) -> ChainWork:
    state = tmp_path_factory.mktemp("state")
    return ChainWork((Limits(), Processing(state_dir=str(state), entities=False, learn_boilerplate=False)))


def cleaned(worker: ChainWork, text: str, offset: int = 7, url: str = "https://example.com/a"):
    value = json.dumps({"url": url, "text": text, "source": "wire"}).encode()
    outcome, article, _ = worker(("clean", KafkaRecord("raw", 0, offset, None, value, 1_000)))
    return article if outcome == "ok" else None


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts)
def test_a_survivors_value_made_on_the_worker_is_the_one_the_stream_process_would_encode(worker, text):
    article = cleaned(worker, text)
    assume(article is not None)  # a dead letter (no text left) is encoded in the stream process
    assert isinstance(article.encoded, Encoded)
    assert article.origin is None  # the stream process has the record; the input does not travel back
    survivor, verdict = Deduplicator().check(article, arrival_ms=1_000)
    assert verdict is None
    assert article_value(survivor) == article.encoded.value
    assert article_value(survivor) == avro.encode("article", to_dict(survivor))


def test_any_other_dedup_field_is_encoded_in_the_stream_process(worker):
    article = cleaned(worker, " ".join(["The minister said the talks would resume next week."] * 5))
    other = dataclasses.replace(article, dedup=Dedup(article.encoded.dedup.content_hash, "another-cluster"))
    assert article_value(other) != article.encoded.value
    assert article_value(other) == avro.encode("article", to_dict(other))
    assert avro.decode(article_value(other))[1]["dedup"]["cluster_id"] == "another-cluster"


def test_a_copy_dedup_drops_is_a_verdict_never_the_value_made_ahead(worker):
    text = " ".join(["Shares of Siemens rose 3 percent in Frankfurt after the forecast."] * 5)
    dedup = Deduplicator()
    first, _ = dedup.check(cleaned(worker, text, 1, "https://a.example/1"), arrival_ms=1_000)
    copy = cleaned(worker, text, 2, "https://b.example/2")
    annotated, verdict = dedup.check(copy, arrival_ms=2_000)
    assert verdict is not None and verdict.duplicate_of == first.id
    assert annotated.dedup.cluster_id == first.id != copy.encoded.dedup.cluster_id
    assert article_value(annotated) == avro.encode("article", to_dict(annotated))
