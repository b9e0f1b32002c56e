"""Hostile and broken inputs: each ends as an article or a dead letter with a precise reason, never a crash,
a hang, an entity expansion or a network fetch.

The ReDoS guard runs every regular expression of the parse and clean path against pathological strings; the
bound on each is minutes away from what catastrophic backtracking would need, so it checks correctness
(linear behaviour), not speed.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import re
import socket
import threading
import time

import pytest

import transforms
from pipelines.chain import ParseStep, Stage, run_step
from transforms.article import MAX_TITLE_CHARS, build_article
from transforms.errors import CleanError, LimitExceeded, ParseError, PipelineError
from transforms.kafka_io import KafkaRecord
from transforms.parse import parse
from transforms.settings import Limits

STORY = "The minister said on Tuesday that the talks would resume next week in Geneva, officials said. " * 12
LIMITS = Limits()


def env(**fields: object) -> bytes:
    return json.dumps(fields).encode()


def billion_laughs() -> str:
    entities = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10)
    )
    return f'<?xml version="1.0"?><!DOCTYPE lolz [{entities}]><html><body><p>&lol9;</p></body></html>'


def process(value: bytes | None, limits: Limits = LIMITS):
    """The parse and clean path as the pipeline runs it: an Article, or the PipelineError it raised."""
    try:
        return build_article(parse(value, None, max_bytes=limits.max_message_bytes), limits)
    except PipelineError as exc:
        return exc


REJECTED = [
    pytest.param(b"not json at all", ParseError, "not JSON", id="not-json"),
    pytest.param(b'{"text": "unterminated', ParseError, "not JSON", id="truncated-json"),
    pytest.param(b"[" * 100_000 + b"]" * 100_000, ParseError, "not JSON", id="deep-json"),
    pytest.param(None, ParseError, "empty message", id="tombstone"),
    pytest.param(env(text=42), ParseError, "'text' must be a string", id="int-text"),
    pytest.param(env(url=["a"], text=STORY), ParseError, "'url' must be a string", id="list-url"),
    pytest.param(env(text=STORY, metadata={"k": 1}), ParseError, "'metadata' must be a map", id="metadata"),
    pytest.param(b"[1, 2]", ParseError, "must be a JSON object", id="array"),
    pytest.param(env(text=STORY, published_at=True), ParseError, "got bool", id="bool-time"),
    pytest.param(env(text=STORY, fetched_at="soon"), ParseError, "not a valid timestamp", id="bad-time"),
    pytest.param(env(text=STORY, fetched_at=1e30), ParseError, "not a valid timestamp", id="huge-time"),
    pytest.param(env(url="https://a.example/x"), ParseError, "missing body", id="no-body"),
    pytest.param(env(text=" \n\t", html=""), ParseError, "missing body", id="blank-body"),
    pytest.param(b'{"text": "a\x00b"}', ParseError, "not JSON", id="raw-nul-in-json"),
    pytest.param(b"\x00" * 4096, ParseError, "not JSON", id="nul-bytes"),
    pytest.param(b"\xff\xfe\xfd\xc3\x28\xa0 broken", ParseError, "", id="invalid-utf8"),
    pytest.param(env(text="x" * (50 * 1024 * 1024)), LimitExceeded, "limit is", id="50MB"),
    pytest.param(env(html=billion_laughs()), CleanError, "declares its own entities", id="billion-laughs"),
    pytest.param(
        env(html='<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><p>&x;</p>'),
        CleanError,
        "declares its own entities",
        id="xxe",
    ),
    pytest.param(env(html="<div>" * 100_000 + STORY), LimitExceeded, "", id="deep-html"),
    pytest.param(
        env(html="<p " + " ".join(f"a{i}=x" for i in range(1_000_000)) + ">" + STORY),
        LimitExceeded,
        "before parsing",
        id="1M-attributes",
    ),
    pytest.param(
        env(html="<div " + " ".join(f'data-{i}="{i}"' for i in range(100_000)) + "><p>" + STORY),
        LimitExceeded,
        "before parsing",
        id="100k-attributes",
    ),
    pytest.param(env(text=STORY, source="\ud800" * 10), ParseError, "'source' is not text", id="not-text"),
    pytest.param(env(text="\x00\x01\x02\x7f\u202e\u200b"), PipelineError, "", id="only-controls"),
]


@pytest.mark.parametrize(("value", "error", "reason"), REJECTED)
def test_rejected_with_a_precise_reason(value, error, reason):
    outcome = process(value)
    assert isinstance(outcome, error), outcome
    assert reason in outcome.reason and outcome.reason.strip()


def test_dead_letter_keeps_the_input_its_stage_and_reason():
    record = KafkaRecord("raw", 2, 41, None, env(text=42), 0)
    stage = Stage(ParseStep(LIMITS), "parse", lambda r: r.value, KafkaRecord.position, 3)
    result, letter = run_step(stage.step, record, "parse", stage.original, stage.position, 3)
    assert result is None and letter.original == env(text=42) and letter.attempts == 1
    assert (letter.stage, letter.error_type) == ("parse", "ParseError")
    assert "'text' must be a string" in letter.message and letter.source_position.offset == 41


ODD_CHARSETS = [
    pytest.param(('{"text": "café ' + STORY + '"}').encode("latin-1"), "café", id="latin-1"),
    pytest.param(('{"text": "Новости дня. ' + STORY + '"}').encode("cp1251"), "Новости дня", id="cp1251"),
    pytest.param(('{"text": "東京で会議。' + STORY + '"}').encode("shift_jis"), "東京で会議", id="shift-jis"),
    pytest.param(json.dumps({"text": "Привет. " + STORY}).encode("utf-16"), "Привет", id="utf-16-bom"),
    pytest.param(b"\xef\xbb\xbf" + env(text=STORY), "minister", id="utf-8-bom"),
]


@pytest.mark.parametrize(("value", "phrase"), ODD_CHARSETS)
def test_other_charsets_are_decoded_not_rejected(value, phrase):
    article = process(value)
    assert not isinstance(article, PipelineError), article
    assert "minister said" in article.body and phrase in article.body


SURVIVABLE = [
    pytest.param(env(text="\x00\x07\x1b[31m" + STORY + "\u202e\ufeff\x7f"), id="controls-in-text"),
    pytest.param(env(html="<p>\x00" + STORY + "\x00</p>\x00"), id="nul-in-html"),
    pytest.param(
        env(html="<p>" + STORY + "&amp;&lt;&#65;&#x10FFFF;&#xD800;&#0;" * 20_000 + "</p>"), id="refs"
    ),
    pytest.param(env(html="<p>" + STORY + "&nosuchentity;" * 100_000 + "</p>"), id="unknown-entities"),
    pytest.param(env(html="<table><tr><td>" * 5_000 + STORY), id="deep-table"),
    pytest.param(
        env(
            html='<script type="application/ld+json">' + "[" * 90_000 + "]" * 90_000 + "</script><p>" + STORY
        ),
        id="deep-json-ld",
    ),
]


@pytest.mark.parametrize("value", SURVIVABLE)
def test_hostile_markup_is_cleaned_or_rejected_never_crashes(value):
    outcome = process(value)
    if isinstance(outcome, PipelineError):
        assert outcome.reason
        return
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f\u202e\ufeff]", outcome.body), "controls reach the output"
    assert len(outcome.body) < 2_000_000, "entities must never expand"


PATHOLOGICAL = [
    "a" * 50_000,
    " " * 50_000 + "x",
    "\n" * 20_000 + STORY,
    "." * 50_000,
    "http://" + "a." * 20_000 + "!",
    ("By " + "A" * 50 + " ") * 1_000,
    "Photo: " * 5_000,
    "-" * 50_000,
    "<" * 20_000,
    "<!--" * 10_000 + STORY,
    '<p class="' + "a " * 20_000 + '">' + STORY,
    f'<meta name="author" content="{" " * 50_000}!"><p>{STORY}</p>',
    "<a href='" + "/" * 20_000 + "'>x</a>" + STORY,
    "&#" * 20_000,
    "1" * 20_000 + STORY,
]


def test_pathological_documents_finish_within_their_time_budget():
    limits = Limits(doc_time_budget=2.0)
    for text in PATHOLOGICAL:
        for value in (env(text=text), env(html=text)):
            started = time.monotonic()
            outcome = process(value, limits)
            elapsed = time.monotonic() - started
            assert elapsed < 60, f"{text[:30]!r}: {elapsed:.0f}s - not bounded by the time budget"
            assert isinstance(outcome, PipelineError) or outcome.body


def _patterns() -> list[tuple[str, re.Pattern]]:
    """Every compiled regular expression at module level in the transforms package."""
    found = []
    for info in pkgutil.walk_packages(transforms.__path__, transforms.__name__ + "."):
        if info.name.endswith((".train", ".conll")):
            continue  # offline training code, never on the per-article path
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if isinstance(value, re.Pattern) and isinstance(value.pattern, str):
                found.append((f"{info.name}.{name}", value))
    return found


def _attack_strings(pattern: re.Pattern) -> list[str]:
    """Long runs of the pattern's own literal characters and of common separators, then a mismatch."""
    own = sorted({c for c in pattern.pattern if c.isprintable() and c not in "\\()[]{}?*+|^$"})[:12]
    alphabet = sorted(set(own) | set("a A1 .-/:<>&#=\"'\n\t"))
    runs = [c * 2_000 for c in alphabet]
    runs += [(a + b) * 1_000 for a in own for b in own if a != b][:20]
    runs += ["a " * 1_000, "A. " * 700, "<a " * 700, "- " * 1_000]
    return [r + "!" for r in runs]


def test_no_regex_backtracks_catastrophically():
    patterns = _patterns()
    assert len(patterns) >= 10, "the regexes of the clean path were not found"
    for name, pattern in patterns:
        started = time.monotonic()
        for attack in _attack_strings(pattern):
            pattern.search(attack)
        assert time.monotonic() - started < 30, f"{name} ({pattern.pattern[:80]}) backtracks catastrophically"


class _Listener:
    """A local TCP server that records every connection attempt."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()


def test_html_parsing_never_fetches_anything():
    listener = _Listener()
    url = f"http://127.0.0.1:{listener.port}"
    pages = [
        f'<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "{url}/x.dtd"><html><body><p>{STORY}</p>',
        f'<?xml version="1.0"?><!DOCTYPE r SYSTEM "{url}/r.dtd"><html><body><p>{STORY}</p></body></html>',
        f'<!DOCTYPE r [<!ENTITY e SYSTEM "{url}/e">]><html><body><p>&e; {STORY}</p></body></html>',
        f'<html xmlns:xi="http://www.w3.org/2001/XInclude"><body><xi:include href="{url}/inc"/>'
        f"<p>{STORY}</p></body></html>",
        f'<html><head><base href="{url}/"><link rel="stylesheet" href="{url}/s.css">'
        f'<script src="{url}/s.js"></script><meta http-equiv="refresh" content="0;url={url}/r"></head>'
        f'<body><img src="{url}/i.png"><iframe src="{url}/f"></iframe><p>{STORY}</p>'
        f'<object data="{url}/o"></object><svg><image href="{url}/svg"/></svg></body></html>',
    ]
    try:
        outcomes = [process(env(url=f"{url}/article", html=page)) for page in pages]
        time.sleep(0.5)
    finally:
        listener.close()
    assert listener.connections == 0, "parsing an HTML page opened a network connection"
    assert sum(not isinstance(o, PipelineError) for o in outcomes) >= 3, outcomes


def test_a_title_longer_than_a_line_is_cut_and_noted():
    """Salience looks every entity up in the title, and the title is written out: a 2.8 MB ``<title>`` is cut
    to a line's length, at a space, and its length before is noted."""
    title = " ".join(["Breaking news"] * 200_000)
    article = process(
        env(html=f"<html><head><title>{title}</title></head><body><p>{STORY}</p></body></html>")
    )
    assert article.title == title[: len(article.title)] and article.title.endswith("news")
    assert MAX_TITLE_CHARS // 2 < len(article.title) <= MAX_TITLE_CHARS
    assert article.metadata["title_cut"] == str(len(title))
    assert "minister said" in article.body
