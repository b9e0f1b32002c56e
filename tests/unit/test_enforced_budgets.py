"""Budgets that stop work instead of judging it afterwards: the HTML pre-scan refuses a page before lxml
sees it, and the CPU watchdog stops a stage where it is. Bounds here are far above the expected times; the
times themselves are measured by benchmarks/chaos.py."""

from __future__ import annotations

import json
import threading
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.chain import ParseStep, Stage, run_step
from transforms.boilerplate.prescan import HtmlBudget, census, check
from transforms.errors import LimitExceeded
from transforms.kafka_io import KafkaRecord
from transforms.records import SourcePosition
from transforms.settings import Limits
from transforms.watchdog import Expired, cpu_limit

STORY = "The minister said on Tuesday that the talks would resume next week in Geneva. " * 10
POS = SourcePosition("t", 0, 5)


def test_census_counts_tags_and_attributes_like_the_parser():
    html = (
        '<!DOCTYPE html><html lang="en"><!-- <p a b c d> --><body class="x y" data-json=\'{"a": "<b>"}\'>'
        '<p title="a > b" hidden>text</p><br/><img src=x.png alt="">'
    )
    seen = census(html, HtmlBudget())
    assert (seen.tags, seen.attributes, seen.most_attributes) == (5, 7, 2)


@pytest.mark.parametrize(
    ("html", "reason"),
    [
        ("<p " + " ".join(f"a{i}=x" for i in range(1_000_000)) + ">x</p>", "over 1000 attributes"),
        ('<p title="a>b" ' + " ".join(f"a{i}" for i in range(2000)) + ">x</p>", "over 1000 attributes"),
        ("<p " + " ".join(f'd{i}="<"' for i in range(1500)) + ">x</p>", "over 1000 attributes"),
        (("<i " + " ".join(f"a{i}=1" for i in range(12)) + ">") * 45_000, "over 500000 attributes"),
        ("<b>x</b>" * 300_000, "over 50000 elements"),
    ],
    ids=["1M-attributes", "quoted-gt", "quoted-lt", "many-attributes", "many-elements"],
)
def test_pages_over_the_budget_are_refused_before_parsing(html, reason):
    started = time.process_time()
    with pytest.raises(LimitExceeded, match=reason):
        check(html, HtmlBudget())
    assert time.process_time() - started < 20, "the pre-scan must be linear"


def test_a_real_sized_page_passes():
    page = "<html><body>" + ("<div class='c' id='d'><p>" + STORY + "</p></div>") * 3000 + "</body></html>"
    check(page, HtmlBudget())
    assert census(page, HtmlBudget()).tags == 6002


TAG_PARTS = st.sampled_from([" a", " b=1", ' c="x y"', " d='<'", ' e=">"', " /", "=", '"', " f=g"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(TAG_PARTS, max_size=12), max_size=12), st.integers(0, 4))
def test_check_refuses_exactly_the_pages_whose_count_blows_the_budget(tags, cap):
    """The length bounds that let real pages skip counting never pass a page the exact count refuses, nor
    refuse one it passes (a small budget, so generated pages land on both sides of every limit)."""
    budget = HtmlBudget(max_tags=8, max_attributes=3 * cap + 4, max_attributes_per_tag=cap)
    html = "<body>" + "".join("<p" + "".join(parts) + ">text</p>" for parts in tags) + "</body>"
    seen = census(html, budget)
    blown = (
        seen.tags > budget.max_tags
        or seen.attributes > budget.max_attributes
        or seen.most_attributes > budget.max_attributes_per_tag
    )
    if blown:
        with pytest.raises(LimitExceeded):
            check(html, budget)
    else:
        check(html, budget)


def test_the_watchdog_stops_pure_python_work_where_it_is():
    started = time.process_time()
    with pytest.raises(Expired), cpu_limit(0.3):
        while True:
            pass
    assert time.process_time() - started < 5


def test_the_watchdog_fires_again_when_the_work_swallows_its_exception():
    started = time.process_time()
    swallowed = 0
    with pytest.raises(Expired), cpu_limit(0.2):
        while True:
            try:
                while True:
                    pass
            except BaseException:  # noqa: BLE001 - a library that swallows everything
                swallowed += 1
                if swallowed >= 3:
                    raise
    assert swallowed == 3 and time.process_time() - started < 10


def test_the_watchdog_leaves_nothing_pending_after_the_block():
    for _ in range(50):  # a block that ends right at its limit must not leak an Expired afterwards
        try:
            with cpu_limit(0.01):
                deadline = time.process_time() + 0.01
                while time.process_time() < deadline:
                    pass
        except Expired:
            pass
    total = 0
    for i in range(200_000):  # bytecode after the blocks: a pending Expired would surface here
        total += i
    assert total > 0


def test_the_watchdog_watches_each_thread_on_its_own_clock():
    results = {}

    def busy(name: str, seconds: float) -> None:
        try:
            with cpu_limit(seconds):
                end = time.thread_time() + 0.2
                while time.thread_time() < end:
                    pass
            results[name] = "done"
        except Expired:
            results[name] = "expired"

    threads = [
        threading.Thread(target=busy, args=("short", 0.05)),
        threading.Thread(target=busy, args=("long", 30)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert results == {"short": "expired", "long": "done"}


def test_run_step_turns_a_stopped_step_into_a_limit_exceeded_dead_letter():
    def spin(element):
        while True:
            pass

    result, letter = run_step(spin, "elem", "clean", lambda e: e.encode(), lambda e: POS, 3, cpu_budget=0.2)
    assert result is None and (letter.stage, letter.error_type) == ("clean", "LimitExceeded")
    assert "stopped by the watchdog" in letter.message and letter.attempts == 1


def test_an_attribute_bomb_is_dead_lettered_with_its_complete_original():
    html = "<p " + " ".join(f"a{i}=x" for i in range(1_000_000)) + ">" + STORY + "</p>"
    value = json.dumps({"url": "https://bomb.example/", "html": html}).encode()
    record = KafkaRecord("raw", 1, 7, b"key", value, 0, (("trace", b"1"),))
    limits = Limits(doc_time_budget=2.0)
    from pipelines.chain import CleanStep, _parsed_original, _parsed_position

    parse = Stage(ParseStep(limits), "parse", lambda r: r.origin(), KafkaRecord.position, 1)
    parsed, letter = run_step(parse.step, record, "parse", parse.original, parse.position, 1, cpu_budget=3.0)
    assert letter is None
    result, letter = run_step(
        CleanStep(limits), parsed, "clean", _parsed_original, _parsed_position, 1, cpu_budget=3.0
    )
    assert result is None and letter.error_type == "LimitExceeded" and "before parsing" in letter.message
    assert letter.original == value and letter.original_key == b"key"
    assert [(h.key, h.value) for h in letter.original_headers] == [("trace", b"1")]


def test_ner_sees_spaces_for_runs_too_long_to_be_words_with_offsets_kept():
    from transforms.budget import MAX_TOKEN_CHARS, mask_long_tokens

    text = "In Paris " + "<" * (MAX_TOKEN_CHARS * 200) + " and Geneva " + "x" * MAX_TOKEN_CHARS
    masked = mask_long_tokens(text)
    assert len(masked) == len(text) and masked.index("Geneva") == text.index("Geneva")
    assert "<" not in masked and masked.endswith("x" * MAX_TOKEN_CHARS), "a run at the limit is kept"
