"""Dedup's body print computed ahead (on a chain worker) gives the fingerprint the stream process computes."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime

import pytest
import xxhash
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from pipelines.chain_workers import ChainWork
from pipelines.options import Processing
from transforms.dedup.index import EXACT, NEAR, URL, BodyPrint, body_print, fingerprint
from transforms.dedup.minhash import MinHasher, shingle_sample
from transforms.dedup.settings import DedupSettings
from transforms.dedup.shingles import hash_normalised, normalise, shingle_hashes
from transforms.kafka_io import KafkaRecord
from transforms.records import Article, SourcePosition, stable_id
from transforms.settings import Limits

WORDS = [
    "Reuters",
    "said",
    "the",
    "minister",
    "\u2019s",
    "\u201cquote\u201d",
    "\u2014",
    "\u00a0",
    "caf\u00e9",
    "2026",
]
bodies = st.one_of(
    st.text(max_size=300),
    st.lists(st.sampled_from(WORDS) | st.text(min_size=1, max_size=8), max_size=200).map(" ".join),
)
dedup_settings = st.builds(
    DedupSettings,
    shingle_size=st.integers(1, 5),
    sample_size=st.integers(1, 600),
    bands=st.integers(1, 20),
    rows=st.integers(1, 4),
    num_perm=st.sampled_from([8, 64, 128]),
)


def hasher(s: DedupSettings) -> MinHasher:
    return MinHasher(bands=s.bands, rows=s.rows, sketch_bits=s.num_perm)


def article(body: str, url: str | None, published: int | None, offset: int) -> Article:
    return Article(
        id=stable_id(url, body),
        body=body,
        canonical_url=url,
        published_at=datetime.fromtimestamp(published, UTC) if published is not None else None,
        source_position=SourcePosition("raw", 0, offset),
    )


articles = st.builds(
    article,
    bodies,
    st.none() | st.just("https://example.com/a"),
    st.none() | st.integers(0, 2**31),
    st.integers(0, 2**40),
)


def reference(a: Article, s: DedupSettings, arrival_ms: int):
    """The fingerprint's body-derived fields as the stream process computed them before prints travelled."""
    text = normalise(a.body)
    shingles = shingle_hashes(text, s.shingle_size)
    signature = hasher(s).signature(shingles)
    chash = hash_normalised(text)
    keys = [(b"u" + xxhash.xxh128_digest(a.canonical_url.encode())[:15], URL)] if a.canonical_url else []
    keys.append((b"h" + bytes.fromhex(chash)[:15], EXACT))
    keys += [(b"b" + key, NEAR) for key in signature.band_keys]
    return chash, signature.sketch, tuple(keys), shingle_sample(shingles, s.sample_size)


def body_fields(fp):
    return fp.content_hash, fp.sketch, fp.keys, fp.sample


@given(articles, dedup_settings, st.integers(0, 2**45))
def test_a_print_computed_ahead_gives_the_fingerprint_computed_in_place(a, s, arrival_ms):
    ahead = dataclasses.replace(a, body_print=body_print(a.body, s, hasher(s)))
    fp = fingerprint(ahead, s, hasher(s), arrival_ms)
    assert fp == fingerprint(a, s, hasher(s), arrival_ms)
    assert body_fields(fp) == reference(a, s, arrival_ms)


@given(articles, bodies, dedup_settings, dedup_settings)
def test_a_print_of_another_body_or_other_settings_is_not_used(a, other, s, t):
    assume(other != a.body or s != t)
    stale = body_print(other, t, hasher(t))
    fp = fingerprint(dataclasses.replace(a, body_print=stale), s, hasher(s))
    assert body_fields(fp) == reference(a, s, 0)


@pytest.fixture(scope="module")
def worker(tmp_path_factory) -> ChainWork:
    state = tmp_path_factory.mktemp("state")
    return ChainWork((Limits(), Processing(state_dir=str(state), entities=False, learn_boilerplate=False)))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(WORDS) | st.text(min_size=1, max_size=8), min_size=30, max_size=300))
def test_a_worker_sends_the_print_of_the_body_it_sends(worker, words):
    value = json.dumps({"url": "https://example.com/a", "text": " ".join(words)}).encode()
    outcome, cleaned, _ = worker(("clean", KafkaRecord("raw", 0, 7, None, value, 1_000)))
    assume(outcome == "ok")
    s = DedupSettings()
    assert isinstance(cleaned.body_print, BodyPrint)
    assert cleaned.body_print.fits(cleaned.body, s)
    fresh = dataclasses.replace(cleaned, body_print=None)
    assert fingerprint(cleaned, s, hasher(s), 1_000) == fingerprint(fresh, s, hasher(s), 1_000)
