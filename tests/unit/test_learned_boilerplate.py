"""Learned per-source boilerplate: the sketch, its expiry, the in-memory store and the Beam transform."""

from __future__ import annotations

import dataclasses
import json
import uuid
from datetime import UTC, datetime, timedelta

import apache_beam as beam
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.options import Limits, Processing
from tests.beam_runs import run_local_chain
from transforms.boilerplate import extract_text
from transforms.boilerplate.learned import (
    REASON,
    LearnedBoilerplate,
    LearnedConfig,
    ParagraphSketch,
    RemoveLearnedBoilerplate,
    fingerprint,
    paragraph_key,
)
from transforms.kafka_io import KafkaRecord
from transforms.records import Article

APPEAL = (
    "The Valley Courier has been published in this town since 1881, and the reporters who worked on "
    "this story live in the communities they cover, which is why it matters to them."
)
STORIES = [
    (
        "The county board approved a new budget on Tuesday after a long debate over road repairs, "
        "school funding and the cost of running the regional hospital for another year.",
        "Board members said the plan would raise property taxes slightly, though most homeowners "
        "would pay less than fifty dollars more each year under the proposal.",
        "The vote was five to two, with both dissenting members arguing that the hospital should have "
        "been asked to cut its administrative costs before any new money was granted.",
    ),
    (
        "Heavy rain flooded several streets near the river on Sunday night, forcing the police to close "
        "the main bridge for hours while crews cleared debris from the drains.",
        "Residents said the water rose faster than during the storms of last spring, and the city "
        "promised to review its emergency plans before the winter season begins.",
        "Shop owners along the waterfront spent Monday morning pumping out cellars and counting the "
        "cost of damaged stock, which several of them said their insurance would not cover.",
    ),
    (
        "The high school football team won its first championship in two decades on Friday, beating "
        "its rival by three points in a game that went into overtime.",
        "Hundreds of fans gathered at the stadium afterwards to greet the players, and the coach "
        "thanked the town for its support during a difficult season for the club.",
        "The winning kick came from a sophomore who had joined the squad only in September, after "
        "moving to the valley with his family from a farm two states away.",
    ),
    (
        "A new library branch opened on the east side of town on Saturday, the first public building "
        "constructed in that neighbourhood in more than thirty years.",
        "Librarians said more than four hundred people signed up for cards on the first day, many of "
        "them children who had never had a library within walking distance.",
        "The branch was paid for by a bond measure that voters approved two years ago by a narrow "
        "margin after a campaign led by parents and retired teachers.",
    ),
    (
        "The regional airport will add two daily flights to the state capital from March, the airport "
        "authority announced on Wednesday after months of talks with a small carrier.",
        "Business owners welcomed the news, saying the drive to the capital had cost them clients who "
        "were unwilling to spend a full day travelling for a single meeting.",
        "The authority expects the route to need a subsidy for its first year, which it plans to cover "
        "from parking fees rather than from the county's general fund.",
    ),
]
T0 = datetime(2025, 1, 6, tzinfo=UTC)
T0_MS = int(T0.timestamp() * 1000)


def _text(story: tuple[str, str]) -> str:
    return (
        "Home\nNews\nSports\n\nLocal News Story\n\n"
        + "\n\n".join(story)
        + f"\n\n{APPEAL}\n\nContact us\nAbout"
    )


def _articles() -> list[Article]:
    out = []
    for i, story in enumerate(STORIES):
        extraction = extract_text(_text(story))
        out.append(
            Article(
                id=f"a{i}",
                body=extraction.body,
                source="valley-courier",
                published_at=T0 + timedelta(hours=i),
                boilerplate=extraction.removed,
            )
        )
    return out


def test_text_mode_alone_keeps_the_appeal():
    for article in _articles():
        assert APPEAL in article.body


def test_paragraph_key_ignores_case_spacing_and_numbers():
    assert paragraph_key("Hello,  World 2024!") == paragraph_key("hello world 2025")
    assert paragraph_key("...") is None


def test_sketch_counts_and_expires():
    config = LearnedConfig(window_seconds=400.0, buckets=4, width=4096, hashes=3)
    sketch = ParagraphSketch(config)
    fp = fingerprint("some repeated paragraph")
    sketch.add([fp], 0.0)
    sketch.add([fp], 150.0)
    assert sketch.estimate(fp) == 2
    assert sketch.estimate(fingerprint("never seen")) == 0
    sketch.add([fingerprint("other")], 450.0)  # bucket 4: bucket 0 falls out of the window
    assert sketch.estimate(fp) == 1
    restored = ParagraphSketch.from_state(config, sketch.to_state())
    assert restored.estimate(fp) == 1
    assert len(sketch.bucket_counts) <= config.buckets


def test_sketch_rarely_mistakes_a_new_paragraph_for_a_seen_one():
    config = LearnedConfig()
    sketch = ParagraphSketch(config)
    sketch.add((fingerprint(f"seen paragraph {i}") for i in range(1500)), 0.0)
    assert all(sketch.estimate(fingerprint(f"seen paragraph {i}")) >= 1 for i in range(1500))
    false = sum(sketch.estimate(fingerprint(f"new paragraph {i}")) > 0 for i in range(5000))
    assert false / 5000 < 0.005
    assert len(sketch.to_state()[0]) < config.width // 2  # compressed state


def test_in_memory_store_removes_what_three_earlier_articles_of_the_site_carried():
    store = LearnedBoilerplate()
    out = [store.apply(a) for a in _articles()]
    k = store.config.min_others
    assert all(APPEAL in a.body for a in out[:k])
    for i, article in enumerate(out[k:], start=k):
        assert APPEAL not in article.body
        assert article.boilerplate[-1].reason == REASON
        assert article.boilerplate[-1].chars == len(APPEAL)
        assert article.body.startswith(STORIES[i][0])


def test_fifty_sites_sharing_one_source_label_lose_no_body_text():
    """An aggregator's feed: one source label, 50 sites, each running the same wire story and quote."""
    wire = (
        "The central bank raised its main interest rate by a quarter point on Thursday, its third "
        "increase this year, and signalled that more could follow if prices keep rising."
    )
    store = LearnedBoilerplate()
    for i in range(50):
        story = STORIES[i % len(STORIES)]
        body = "\n\n".join([wire, *story])
        article = Article(
            id=f"s{i}", body=body, source="aggregator", url=f"https://www.site{i}.com/news/{i}.html",
            published_at=T0 + timedelta(minutes=i),
        )  # fmt: skip
        cleaned = store.apply(article)
        assert cleaned.body == body
        assert not [r for r in cleaned.boilerplate if r.reason == REASON]


def test_one_site_under_a_shared_label_still_learns_its_furniture():
    store = LearnedBoilerplate()
    out = []
    for i, a in enumerate(_articles()):
        other = Article(id=f"o{i}", body=a.body, source="aggregator", url=f"https://www.other{i}.com/a")
        store.apply(other)  # other sites under the same label in between
        out.append(
            store.apply(dataclasses.replace(a, source="aggregator", url=f"https://news.valley.com/{i}"))
        )
    assert [APPEAL in a.body for a in out] == [True, True, True, False, False]


def test_removal_never_takes_more_than_the_bounded_share_of_a_body():
    store = LearnedBoilerplate()
    for i in range(4):
        store.apply(Article(id=f"f{i}", body=f"{APPEAL}\n\n{STORIES[i][0]}", source="valley-courier"))
    mostly_known = Article(id="m", body=f"{APPEAL}\n\nShort new line here today.", source="valley-courier")
    assert store.apply(mostly_known).body == mostly_known.body


def test_sources_are_independent_and_full_copies_are_left_to_dedup():
    store = LearnedBoilerplate()
    a, b, *_ = _articles()
    store.apply(a)
    other = Article(id="x", body=b.body, source="another-paper")
    assert store.apply(other).body == b.body
    copy = Article(id="y", body=a.body, source="valley-courier")
    assert store.apply(copy).body == a.body


def test_an_updated_copy_is_left_whole_for_dedup():
    store = LearnedBoilerplate()
    first = _articles()[0]
    for _ in range(3):
        store.apply(first)
    paragraphs = first.body.split("\n\n")
    paragraphs[1] = "Update: the board will vote again next week after a court ruled the first vote invalid."
    update = Article(id="u", body="\n\n".join(paragraphs), source="valley-courier")
    assert store.apply(update).body == update.body


def test_beam_transform_strips_the_appeal_once_three_articles_carried_it():
    articles = _articles() + [Article(id="nosource", body=APPEAL)]

    def check(out):
        by_source = [a for a in out if a.source]
        assert len(out) == len(articles)
        assert sum(APPEAL in a.body for a in by_source) == LearnedConfig().min_others
        for a in by_source:
            if APPEAL not in a.body:
                assert [r.reason for r in a.boilerplate].count(REASON) == 1
                assert a.body.count("\n\n") == 2
        assert next(a for a in out if a.id == "nosource").body == APPEAL

    with TestPipeline() as p:
        out = p | beam.Create(articles) | RemoveLearnedBoilerplate()
        assert_that(out, check)


def test_count_removed_feeds_beam_counters_by_reason():
    from apache_beam.metrics.metric import MetricsFilter

    from transforms.boilerplate import count_removed

    def count(article: Article) -> Article:
        count_removed(article.boilerplate)
        return article

    p = TestPipeline()
    _ = p | beam.Create(_articles()[:1]) | beam.Map(count)
    result = p.run()
    result.wait_until_finish()
    counters = {
        c.key.metric.name: c.committed
        for c in result.metrics().query(MetricsFilter().with_namespace("newsflow"))["counters"]
    }
    removed = _articles()[0].boilerplate
    short = [r for r in removed if r.reason == "text:short-line"]
    assert counters["boilerplate.blocks.text:short-line"] == len(short)
    assert counters["boilerplate.chars.text:short-line"] == sum(r.chars for r in short)


def test_the_local_stream_keeps_each_source_sketch_across_micro_batches(tmp_path):
    """Each micro-batch is a new pipeline (``newsflow stream``, one worker): what the first taught the
    source's sketch strips the appeal from the second."""
    source = f"local-{uuid.uuid4().hex}"  # the process-wide sketches are shared by every test
    records = [
        KafkaRecord(
            "raw", 0, i, None, json.dumps({"text": _text(story), "source": source}).encode(), T0_MS + i
        )
        for i, story in enumerate(STORIES)
    ]
    processing = Processing(state_dir=str(tmp_path), entities=False)
    first, rest = run_local_chain([records[:3], records[3:]], Limits(), processing)
    assert [APPEAL in a.body for a in first["articles"]] == [True, True, True]
    assert len(rest["articles"]) == 2 and all(APPEAL not in a.body for a in rest["articles"])
    assert all([r.reason for r in a.boilerplate].count(REASON) == 1 for a in rest["articles"])


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, len(STORIES) - 1)), min_size=1, max_size=40))
def test_sketches_kept_uncompressed_give_the_results_of_compressed_ones(arrivals):
    """Six sources (the appeal in each) taking turns, four sketches at most: whatever share of them is kept
    uncompressed (none, as before, one, three, all), every article comes out the same, within the bound."""
    config = LearnedConfig(max_sources=4)
    stores = [LearnedBoilerplate(config, hot=hot) for hot in (0, 1, 3, 32)]
    articles = _articles()
    for source, story in arrivals:
        article = dataclasses.replace(articles[story], source=f"site-{source}")
        bodies = {store.apply(article).body for store in stores}
        assert len(bodies) == 1
    for store in stores:
        assert len(store._states) + len(store._hot) <= config.max_sources
