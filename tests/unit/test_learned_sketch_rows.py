"""The learned-boilerplate sketch counts and estimates a whole article's paragraphs in one array operation;
its counts and estimates are those of counting them one at a time (conservative update in the order
given), including when two paragraphs share a counter (a narrow table makes that common)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from transforms.boilerplate.learned import LearnedConfig, ParagraphSketch


def one_at_a_time(config: LearnedConfig, articles: list[tuple[list[int], float]]) -> dict[int, np.ndarray]:
    """The reference: each fingerprint's cells and update on its own."""
    tables: dict[int, np.ndarray] = {}
    bucket_seconds = config.window_seconds / config.buckets
    for fps, when in articles:
        counts = tables.setdefault(int(when // bucket_seconds), np.zeros(config.width, np.uint8))
        for fp in fps:
            h1, h2 = fp & 0xFFFFFFFF, (fp >> 32) | 1
            cells = (h1 + np.arange(config.hashes, dtype=np.uint64) * h2) % config.width
            low = counts[cells].min()
            if low < 255:
                counts[cells[counts[cells] == low]] = low + 1
    return tables


fingerprints = st.integers(min_value=0, max_value=2**64 - 1)


@settings(max_examples=200, deadline=None)
@given(
    width=st.sampled_from([7, 16, 64, 65536]),
    hashes=st.integers(min_value=1, max_value=5),
    articles=st.lists(
        st.tuples(st.lists(fingerprints, max_size=12, unique=True), st.sampled_from([0.0, 10.0])),
        max_size=30,
    ),
)
def test_counting_an_article_at_once_is_counting_its_paragraphs_one_by_one(width, hashes, articles):
    config = LearnedConfig(width=width, hashes=hashes, buckets=2, window_seconds=40.0)
    sketch = ParagraphSketch(config)
    for fps, when in articles:
        sketch.add(fps, when)
    expected = one_at_a_time(config, articles)
    assert sorted(sketch.bucket_counts) == sorted(expected)
    for bucket, counts in expected.items():
        assert np.array_equal(sketch.bucket_counts[bucket], counts)
    probe = [fp for fps, _ in articles for fp in fps][:20] + [12345]
    assert list(sketch.estimates(probe)) == [sketch.estimate(fp) for fp in probe]
    for fp in probe:
        h1, h2 = fp & 0xFFFFFFFF, (fp >> 32) | 1
        cells = (h1 + np.arange(hashes, dtype=np.uint64) * h2) % width
        assert sketch.estimate(fp) == sum(int(c[cells].min()) for c in expected.values())


def test_a_counter_stops_at_255():
    sketch = ParagraphSketch(LearnedConfig(width=64, hashes=2))
    for _ in range(300):
        sketch.add([42, 43], 0.0)
    assert sketch.estimate(42) == 255
