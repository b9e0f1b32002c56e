"""Text mode on text that is already clean: an article with no page furniture at all, made of real article
paragraphs (Scrapinghub's expected bodies) with subheadings and lists of short items between them, keeps
nearly all of it, in any case (a feed that upper-cases its copy must not lose its articles)."""

from __future__ import annotations

import json
import re
from functools import cache

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.shared_data import SCRAPINGHUB
from transforms.boilerplate import signals as sig
from transforms.boilerplate.text import classify_lines, split_lines

LATIN = re.compile(r"^[A-Za-z0-9 ,.;:'’()&%$–-]+$")
ENGLISH_STOPWORDS = 0.3  # one language per generated article: English prose has this many function words
KEPT_SHARE = 0.9  # of the document's characters
KEPT_SHORT = 0.8  # of its subheadings and list items


def _names_itself_furniture(line: str) -> bool:
    tokens = sig.words(line)
    return bool(
        sig.URL_LIKE.search(line)
        or sig.split_caption_credit(line)
        or sig.is_credit_only(line)
        or sig.is_date_like(line)
        or sig.appeal_ratio(tokens)
        or sig.starts_imperative(tokens)
        or sig.vocabulary_hits(tokens, sig.LEGAL_WORDS)
    )


@cache
def real_lines() -> tuple[list[str], list[str]]:
    """Prose paragraphs (25+ words, a full sentence) and short lines (2 to 7 words: subheadings, list
    items) from the benchmark's expected article bodies, English-looking ones only. Short lines that name
    themselves furniture (a link, a photo credit, a date line, an appeal) are left out."""
    truth = json.loads((SCRAPINGHUB / "ground-truth.json").read_text(encoding="utf-8"))
    lines = sorted({line for v in truth.values() for line in split_lines(v["articleBody"])})
    english = sig.stop_words("en")
    prose = [
        ln
        for ln in lines
        if len(ln.split()) >= 25
        and ln.endswith(".")
        and LATIN.match(ln)
        and sig.stopword_ratio(sig.words(ln), english) >= ENGLISH_STOPWORDS
    ]
    short = [
        ln
        for ln in lines
        if 2 <= len(ln.split()) <= 7
        and LATIN.match(ln)
        and not ln[0].isdigit()
        and not _names_itself_furniture(ln)
    ]
    return prose, short


PROSE, SHORT = real_lines()


@st.composite
def clean_articles(draw) -> list[str]:
    """Two opening paragraphs, then 2 to 6 sections: a subheading, a list of 3 to 8 short items (in most), paragraphs.

    Every list sits between paragraphs: a run of short lines after the last paragraph could as well be a
    page's footer, but one inside the article is the article's."""
    prose, short = PROSE, SHORT
    sections = draw(st.integers(2, 6))
    paragraphs = iter(
        draw(
            st.lists(
                st.sampled_from(prose), min_size=3 * sections + 2, max_size=3 * sections + 2, unique=True
            )
        )
    )
    items = iter(
        draw(st.lists(st.sampled_from(short), min_size=9 * sections, max_size=9 * sections, unique=True))
    )
    doc = [next(paragraphs), next(paragraphs)]
    for _ in range(sections):
        doc.append(next(items))
        if draw(st.booleans()) or draw(st.booleans()):
            doc.extend(next(items) for _ in range(draw(st.integers(3, 8))))
        doc.extend(next(paragraphs) for _ in range(draw(st.integers(1, 3))))
    return doc


def _kept(doc: list[str], text: str) -> tuple[float, float]:
    kept = set(classify_lines(text).paragraphs)
    lines = split_lines(text)
    short = [ln for ln in lines if len(ln.split()) <= 7]
    share = sum(len(ln) for ln in lines if ln in kept) / sum(map(len, lines))
    return share, (sum(ln in kept for ln in short) / len(short) if short else 1.0)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(clean_articles())
def test_clean_text_with_headings_and_lists_keeps_nearly_all_of_it(doc):
    share, short = _kept(doc, "\n".join(doc))
    assert share >= KEPT_SHARE and short >= KEPT_SHORT, (share, short)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(clean_articles())
def test_upper_cased_clean_text_keeps_nearly_all_of_it(doc):
    share, short = _kept(doc, "\n".join(doc).upper())
    assert share >= KEPT_SHARE and short >= KEPT_SHORT, (share, short)


FURNITURE = [
    "Share on Facebook",
    "Most read",
    "About us",
    "Contact",
    "Privacy policy",
    "© 2024 Example Media. All rights reserved.",
    "Subscribe now",
    "Read more",
]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(clean_articles(), st.lists(st.sampled_from(FURNITURE), min_size=1, max_size=5, unique=True))
def test_clean_text_with_furniture_appended_keeps_the_article_and_drops_the_furniture(doc, furniture):
    """A feed's body with the site's short footer lines appended: the article stays, the footer goes.
    (A long appeal appended, "Sign up for our newsletter to ...", is left to the classifier: a deals
    article's "Save $31 if you get ..." reads the same way.)"""
    parts = classify_lines("\n".join([*doc, *furniture]))
    assert not set(parts.paragraphs) & set(furniture)
    kept = set(parts.paragraphs)
    assert sum(len(ln) for ln in doc if ln in kept) / sum(map(len, doc)) >= KEPT_SHARE
