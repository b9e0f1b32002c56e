"""Property-based fuzzing of the parse and clean path (3,500 generated cases per run): whatever the bytes,
the result is a RawArticle/Article or a PipelineError with a reason, never any other exception."""

from __future__ import annotations

import json
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from transforms.article import build_article
from transforms.errors import PipelineError
from transforms.parse import parse
from transforms.settings import Limits

LIMITS = Limits(doc_time_budget=5.0)


def fuzz(examples: int) -> settings:
    return settings(
        max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), database=None
    )


CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=50),
    st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)  # fmt: skip
FIELDS = ("url", "source", "html", "text", "language", "fetched_at", "published_at", "metadata", "extra")
envelopes = st.dictionaries(st.sampled_from(FIELDS), scalars, max_size=len(FIELDS))

TAGS = ("p", "div", "span", "article", "h1", "li", "ul", "table", "td", "script", "style", "a", "br", "nav")
WORDS = (
    "the",
    "minister",
    "said",
    "Geneva",
    "talks",
    "on",
    "Tuesday",
    "&amp;",
    "&#0;",
    "&bogus;",
    "<!--",
    "é",
)


@st.composite
def html_pages(draw) -> str:
    parts = []
    for _ in range(draw(st.integers(1, 40))):
        tag = draw(st.sampled_from(TAGS))
        words = " ".join(draw(st.lists(st.sampled_from(WORDS), min_size=0, max_size=30)))
        noise = draw(st.text(max_size=10))
        closed = draw(st.booleans())
        parts.append(f"<{tag}>{words}{noise}" + (f"</{tag}>" if closed else ""))
    return "".join(parts)


def _outcome(value: bytes):
    try:
        parsed = parse(value, None)
    except PipelineError as exc:
        assert exc.reason and exc.stage
        return exc
    try:
        return build_article(parsed, LIMITS)
    except PipelineError as exc:
        assert exc.reason
        return exc


def _check_article(article) -> None:
    if isinstance(article, PipelineError):
        return
    assert article.body.strip() and not CONTROLS.search(article.body)
    assert re.fullmatch(r"[0-9a-f]{32}", article.id)


@fuzz(1500)
@given(st.binary(max_size=4096))
def test_arbitrary_bytes(value):
    _check_article(_outcome(value))


@fuzz(1200)
@given(envelopes)
def test_arbitrary_envelopes(envelope):
    _check_article(_outcome(json.dumps(envelope, default=str).encode()))


@fuzz(500)
@given(html_pages(), st.sampled_from(["html", "text"]), st.sampled_from(["utf-8", "utf-16", "latin-1"]))
def test_generated_pages_through_the_clean_path(page, field, encoding):
    value = json.dumps({"url": "https://fuzz.example/a", field: page}, ensure_ascii=encoding != "utf-8")
    _check_article(_outcome(value.encode(encoding, "replace")))
