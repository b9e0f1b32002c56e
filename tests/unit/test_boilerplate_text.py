"""Text mode: the reference article, removal reasons, and robustness on arbitrary text."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.shared_data import REFERENCE as FIXTURE
from transforms.boilerplate import extract_text
from transforms.boilerplate.text import classify_lines
from transforms.errors import CleanError, LimitExceeded
from transforms.records import Caption

REFERENCE = FIXTURE.with_suffix(".txt")


@pytest.fixture(scope="module")
def reference():
    expected = json.loads(REFERENCE.with_suffix(".expected.json").read_text(encoding="utf-8"))
    return extract_text(REFERENCE.read_text(encoding="utf-8")), expected


def test_reference_title_body_captions_credits(reference):
    got, expected = reference
    assert got.title == expected["title"]
    assert got.paragraphs == expected["body_paragraphs"]
    assert got.captions == [Caption(**c) for c in expected["captions"]]
    assert got.credits == expected["credits"]
    assert got.language == "en"


def test_reference_keeps_no_boilerplate_line(reference):
    got, expected = reference
    kept = "\n".join([got.body, got.title or "", *got.credits, *(c.text for c in got.captions)])
    for line in expected["boilerplate_lines"]:
        assert " ".join(line.split()) not in kept
    removed = {r.text for r in got.removed}
    assert "Dear readers," in removed
    assert all(r.reason.startswith("text:") and r.chars > 0 for r in got.removed)


def test_reference_removals_name_their_signal(reference):
    got, _ = reference
    reasons = {r.text[:30]: r.reason for r in got.removed}
    assert reasons["Subscribers agree to the Priva"] == "text:legal-notice"
    assert reasons["Sign up for our free weekly ne"] == "text:appeal"


def test_menus_around_an_article_are_removed():
    menu = "\n".join(["Home", "World", "Business", "Sports", "Log In", "Subscribe"])
    body = (
        "The city council voted on Tuesday to expand the bus network, adding three routes that will connect "
        "the northern suburbs with the hospital district by the end of next year.\n\n"
        "Officials said the plan, which will cost about 40 million dollars, would be paid for by a regional "
        "transport levy that voters approved in a referendum last spring."
    )
    got = extract_text(f"{menu}\n\nCouncil Expands Bus Network\n\n{body}\n\n{menu}\n© 2024 Example Media")
    assert len(got.paragraphs) == 2 and got.paragraphs[0].startswith("The city council")
    assert got.title == "Council Expands Bus Network"
    assert any(r.reason == "text:legal-notice" for r in got.removed)


def test_no_content_is_a_clean_error():
    with pytest.raises(CleanError):
        extract_text("   \n\n  ")


def test_size_limits():
    with pytest.raises(LimitExceeded):
        extract_text("word " * 100, max_chars=50)
    with pytest.raises(LimitExceeded):
        extract_text("line\n" * 20001)


def test_time_budget():
    with pytest.raises(LimitExceeded):
        extract_text(REFERENCE.read_text(encoding="utf-8"), time_budget=0.0)


def _words(text: str) -> list[str]:
    return text.split()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=600))
def test_arbitrary_text_never_crashes_and_never_grows(text):
    parts = classify_lines(text)
    out = "\n".join([*parts.paragraphs, *parts.credits, *(c.text for c in parts.captions)])
    assert len(out) <= len(text)
    source_words = set(_words(text))
    assert all(w in source_words for w in _words("\n".join(parts.paragraphs)))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(["Home", "Subscribe now!", "The mayor said the plan would cost more.",
                                 "Photo: Reuters", "By Jane Doe", "", "We use cookies.", "x" * 300]),
                max_size=40))  # fmt: skip
def test_line_soup_only_raises_clean_error(lines):
    text = "\n".join(lines)
    try:
        got = extract_text(text)
    except CleanError:
        return
    # The body is some of the input's lines, in order (paragraphs are joined by a blank line, so two kept
    # neighbours make the body one character longer than their input: length is not the measure).
    remaining = iter([line for line in lines if line])
    assert all(paragraph in remaining for paragraph in got.paragraphs)


def test_byline_gives_authors_and_stays_out_of_the_body():
    text = (
        "Home\nNews\n\nBig Story Headline Here\n\nBy Jane Doe and John Roe\n\n"
        "The council voted on Tuesday to expand the bus network, adding three routes that connect the "
        "suburbs with the hospital.\n\nOfficials said the plan, which will cost about 40 million dollars, "
        "would be paid for by a regional transport levy.\n\nMore officials said the contracts would be "
        "signed in March, and that construction would start in the spring."
    )
    got = extract_text(text, "https://Example.com/story?utm_source=feed")
    assert got.authors == ["Jane Doe", "John Roe"]
    assert got.title == "Big Story Headline Here"
    assert len(got.paragraphs) == 3 and "Jane Doe" not in got.body
    assert got.canonical_url == "https://example.com/story"


def test_german_page_with_photo_credit_and_agency_credit():
    text = (
        "Startseite\nPolitik\nWirtschaft\nSport\nAnmelden\n\nBundestag beschließt neues Klimagesetz\n\n"
        "Foto: Max Mustermann / dpa\n\n"
        "Der Bundestag hat am Donnerstag mit großer Mehrheit ein neues Klimagesetz beschlossen, das den "
        "Ausstoß von Treibhausgasen bis 2030 deutlich senken soll.\n\n"
        "Die Opposition kritisierte das Gesetz als unzureichend und kündigte an, vor dem "
        "Bundesverfassungsgericht dagegen zu klagen, falls die Regierung nicht nachbessert.\n\n"
        "Nach Angaben des Umweltministeriums sollen die Maßnahmen schrittweise bis zum Ende des Jahrzehnts "
        "umgesetzt werden, beginnend mit dem Verkehrssektor.\n\n"
        "Mit Material von dpa und Reuters.\n\n"
        "Abonnieren Sie unseren Newsletter und erhalten Sie jeden Morgen die wichtigsten Nachrichten.\n"
        "Datenschutz\nImpressum\n© 2024 Beispiel Verlag"
    )
    got = extract_text(text)
    assert got.language == "de"
    assert got.title == "Bundestag beschließt neues Klimagesetz"
    assert len(got.paragraphs) == 3 and got.paragraphs[0].startswith("Der Bundestag")
    assert got.captions == [Caption(text="", credit="Foto: Max Mustermann / dpa")]
    assert got.credits == ["Mit Material von dpa und Reuters."]
    assert {r.reason for r in got.removed} >= {"text:appeal", "text:legal-notice", "text:short-line"}


ARTICLE = (
    "The council voted on Tuesday to expand the bus network, adding three routes that connect the suburbs "
    "with the hospital district by the end of next year.\n\n"
    "Officials said the plan, which will cost about 40 million dollars, would be paid for by a regional "
    "transport levy that voters approved in a referendum last spring.\n\n"
    "Construction is due to start in March, and the first of the new buses should run before the summer, "
    "the transport authority said in a statement."
)
COMMENTS = (
    "12 Comments\n\nChris Huang — July 10th, 2012, 1:26 am\n\n"
    "This is a great decision and I hope the council will keep investing in the routes we all depend on.\n\n"
    "Reply\n\nElijah Szasz — July 10th, 2012, 1:31 am\n\n"
    "I have waited years for a bus that takes me to the hospital without two changes in the city centre.\n\n"
    "Reply"
)


def test_reader_comments_after_the_article_are_removed():
    got = extract_text(f"Home\nNews\n\nCouncil Expands Bus Network\n\n{ARTICLE}\n\n{COMMENTS}")
    assert len(got.paragraphs) == 3 and got.paragraphs[0].startswith("The council voted")
    assert "hospital without two changes" not in got.body
    comments = [r.text for r in got.removed if r.reason == "text:comments"]
    assert comments[0] == "12 Comments" and any(c.startswith("I have waited years") for c in comments)


def test_a_comment_count_under_the_headline_does_not_end_the_article():
    header = "Council Expands Bus Network\n\n12 Comments\n\nPosted on July 10th, 2012, 1:26 am"
    got = extract_text(f"Home\nNews\n\n{header}\n\n{ARTICLE}")
    assert len(got.paragraphs) == 3 and not any(r.reason == "text:comments" for r in got.removed)
