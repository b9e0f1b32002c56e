"""Metadata: authors, title, canonical URL, publication date and language."""

from __future__ import annotations

import lxml.html

from transforms.boilerplate.metadata import (
    clean_author,
    detect_language,
    detect_text_language,
    html_authors,
    html_canonical,
    html_published,
    html_title,
    iso639_1,
    split_authors,
)


def tree(head: str, body: str = "") -> lxml.html.HtmlElement:
    return lxml.html.document_fromstring(f"<html><head>{head}</head><body>{body}</body></html>")


def test_authors_from_jsonld_before_meta():
    head = (
        '<script type="application/ld+json">{"@graph": [{"@type": "NewsArticle", '
        '"author": [{"@type": "Person", "name": "Jane Doe"}, {"name": "John Roe"}]}]}</script>'
        '<meta name="author" content="Someone Else">'
    )
    assert html_authors(tree(head)) == ["Jane Doe", "John Roe"]


def test_authors_from_meta_and_rel_author():
    assert html_authors(tree('<meta name="author" content="By Jane Doe, John Roe">')) == [
        "Jane Doe",
        "John Roe",
    ]
    assert html_authors(tree("", '<a rel="author" href="/jd">Jane Doe</a>')) == ["Jane Doe"]
    assert html_authors(tree('<script type="application/ld+json">{not json</script>')) == []


def test_json_ld_nested_past_the_recursion_limit_or_with_a_huge_number_is_skipped_like_malformed_json():
    deep = "[" * 50_000 + "]" * 50_000  # 100 KB, under the JSON-LD size limit
    huge = '{"author": {"name": "Jane Doe"}, "wordCount": ' + "9" * 5_000 + "}"
    for block in (deep, huge):
        head = f'<script type="application/ld+json">{block}</script><meta name="author" content="John Roe">'
        assert html_authors(tree(head)) == ["John Roe"]


def test_author_cleaning():
    assert clean_author("https://facebook.com/someone") is None
    assert split_authors("Anna Smith and Bob Jones") == ["Anna Smith", "Bob Jones"]


def test_title_prefers_open_graph_then_h1_then_title():
    assert (
        html_title(tree('<meta property="og:title" content="OG Title"><title>T - Site</title>')) == "OG Title"
    )
    assert html_title(tree("<title>T - Site</title>", "<h1>Headline</h1>")) == "Headline"
    assert html_title(tree("<title>Only Title</title>")) == "Only Title"
    assert html_title(tree("")) is None


def test_canonical_link_resolved_and_normalised():
    t = tree('<link rel="canonical" href="/story?utm_medium=x&id=1">')
    assert html_canonical(t, "https://Example.com/other") == "https://example.com/story?id=1"
    assert html_canonical(tree(""), "https://example.com/a#b") == "https://example.com/a"
    assert html_canonical(tree(""), None) is None


def test_published_date_by_htmldate():
    t = tree('<meta property="article:published_time" content="2024-03-05T10:00:00+02:00">')
    published = html_published(t, None)
    assert published is not None and published.isoformat().startswith("2024-03-05")
    assert published.utcoffset().total_seconds() == 0
    assert html_published(tree(""), None) is None


def test_language_identification():
    assert detect_language("Der Bundestag hat am Donnerstag ein neues Gesetz beschlossen.") == "de"
    assert detect_language("ok") is None
    lines = ["Home", "Menu", "Le gouvernement a annoncé jeudi une nouvelle réforme des retraites en France."]
    assert detect_text_language(lines) == "fr"


def test_language_codes_are_two_letters():
    assert iso639_1("deu") == "de"
    assert iso639_1("fuv") is None
    assert iso639_1("en") == "en"
    assert iso639_1(None) is None
