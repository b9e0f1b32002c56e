"""URL canonicalisation shared by extraction and dedup."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from transforms.boilerplate import canonicalize_url


def test_tracking_fragments_case_and_ports():
    url = "HTTPS://WWW.Example.COM:443/a/B?utm_source=x&b=2&a=1&fbclid=zz&gclid=1#frag"
    assert canonicalize_url(url) == "https://www.example.com/a/B?a=1&b=2"


def test_keeps_meaningful_query_and_non_default_port():
    assert (
        canonicalize_url("http://example.com:8080/story?id=3&page=2")
        == "http://example.com:8080/story?id=3&page=2"
    )
    assert canonicalize_url("https://example.com") == "https://example.com/"


def test_idempotent_and_never_raises_on_junk():
    assert canonicalize_url("not a url") == "not a url"
    assert canonicalize_url("http://[::1") == "http://[::1"


@given(st.text(max_size=80))
def test_arbitrary_strings(text):
    once = canonicalize_url(text)
    assert canonicalize_url(once) == once


def test_registered_domain_from_the_bundled_public_suffix_list():
    from transforms.boilerplate.urls import registered_domain

    assert registered_domain("https://www.bbc.co.uk/news/x") == "bbc.co.uk"
    assert registered_domain("https://news.example.com.au/a") == "example.com.au"
    assert registered_domain("http://someone.blogspot.com/post") == "someone.blogspot.com"
    assert registered_domain("http://10.0.0.1:8080/x") == "10.0.0.1"
    assert registered_domain("http://localhost/x") == "localhost"
    assert registered_domain(None) is None
    assert registered_domain("") is None
