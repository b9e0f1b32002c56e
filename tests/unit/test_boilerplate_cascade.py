"""HTML mode's cascade: fallbacks only when the fast pass looks wrong, never blanket removal of a tag that
holds the article, and a choice among candidates by general signals."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.sample_story import PARAGRAPHS as STORY
from transforms.boilerplate import extract_html
from transforms.boilerplate.cascade import Candidate, choose, describe, looks_wrong, text_blocks
from transforms.boilerplate.prescan import HtmlBudget, census

MENU = "<ul>" + "".join(f"<li><a href='/s{i}'>Section {i}</a></li>" for i in range(12)) + "</ul>"


def _page(body: str) -> str:
    return (
        "<html><head><title>Council expands bus network</title></head><body>"
        f"<header>{MENU}</header>{body}<footer><p>© 2024 Example Media.</p></footer></body></html>"
    )


def _paras(paras: list[str]) -> str:
    return "".join(f"<p>{p}</p>" for p in paras)


def test_an_article_inside_a_nav_is_kept_and_the_menu_nav_is_not():
    html = _page(f"<nav>{MENU}</nav><nav><div class='story'>{_paras(STORY)}</div></nav>")
    got = extract_html(html, "https://example.com/news/bus")
    assert got.paragraphs == STORY
    assert not any("Section 3" in p for p in got.paragraphs)


def test_an_article_wrapped_in_a_button_is_kept():
    html = _page(f"<main><button class='reveal'><div>{_paras(STORY)}</div></button></main>")
    assert extract_html(html).paragraphs == STORY


def test_buttons_and_menus_that_hold_little_prose_are_still_removed():
    html = _page(f"<article>{_paras(STORY)}<button>Share this story on social media</button></article>")
    got = extract_html(html)
    assert got.paragraphs == STORY


@settings(deadline=None)  # the first example loads the language model
@given(st.sampled_from(["nav", "button", "footer", "select", "aside"]), st.integers(3, 5))
def test_no_landmark_tag_that_holds_most_of_the_prose_is_dropped(tag, n):
    html = _page(f"<div><{tag}><section>{_paras(STORY[:n])}</section></{tag}></div>")
    assert extract_html(html).paragraphs == STORY[:n]


def test_script_bodies_are_not_counted_as_tags_but_script_attributes_are():
    script = "<script>var x=0; if (a<b " + " ".join(f"c{i}" for i in range(3000)) + ") {x=1}</script>"
    seen = census(f"<html><body>{script}<p>x</p></body></html>", HtmlBudget())
    assert seen.most_attributes < 5
    bomb = "<script " + " ".join(f"a{i}" for i in range(2000)) + ">x</script>"
    assert census(bomb, HtmlBudget()).most_attributes > 1000


def _cand(name: str, blocks: list[str]) -> Candidate:
    return describe(name, blocks, frozenset({"home", "world news"}))


def test_a_fast_pass_that_kept_only_the_intro_is_replaced_by_the_fallback_that_keeps_it_too():
    first = _cand("fast-pass", STORY[:1])
    assert looks_wrong(first, page_prose=400)
    full = _cand("trafilatura-fallbacks", STORY)
    elsewhere = _cand("landmark", [p.replace("bus", "tram") + " More." for p in STORY[::-1]] * 2)
    assert choose(first, [elsewhere, full]).name == "trafilatura-fallbacks"


def test_the_smallest_repair_wins_and_a_good_fast_pass_stays():
    first = _cand("fast-pass", STORY[:1])
    full = _cand("landmark", STORY)
    bloated = _cand("prose-container", STORY + [s + " Reader comment." for s in STORY] * 3)
    assert choose(first, [bloated, full]).name == "landmark"
    good = _cand("fast-pass", STORY)
    assert not looks_wrong(good, page_prose=180)


def test_link_text_counts_against_a_candidate():
    links = _cand("landmark", ["Home", "World news"] * 50)
    assert links.link_density == 1.0
    assert choose(_cand("fast-pass", []), [links]).name == "fast-pass"


def test_text_blocks_split_at_block_elements_and_skip_scripts():
    import lxml.html

    el = lxml.html.fromstring("<div>One <b>two</b><p>Three</p>four<script>x()</script><br>five</div>")
    assert text_blocks(el) == ["One two", "Three", "four", "five"]


def test_a_stray_quote_in_a_tag_does_not_make_the_rest_of_the_page_one_tag():
    """Real pages carry 'data-section="header"" data-label=...': HTML reads the stray quote as a name."""
    tag = '<a href="/login" data-section="header (fixed)"" data-label="Login">Login</a>'
    html = (
        "<html><body>"
        + tag
        + "".join(f"<p class='c{i}'>word {i}</p>" for i in range(1500))
        + "</body></html>"
    )
    seen = census(html, HtmlBudget())
    assert seen.most_attributes <= 4
    assert seen.tags == 1503
