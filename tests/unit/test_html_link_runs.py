"""Pages of hundreds of thousands of elements, most of them links: what an element costs is memory (libxml2's
tree, then metadata and trafilatura's copies of it), so a 7 MB page of 200,000 links peaked at 1.4 GB in
``newsflow process``. Past a tag count its runs of links are cut before parsing; a page still too big is
refused before parsing; a page under the count is parsed exactly as it is."""

from __future__ import annotations

import tracemalloc

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from transforms.boilerplate import extract_html
from transforms.boilerplate.html import parse_html
from transforms.boilerplate.prescan import HtmlBudget, bounded, start_tags
from transforms.errors import LimitExceeded

STORY = (
    "The city council approved the new budget on Tuesday after a long debate about schools, roads and "
    "parks, and the mayor said the vote showed that the city could still agree on what matters."
)
SMALL = HtmlBudget(max_tags=600, trim_from=300)


def page(links: list[str], paragraphs: int = 6) -> str:
    article = "".join(f"<p>{STORY} ({n})</p>" for n in range(paragraphs))
    return f"<html><head><title>Budget</title></head><body><article>{article}</article>{''.join(links)}</body></html>"


LINK = st.builds(
    lambda n, text, attrs: f'<a href="/s/{n}"{attrs}>{text} {n}</a>',
    st.integers(0, 10**6),
    st.sampled_from(["Story", "Sport", "Müll & Co", "&amp; more", ""]),
    st.sampled_from(["", ' class="nav"', " title='a > b'", ' data-x="<"']),
)
SEPARATOR = st.sampled_from(
    ["", " ", "\n", " | ", ", ", "&nbsp;", " &middot; ", "</li><li>", "</li>\n<li class=x>"]
)


@settings(max_examples=60, deadline=None)
@given(
    runs=st.lists(st.tuples(st.lists(LINK, min_size=50, max_size=400), SEPARATOR), min_size=1, max_size=3),
    wrap=st.booleans(),
)
def test_runs_of_links_are_cut_past_the_count_and_the_article_stays(runs, wrap):
    """Any run of 50 or more whole links, with any separators between them, is cut from a page over the
    count; the article's paragraphs are kept, word for word."""
    blocks = []
    for links, separator in runs:
        run = separator.join(links)
        blocks.append(f"<div><ul><li>{run}</li></ul></div>" if wrap else f"<div>{run}</div>")
    html = page(blocks)
    if len(start_tags(html)) <= SMALL.trim_from:
        assert bounded(html, SMALL) == html
        return
    cut = bounded(html, SMALL)
    assert "<a " not in cut
    tree = parse_html(cut, max_depth=256, budget=SMALL, prescanned=True)
    assert [p.text_content() for p in tree.iter("p")] == [f"{STORY} ({n})" for n in range(6)]


@settings(max_examples=30, deadline=None)
@given(links=st.lists(LINK, min_size=1, max_size=49), separator=SEPARATOR, copies=st.integers(1, 30))
def test_runs_of_fewer_than_50_links_and_pages_under_the_count_are_untouched(links, separator, copies):
    """A short run (a tag list, a byline's links) is never cut; a page under the count is not even scanned
    for runs."""
    html = page([f"<p>{STORY}</p><div>{separator.join(links)}</div>"] * copies)
    try:
        assert bounded(html, SMALL) == html, "a run of fewer than 50 links was cut"
    except LimitExceeded:  # nothing to cut and still over the budget: refused whole, never cut
        assert len(start_tags(html)) > SMALL.max_tags


def test_a_page_still_over_the_budget_after_the_cut_is_refused():
    html = page(["<div><span>not a link</span></div>" * 400])
    with pytest.raises(LimitExceeded, match="over 600 elements"):
        bounded(html, SMALL)


def test_a_7_mb_page_of_200000_links_is_cut_before_parsing_within_bounded_memory():
    """The page of the defect, with the default budget: its article comes out, the parser never sees the
    links, and the cut holds little memory (a greedy repeat kept 300 MB of regex frames)."""
    html = page([f'<a href="/s/{n}">Story {n}</a> ' for n in range(200_000)], paragraphs=12)
    assert len(html) > 7_000_000
    tracemalloc.start()
    try:
        cut = bounded(html, HtmlBudget())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * len(html) + 32 * 1024 * 1024, f"the cut held {peak} bytes"
    assert len(start_tags(cut)) < 100
    extraction = extract_html(html)
    assert extraction.paragraphs[:12] == [f"{STORY} ({n})" for n in range(12)]
