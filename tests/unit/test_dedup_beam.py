"""Deduplicate on the DirectRunner: stream mode (Beam state), batch mode (order-independent, optional
read-only check against the live index), and the counters; and the local stream's dedup step (SQLite
under state_dir, across a restart), as the pooled chain runs it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import apache_beam as beam
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions
from apache_beam.testing.test_pipeline import TestPipeline as BeamPipeline
from apache_beam.testing.test_stream import TestStream as BeamStream
from apache_beam.testing.util import assert_that, equal_to
from apache_beam.transforms.window import TimestampedValue

from tests.local_dedup import decide_micro_batch
from transforms.dedup import Deduplicate, DedupSettings
from transforms.records import Article, SourcePosition

T0 = datetime(2024, 5, 1, tzinfo=UTC)
STORY = " ".join(
    f"Sentence {i} of the wire story reports that {i * 13} people attended in town {i}." for i in range(50)
)
OTHER = " ".join(
    f"An unrelated report number {i} counts {i * 17} boats in harbour {i % 7}." for i in range(50)
)


def article(aid: str, body: str, minute: int, partition: int = 0, url: str | None = None) -> Article:
    return Article(
        id=aid,
        body=body,
        canonical_url=url or f"https://example.org/{aid}",
        fetched_at=T0 + timedelta(minutes=minute),
        source_position=SourcePosition("articles.raw", partition, minute),
    )


ORIGINAL = article("wire", STORY, 0)
FIRST_BATCH = [ORIGINAL, article("other", OTHER, 1, partition=1)]
SECOND_BATCH = [
    article("mirror", STORY.replace(". ", ".  "), 10, partition=2),  # exact: whitespace only
    article("syndicated", "NEW HEADLINE. " + STORY + " Copyright Example News.", 11, partition=1),  # near
    article("wire", STORY + " Updated.", 12, partition=0, url=ORIGINAL.canonical_url),  # re-crawl: url
]


def run(
    articles: list[Article], survivors: list[str], verdicts: list[tuple[str, str, str]], **kwargs
) -> dict[str, int]:
    """Runs Deduplicate, asserts the survivor ids and the verdicts, returns the newsflow counters."""
    pipeline = BeamPipeline()
    out = pipeline | beam.Create(articles) | Deduplicate(DedupSettings(), **kwargs)
    kept = out["articles"] | "Survivors" >> beam.Map(lambda a: a.id)
    dropped = out["duplicates"] | "Verdicts" >> beam.Map(lambda v: (v.id, v.duplicate_of, v.method))
    assert_that(kept, equal_to(survivors), label="CheckSurvivors")
    assert_that(dropped, equal_to(verdicts), label="CheckVerdicts")
    result = pipeline.run()
    result.wait_until_finish()
    counters = result.metrics().query(MetricsFilter().with_namespace("newsflow"))["counters"]
    return {c.key.metric.name: c.committed for c in counters}


EXPECTED = [("mirror", "wire", "exact"), ("syndicated", "wire", "near"), ("wire", "wire", "url")]


def test_stream_mode_with_beam_state_drops_copies_across_partitions() -> None:
    counts = run(FIRST_BATCH + SECOND_BATCH, ["other", "wire"], EXPECTED)
    assert counts == {"dedup.unique": 2, "dedup.exact": 1, "dedup.near": 1, "dedup.url": 1}


def test_stream_mode_fills_dedup_on_survivors() -> None:
    with BeamPipeline() as pipeline:
        out = pipeline | beam.Create(FIRST_BATCH) | Deduplicate(DedupSettings())
        dedup = out["articles"] | beam.Map(lambda a: (a.id, a.dedup.cluster_id, len(a.dedup.content_hash)))
        assert_that(dedup, equal_to([("wire", "wire", 32), ("other", "other", 32)]))


def local_batch(articles: list[Article], state_dir: Path) -> tuple[list[str], list[tuple[str, str, str]]]:
    """One micro-batch of the local stream's dedup (no Kafka timestamps: event time places each)."""
    kept, dropped = decide_micro_batch([(a, 0) for a in articles], str(state_dir))
    return sorted(a.id for a in kept), sorted((v.id, v.duplicate_of, v.method) for v in dropped)


def test_the_local_stream_recognises_articles_seen_before_a_restart(tmp_path: Path) -> None:
    assert local_batch(FIRST_BATCH, tmp_path) == (["other", "wire"], [])
    assert local_batch(SECOND_BATCH, tmp_path) == ([], EXPECTED)


def test_stream_mode_without_state_dir_forgets_on_restart(tmp_path: Path) -> None:
    run(FIRST_BATCH, ["other", "wire"], [])
    run(SECOND_BATCH, ["mirror"], [("syndicated", "mirror", "near"), ("wire", "mirror", "near")])


def test_batch_mode_gives_the_same_survivors_for_any_input_order() -> None:
    items = FIRST_BATCH + SECOND_BATCH
    for order in (items, list(reversed(items)), items[2:] + items[:2]):
        run(order, ["other", "wire"], EXPECTED, mode="batch")


def test_batch_mode_skips_what_the_live_index_already_delivered(tmp_path: Path) -> None:
    assert local_batch(FIRST_BATCH, tmp_path) == (["other", "wire"], [])
    fresh = article("fresh", OTHER.replace("boats", "cars").replace("harbour", "garage"), 20)
    run(
        SECOND_BATCH + [fresh, ORIGINAL],
        ["fresh"],
        EXPECTED + [("wire", "wire", "exact")],  # the same body delivered: exact content wins over the URL
        mode="batch",
        state_dir=str(tmp_path),
    )


def test_batch_mode_without_a_live_index_yet_dedups_on_its_own(tmp_path: Path) -> None:
    run(
        FIRST_BATCH + SECOND_BATCH,
        ["other", "wire"],
        EXPECTED,
        mode="batch",
        state_dir=str(tmp_path / "none"),
    )


def test_beam_state_keeps_an_entry_through_the_last_second_of_its_horizon() -> None:
    """A copy stamped within the horizon's last second (the index counts whole seconds, so it still
    matches) finds the original: the key's state is cleared only after that second has passed."""
    start = T0.timestamp()
    last_second = replace(article("last", STORY, 0, partition=1), fetched_at=T0 + timedelta(seconds=86400.5))
    stream = (
        BeamStream()
        .add_elements([TimestampedValue(ORIGINAL, start)])
        .advance_watermark_to(start + 86400.25)
        .add_elements([TimestampedValue(last_second, start + 86400.5)])
        .advance_watermark_to(start + 86402)
        .advance_watermark_to_infinity()
    )
    options = PipelineOptions()
    options.view_as(StandardOptions).streaming = True
    with BeamPipeline(options=options) as pipeline:
        out = pipeline | stream | Deduplicate(DedupSettings(horizon_days=1))
        assert_that(out["articles"] | beam.Map(lambda a: a.id), equal_to(["wire"]), label="Kept")
        dropped = out["duplicates"] | beam.Map(lambda v: (v.id, v.duplicate_of))
        assert_that(dropped, equal_to([("last", "wire")]), label="Dropped")


def test_beam_state_of_an_idle_key_is_cleared_one_horizon_after_its_newest_element() -> None:
    """The late copy's own event time is within the horizon of the original, so only the cleared state
    (the expiry timer, which follows element time) explains why it is kept."""
    start = T0.timestamp()
    late_copy = article("late", STORY, 2, partition=2)
    stream = (
        BeamStream()
        .add_elements([TimestampedValue(ORIGINAL, start)])
        .advance_watermark_to(start + 60)
        .add_elements([TimestampedValue(article("copy", STORY, 1, partition=1), start + 60)])
        .advance_watermark_to(start + 3 * 86400)
        .add_elements([TimestampedValue(late_copy, start + 3 * 86400)])
        .advance_watermark_to_infinity()
    )
    options = PipelineOptions()
    options.view_as(StandardOptions).streaming = True
    with BeamPipeline(options=options) as pipeline:
        out = pipeline | stream | Deduplicate(DedupSettings(horizon_days=1))
        assert_that(out["articles"] | beam.Map(lambda a: a.id), equal_to(["wire", "late"]), label="Kept")
        dropped = out["duplicates"] | beam.Map(lambda v: (v.id, v.duplicate_of))
        assert_that(dropped, equal_to([("copy", "wire")]), label="Dropped")
