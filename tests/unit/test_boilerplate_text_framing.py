"""Text mode over generated pages: an article framed by page furniture, or broken up by a template's
markers, keeps its body and leaves the furniture and the markers out."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from transforms.boilerplate.text import classify_lines

PARAGRAPHS = [
    "The city council voted on Tuesday to expand the bus network, adding three routes that will connect the "
    "northern suburbs with the hospital district by the end of next year.",
    "Officials said the plan, which will cost about 40 million dollars, would be paid for by a regional "
    "transport levy that voters approved in a referendum last spring.",
    "Residents of the northern suburbs have complained for years that the only direct line to the centre runs "
    "every forty minutes and stops before nine in the evening.",
    "The new routes will run every ten minutes during the morning and evening peaks, and every twenty minutes "
    "at other times, according to a timetable published by the transport authority.",
    "Opposition members argued that the money would be better spent on repairing the tram lines, several of "
    "which have been closed for maintenance since the winter storms.",
    "A spokeswoman for the mayor said that the tram repairs were already funded from a separate budget and "
    "that work on them would begin in the autumn.",
    "The bus drivers' union welcomed the decision but warned that the authority would need to hire at least "
    "sixty more drivers before the routes could open.",
    "Construction of the new stops and a depot on the edge of the hospital grounds is expected to start in "
    "March, once the final designs have been approved by the planning committee.",
]
HEADER = ["Home", "World", "Business", "Sports", "Opinion", "Log In", "Subscribe", "Menu", "Search"]
FOOTER = [
    "Share on Facebook",
    "Share on X",
    "Most read",
    "About us",
    "Contact",
    "Privacy policy",
    "Terms of use",
    "© 2024 Example Media. All rights reserved.",
    "Sign up for our newsletter to get the day's top stories in your inbox.",
]
TITLE = "Council Expands Bus Network"

# The page's parts, drawn the same way by every test: menus above, the article's paragraphs, footers below.
headers = st.lists(st.sampled_from(HEADER), min_size=4, max_size=12)
footers = st.lists(st.sampled_from(FOOTER), min_size=3, max_size=12)


def articles(min_size: int = 3) -> st.SearchStrategy[list[str]]:
    return st.lists(st.sampled_from(PARAGRAPHS), min_size=min_size, max_size=8, unique=True)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    headers,
    articles(),
    footers,
)
def test_an_article_between_menus_and_footers_keeps_its_body_and_only_its_body(header, article, footer):
    parts = classify_lines("\n".join([*header, TITLE, *article, *footer]))
    assert parts.paragraphs == article


MARKERS = ["Advertisement", "ADVERTISEMENT", "Photo", "Story continues below"]


@settings(max_examples=100, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(
    headers,
    articles(),
    st.sampled_from(MARKERS),
    footers,
)
def test_a_marker_between_every_two_paragraphs_neither_enters_the_body_nor_cuts_it(
    header, article, marker, footer
):
    interleaved = [line for paragraph in article for line in (paragraph, marker)]
    parts = classify_lines("\n".join([*header, TITLE, *interleaved, *footer]))
    assert marker not in parts.paragraphs
    # Every paragraph stays: the markers pull down the paragraphs' neighbourhood scores, and the last
    # paragraphs of a long article used to fall just under the cut-off.
    assert [line for line in parts.paragraphs if line in article] == article


SHARE_LINES = [
    "Artikel teilen",
    "Diesen Artikel teilen",
    "Share this article",
    "Share this story",
    "Share",
    "Teilen",
]


@settings(max_examples=100, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(
    headers,
    articles(),
    st.sampled_from(SHARE_LINES),
    st.lists(st.sampled_from(FOOTER), max_size=12),
)
def test_a_share_button_after_the_last_paragraph_stays_out_of_the_body(header, article, share, footer):
    """A button after the article inherits the paragraphs' neighbourhood scores; in any language, it is
    no part of the article (fundus's taz page kept "Diesen Artikel teilen")."""
    parts = classify_lines("\n".join([*header, TITLE, *article, share, *footer]))
    assert parts.paragraphs == article


CALLS = [
    "Sign up for our newsletter to get the day's top stories in your inbox.",
    "Subscribe to our daily newsletter and never miss a story from your neighbourhood again.",
    "Follow us on Facebook and Twitter for the latest news from your city and region.",
    "Support our journalism today and help us keep reporting on the stories that matter to you.",
    "Become a member now and get unlimited access to all of our reporting for one low price.",
]


@settings(max_examples=100, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(st.just([]), headers),
    articles(min_size=2),
    st.lists(st.sampled_from(CALLS), min_size=1, max_size=2, unique=True),
)
def test_a_call_to_action_after_the_last_paragraph_stays_out_of_the_body(header, article, calls):
    """An appeal appended to a short article inherits the paragraphs' neighbourhood scores (the classifier
    kept "Sign up for our newsletter ..." at 0.7 after three paragraphs); on a page under its menus or in
    text already extracted, it is no part of the article."""
    title = [TITLE] if header else []
    parts = classify_lines("\n".join([*header, *title, *article, *calls]))
    assert parts.paragraphs == article
