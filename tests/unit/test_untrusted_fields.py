"""Fields producers fill as they like, checked as properties of the whole parse-to-Avro path: a timestamp at
the edges of the calendar in any UTC offset, a URL that does not parse, a number too long for Python's
``int``. Each ends as a record every Avro reader decodes, or as a ParseError naming the field; never as
an exception that dead-letters the article as a fault (retried, ``ValueError``) or a record Python's Avro
readers cannot read back.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from transforms import avro
from transforms.article import build_article
from transforms.errors import ParseError
from transforms.parse import parse, parse_time
from transforms.records import Article, to_dict
from transforms.settings import Limits

LIMITS = Limits(doc_time_budget=5.0)
FIXED = settings(max_examples=300, derandomize=True, deadline=None, database=None)
FIRST, LAST = datetime(1, 1, 1), datetime(9999, 12, 31, 23, 59, 59, 999999)
# Any moment, and moments within a day of the calendar's ends, where an offset moves the UTC date out of it.
moments = st.one_of(
    st.datetimes(min_value=FIRST, max_value=LAST),
    st.datetimes(min_value=FIRST, max_value=FIRST + timedelta(days=1)),
    st.datetimes(min_value=LAST - timedelta(days=1), max_value=LAST),
)


def _round_trip(moment: datetime) -> datetime:
    """``moment`` as a consumer reads it back from an Article (``timestamp-millis``)."""
    value = avro.encode("article", to_dict(Article(id="0" * 32, body="b", published_at=moment)))
    return avro.decode(value)[1]["published_at"]


@FIXED
@given(
    local=moments,
    minutes=st.integers(-23 * 60 - 59, 23 * 60 + 59),
    sep=st.sampled_from(["T", "t", " "]),
)
def test_an_iso_timestamp_in_any_offset_is_read_back_from_avro_or_rejected(local, minutes, sep):
    offset = timedelta(minutes=minutes)
    text = local.replace(tzinfo=timezone(offset)).isoformat(sep)
    try:
        utc = local - offset
    except OverflowError:
        utc = None  # the instant's UTC date is before year 1 or after 9999
    if utc is None:
        with pytest.raises(ParseError, match="not a valid timestamp"):
            parse_time(text, "published_at")
        return
    parsed = parse_time(text, "published_at")
    assert parsed == utc.replace(tzinfo=UTC) and parsed.utcoffset() == timedelta(0)
    assert _round_trip(parsed) == parsed.replace(microsecond=parsed.microsecond // 1000 * 1000)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2016-12-31T23:59:60Z", datetime(2016, 12, 31, 23, 59, 59, tzinfo=UTC)),
        ("2016-12-31t23:59:60.25z", datetime(2016, 12, 31, 23, 59, 59, 250000, tzinfo=UTC)),
        ("2017-01-01T01:59:60+02:00", datetime(2016, 12, 31, 23, 59, 59, tzinfo=UTC)),
    ],
)
def test_rfc3339_lowercase_and_leap_seconds_are_timestamps(text, expected):
    assert parse_time(text, "published_at") == expected


URL_CHARS = st.sampled_from(list("[]:/@%?#.-_ ab1é") + ["\x00", "\u200b", "[::1", "xn--", "//"])
urls = st.builds(
    lambda scheme, rest: scheme + "".join(rest),
    st.sampled_from(["", "http://", "https://", "//", "mailto:"]),
    st.lists(URL_CHARS, max_size=12),
)
STORY = "The minister said on Tuesday that the talks would resume next week in Geneva, officials said. " * 4


@settings(max_examples=150, derandomize=True, deadline=None, database=None)
@given(url=urls, href=urls, field=st.sampled_from(["text", "html"]))
def test_any_url_in_the_envelope_or_the_page_keeps_the_article(url, href, field):
    page = f'<html><head><link rel="canonical" href="{href}"></head><body><p>{STORY}</p></body></html>'
    value = json.dumps({"url": url, field: page if field == "html" else STORY}).encode()
    article = build_article(parse(value, None), LIMITS)
    assert article.url == url.strip() and article.body
    assert avro.decode(avro.encode("article", to_dict(article)))[1]["id"] == article.id


@pytest.mark.parametrize("where", ["language", "fetched_at", "extra", "metadata"])
def test_a_number_too_long_for_python_is_a_parse_error(where):
    digits = "9" * (sys.get_int_max_str_digits() + 1)
    number = f'{{"k": {digits}}}' if where == "metadata" else digits
    value = f'{{"text": "{STORY}", "{where}": {number}}}'.encode()
    with pytest.raises(ParseError, match="not JSON: a number of more than"):
        parse(value, None)


@settings(max_examples=100, derandomize=True, deadline=None, database=None)
@given(
    fields=st.fixed_dictionaries(
        {"text": st.text(st.characters(exclude_categories=("Cs",)), min_size=1).map(lambda t: STORY + t)},
        optional={
            "url": st.text(st.characters(exclude_categories=("Cs",))),
            "metadata": st.dictionaries(st.text(max_size=3), st.text(max_size=5), max_size=2),
        },
    ),
    encoding=st.sampled_from(["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"]),
    space=st.sampled_from(["", " ", "\n"]),
)
def test_json_in_utf16_or_utf32_without_a_bom_reads_as_in_utf8(fields, encoding, space):
    text = space + json.dumps(fields, ensure_ascii=False)
    assert parse(text.encode(encoding), None) == parse(text.encode("utf-8"), None)


NO_PAGE = ["javascript:void(0)", "about:blank", "mailto:desk@news.example", "data:text/html,x"]
# (href, whether the envelope has a URL): a relative link names a page only when there is a URL to resolve it
links = st.one_of(
    st.tuples(st.sampled_from(NO_PAGE), st.booleans()),
    st.tuples(st.sampled_from(["/", "index.html"]), st.just(False)),
)


@settings(max_examples=40, derandomize=True, deadline=None, database=None)
@given(link=links, words=st.lists(st.sampled_from(["talks", "vote"]), min_size=2))
def test_a_canonical_link_that_names_no_page_gives_no_shared_id(link, words):
    """Two different articles whose pages both point their canonical link at no page keep their own ids."""
    href, with_url = link
    ids = set()
    for n in (1, 2):
        text = f"{' '.join(words)} {n}. {STORY}"
        page = f'<html><head><link rel="canonical" href="{href}"></head><body><p>{text}</p></body></html>'
        envelope = {"html": page, **({"url": f"https://news.example/{n}"} if with_url else {})}
        article = build_article(parse(json.dumps(envelope).encode(), None), LIMITS)
        assert article.canonical_url in (None, envelope.get("url")), article.canonical_url
        ids.add(article.id)
    assert len(ids) == 2
