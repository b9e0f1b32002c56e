"""Dedup core (no Beam): exact and near verdicts, delivery order, horizon, caps and the state budget."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from functools import cache

import pytest

from tests.shared_data import SCRAPINGHUB
from transforms.dedup import Deduplicator, DedupSettings, content_hash
from transforms.dedup.minhash import MinHasher, estimate_jaccard
from transforms.dedup.shingles import normalise, shingle_hashes
from transforms.dedup.verify import sample_key
from transforms.records import Article, SourcePosition, stable_id

TRUTH = SCRAPINGHUB / "ground-truth.json"
T0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)


@cache
def bodies() -> list[str]:
    """Real article bodies of at least 250 words (distinct stories)."""
    truth = json.loads(TRUTH.read_text(encoding="utf-8"))
    return [v["articleBody"] for v in truth.values() if len(v["articleBody"].split()) >= 250]


def article(body: str, url: str, *, minutes: float = 0, partition: int = 0, offset: int = 0) -> Article:
    return Article(
        id=stable_id(url, body),
        body=body,
        url=url + "?utm_source=feed",
        canonical_url=url,
        fetched_at=T0 + timedelta(minutes=minutes),
        source_position=SourcePosition("articles.raw", partition, offset),
    )


def near_copy(body: str) -> str:
    """A syndicated copy: new first sentence, boilerplate appended, curly quotes (well under 20% changed)."""
    first, _, rest = body.partition(". ")
    return (
        "In a story first reported on Monday, officials said. "
        + rest.replace('"', "\u201c")
        + ("\n\nSign up for our newsletter to get the top stories every morning.")
    )


def test_content_hash_ignores_whitespace_case_and_quote_style() -> None:
    assert content_hash('He said "yes" -- twice.') == content_hash("he  said \u201cyes\u201d -- twice.\n")
    assert content_hash("He said yes.") != content_hash("He said no.")
    assert normalise("A\u00a0B\u2019s") == "a b's"


def test_sketch_estimates_jaccard_of_identical_and_unrelated_bodies() -> None:
    hasher = MinHasher(bands=14, rows=3, sketch_bits=128)
    a, b = (hasher.signature(shingle_hashes(normalise(t), 3)) for t in bodies()[:2])
    assert estimate_jaccard(a.sketch, a.sketch) == 1.0
    assert estimate_jaccard(a.sketch, b.sketch) < 0.3
    assert not set(a.band_keys) & set(b.band_keys)


def test_same_story_under_different_urls_is_an_exact_duplicate() -> None:
    dedup = Deduplicator()
    first, verdict = dedup.check(article(bodies()[0], "https://a.example/story"))
    assert verdict is None
    assert first.dedup.cluster_id == first.id and first.dedup.content_hash == content_hash(bodies()[0])
    copy = article(bodies()[0].replace("\n", "\n\n"), "https://b.example/other", minutes=5, partition=3)
    annotated, verdict = dedup.check(copy)
    assert verdict is not None
    assert (verdict.method, verdict.duplicate_of, verdict.similarity) == ("exact", first.id, 1.0)
    assert verdict.source_position == SourcePosition("articles.raw", 3, 0)
    assert annotated.dedup.cluster_id == first.id


def test_recrawl_of_the_same_url_is_a_url_duplicate() -> None:
    dedup = Deduplicator()
    first, _ = dedup.check(article(bodies()[0], "https://a.example/story"))
    recrawl = article(bodies()[0] + "\n\nUpdated at 10:42.", "https://a.example/story", minutes=30, offset=9)
    _, verdict = dedup.check(recrawl)
    assert verdict is not None and verdict.method == "url" and verdict.duplicate_of == first.id


def test_near_copy_on_another_partition_is_a_near_duplicate() -> None:
    dedup = Deduplicator()
    first, _ = dedup.check(article(bodies()[1], "https://wire.example/1"))
    _, verdict = dedup.check(
        article(near_copy(bodies()[1]), "https://paper.example/9", minutes=60, partition=4)
    )
    assert verdict is not None and verdict.method == "near" and verdict.duplicate_of == first.id
    assert 0.5 <= verdict.similarity < 1.0


def test_update_changing_the_body_beyond_the_threshold_is_kept_even_at_the_same_url() -> None:
    dedup = Deduplicator()
    original = bodies()[2]
    words = original.split()
    cut = len(words) * 2 // 5
    rewritten = " ".join(words[:cut]) + " " + " ".join(bodies()[3].split()[: len(words) - cut])
    dedup.check(article(original, "https://a.example/live"))
    updated, verdict = dedup.check(article(rewritten, "https://a.example/live", minutes=90, offset=1))
    assert verdict is None and updated.dedup.cluster_id == updated.id


def test_distinct_stories_are_all_kept() -> None:
    dedup = Deduplicator()
    verdicts = [
        dedup.check(article(b, f"https://x.example/{i}", minutes=i))[1] for i, b in enumerate(bodies()[:40])
    ]
    assert verdicts == [None] * 40


def test_a_copy_delivered_first_survives_whatever_the_dates() -> None:
    """Delivery order: the copy checked (delivered) first survives even when a later copy is dated earlier."""
    late_dated = article(bodies()[4], "https://a.example/x", minutes=300, partition=0, offset=7)
    early_dated = article(near_copy(bodies()[4]), "https://b.example/y", minutes=1, partition=1, offset=3)
    dedup = Deduplicator()
    assert dedup.check(late_dated)[1] is None
    assert dedup.check(early_dated)[1].duplicate_of == late_dated.id


def test_copies_in_flight_together_are_decided_in_arrival_order() -> None:
    """One micro-batch: the earliest arrival survives, whatever order the copies are handed over in."""
    a = article(bodies()[4], "https://a.example/x", minutes=50, partition=1, offset=7)
    b = article(near_copy(bodies()[4]), "https://b.example/y", minutes=1, partition=0, offset=3)
    for given in ([(a, 1_000), (b, 2_000)], [(b, 2_000), (a, 1_000)]):
        results = list(Deduplicator().check_many(given))
        assert [v is None for _, v in results] == [True, False]
        assert results[0][0].id == a.id and results[1][1].duplicate_of == a.id


def test_replaying_the_same_records_gives_the_same_verdicts() -> None:
    records = [article(bodies()[5], "https://a.example/1", offset=0)]
    records += [
        article(near_copy(bodies()[5]), f"https://c{i}.example/1", minutes=i + 1, offset=i + 1)
        for i in range(3)
    ]
    records += [article(bodies()[6], "https://a.example/2", minutes=9, offset=9)]
    dedup = Deduplicator()
    first = [dedup.check(r)[1] for r in records]
    again = [dedup.check(r)[1] for r in records]
    assert [(v.duplicate_of, v.method) if v else None for v in first] == [
        (v.duplicate_of, v.method) if v else None for v in again
    ]
    assert [v is None for v in first] == [True, False, False, False, True]


def test_entries_older_than_the_horizon_no_longer_match() -> None:
    dedup = Deduplicator(DedupSettings(horizon_days=1))
    dedup.check(article(bodies()[7], "https://a.example/old"))
    _, late = dedup.check(article(bodies()[7], "https://b.example/new", minutes=2 * 24 * 60))
    assert late is None


def test_expiry_drops_idle_keys_from_the_store() -> None:
    dedup = Deduplicator(DedupSettings(horizon_days=1), expire_every=1)
    old = article(bodies()[8], "https://a.example/old")
    dedup.check(old)
    old_keys = [key for key, _ in dedup.fingerprint(old).keys]
    assert all(dedup.store.get_many(old_keys))
    dedup.check(article(bodies()[9], "https://a.example/new", minutes=3 * 24 * 60))
    assert dedup.store.get_many(old_keys) == [None] * len(old_keys)
    assert dedup.store.size()[0] == len(old_keys) + 1  # the new article's keys and its shingle sample


def test_per_key_cap_keeps_only_the_newest_entries() -> None:
    dedup = Deduplicator(DedupSettings(max_per_bucket=2))
    url = "https://a.example/live"
    for i, b in enumerate(bodies()[10:14]):
        assert dedup.check(article(b, url, minutes=i, offset=i))[1] is None  # different bodies: new versions
    key = dedup.fingerprint(article(bodies()[10], url)).keys[0][0]
    blob = dedup.store.get_many([key])[0]
    fp_last = dedup.fingerprint(article(bodies()[13], url, minutes=3, offset=3))
    entry_bytes = 16 + DedupSettings().num_perm // 8 + len(fp_last.id_bytes)
    assert blob is not None and blob.endswith(fp_last.id_bytes) and len(blob) == 2 * entry_bytes


def test_state_per_retained_article_is_its_entries_under_one_kilobyte_and_a_bounded_sample() -> None:
    settings = DedupSettings()
    dedup = Deduplicator(settings)
    samples = 0
    for i, b in enumerate(bodies()):
        fp = dedup.fingerprint(article(b, f"https://x.example/{i}", minutes=i))
        dedup.check(article(b, f"https://x.example/{i}", minutes=i))
        assert len(fp.sample) <= 4 * settings.sample_size
        samples += len(sample_key(fp.id_bytes)) + len(fp.sample)
    keys, total = dedup.store.size()
    assert (total - samples) / len(bodies()) <= 1024
    assert keys == len(bodies()) * (3 + settings.bands)


@pytest.mark.parametrize(
    "kwargs", [{"threshold": 0}, {"num_perm": 12}, {"bands": 0}, {"shingle_size": 0}, {"horizon_days": 0}]
)
def test_settings_reject_nonsense(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        DedupSettings(**kwargs)


def test_articles_without_dates_are_ordered_by_their_arrival_not_the_partition_number() -> None:
    """With no fetched_at/published_at, the record timestamp orders copies in flight together."""
    first = Article(id="a" * 32, body=bodies()[14], source_position=SourcePosition("raw", 3, 50))
    copy = Article(id="b" * 32, body=near_copy(bodies()[14]), source_position=SourcePosition("raw", 0, 1))
    results = list(Deduplicator().check_many([(copy, 1_700_000_060_000), (first, 1_700_000_000_000)]))
    assert results[0][1] is None and results[0][0].id == first.id
    assert results[1][1] is not None and results[1][1].duplicate_of == first.id
