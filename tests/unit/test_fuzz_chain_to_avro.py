"""Fuzzing the whole chain to the Kafka write: surrogates, overlong UTF-8, NULs and mixed encodings in every
field go through parse, clean, learned boilerplate, dedup and NER, and every output (article, duplicate
verdict or dead letter) is encoded to Avro the way the stream's writer encodes it. Nothing may raise but a
dead letter, and every dead letter keeps the input's bytes.

Three drivers: ``newsflow process``'s LocalChain (many cases, one input at a time), the local stream's
chain (``PooledChain`` with one worker, as ``newsflow stream`` runs a micro-batch) and the Beam
ArticleChain on the FnApiRunner (fewer, larger batches: the keyed stages, Dedup/Fingerprint and
LearnedBoilerplate/KeyBySource, where lone surrogates used to fail every batch).
"""

from __future__ import annotations

import itertools
import json

import apache_beam as beam
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.chain import ArticleChain, LocalChain
from pipelines.options import Limits, Processing
from pipelines.stream import article_message, dead_letter_message, duplicate_message
from tests.beam_runs import run_local_chain
from transforms import avro
from transforms.kafka_io import KafkaRecord
from transforms.records import Article, DeadLetter, DuplicateVerdict

LIMITS = Limits(doc_time_budget=5.0)
STORY = [
    "The minister said on Tuesday that the talks would resume next week in Geneva, officials said.",
    "Angela Merkel met Emmanuel Macron in Paris to discuss the budget of the European Union.",
    "Shares of Siemens rose 3 percent in Frankfurt after the company raised its forecast.",
]
NASTY = st.sampled_from(
    [
        "\ud800",
        "\udfff",
        "\udc80",
        "\x00",
        "\u202e",
        "\ufeff",
        "\U0010ffff",
        "’",
        "é",
        "\\",
        '"',
        "<",
        "&#xD800;",
    ]
)
BAD_BYTES = st.sampled_from(
    [b"\xff", b"\xc0\xaf", b"\xe0\x80\xaf", b"\xed\xa0\x80", b"\x8d\xe6\xf0", b"\xe9", b"\xf0\x28\x8c\x28"]
)
words = st.lists(st.one_of(st.sampled_from(["word", "Geneva", "Paris", "said"]), NASTY), max_size=8)


@st.composite
def inputs(draw) -> bytes:
    """One raw message: an envelope with nasty characters in any field, then stray bytes, or a legacy
    charset for the whole message."""

    def nasty(base: str) -> str:
        return base + "".join(draw(words))

    body = " ".join(draw(st.permutations(STORY))) + " " + nasty("")
    envelope = {"url": nasty("https://fuzz.example/"), "source": nasty("wire"), "language": nasty("en")}
    if draw(st.booleans()):
        envelope["html"] = (
            f"<html><head><title>{nasty('Title ')}</title></head><body><p>{body}</p>"
            f"<p>{nasty('Second paragraph ')} {STORY[0]}</p></body></html>"
        )
    else:
        envelope["text"] = nasty("Headline ") + "\n\n" + body
    envelope["metadata"] = {nasty("k"): nasty("v")}
    value = json.dumps(envelope).encode()
    if draw(st.booleans()):  # raw (not escaped) characters, so stray bytes can land inside them
        value = json.dumps(envelope, ensure_ascii=False).encode("utf-8", "surrogatepass")
    for at, chunk in draw(st.lists(st.tuples(st.integers(0, 1 << 16), BAD_BYTES), max_size=3)):
        at %= len(value)
        value = value[:at] + chunk + value[at:]
    if draw(st.integers(0, 9)) == 0:  # a whole message in a legacy charset
        clean = json.dumps(
            {"text": "Новости. " + body.encode("ascii", "ignore").decode()}, ensure_ascii=False
        )
        value = clean.encode("cp1251")
    return value


OFFSETS = itertools.count()


def write(output: object) -> bytes:
    """Encode an output exactly as the stream's writer does (the Avro encode at the Kafka write)."""
    if isinstance(output, Article):
        return article_message("clean", output).value
    if isinstance(output, DuplicateVerdict):
        return duplicate_message("dups", output).value
    assert isinstance(output, DeadLetter)
    return dead_letter_message("dlq", output).value


def check_letter(letter: DeadLetter, value: bytes) -> None:
    assert letter.error_type in ("ParseError", "CleanError", "LimitExceeded"), letter
    assert letter.original == value and letter.original_size == len(value)


@pytest.fixture(scope="module")
def chain(tmp_path_factory) -> LocalChain:
    processing = Processing(state_dir=str(tmp_path_factory.mktemp("state")))
    return LocalChain(LIMITS, processing)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(value=inputs())
def test_every_input_reaches_the_avro_write_through_the_local_chain(chain, value):
    kind, output = chain.run(KafkaRecord("raw", 0, next(OFFSETS), None, value, 0))
    name, decoded = avro.decode(write(output))
    assert name == {"article": "article", "duplicate": "duplicate", "dead_letter": "dead_letter"}[kind]
    if kind == "dead_letter":
        check_letter(output, value)
        assert decoded["original"] == value


ENCODED: list[bytes] = []


class Encode(beam.DoFn):
    """The stream's encoding step; keeps the bytes in this process (the runner runs in memory, here)."""

    def process(self, output):
        ENCODED.append(write(output))


@settings(max_examples=3, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(values=st.lists(inputs(), min_size=20, max_size=30))
def test_micro_batches_reach_the_avro_write_through_the_local_streams_chain(tmp_path_factory, values):
    values = values + values[:5]  # exact copies: the dedup stage sees duplicates too
    records = [KafkaRecord("raw", i % 4, i, b"key", v, 1_700_000_000_000) for i, v in enumerate(values)]
    processing = Processing(state_dir=str(tmp_path_factory.mktemp("beam-state")))
    (outputs,) = run_local_chain([records], LIMITS, processing)
    encoded = [write(output) for name in ("articles", "duplicates", "dlq") for output in outputs[name]]
    assert len(encoded) == len(records), "every input has exactly one output"
    for value in encoded:
        name, record = avro.decode(value)
        if name == "dead_letter":
            position = record["source_position"]
            assert record["original"] == values[position["offset"]] and record["original_key"] == b"key"


def surrogate_inputs() -> list[bytes]:
    """The issue's reproduction: an unpaired surrogate escape in each field, and their exact copies."""
    body = " ".join(STORY) * 3
    page = f"<html><head><title>A \\ud800 title</title></head><body><p>{body}</p></body></html>"
    fields = [
        {"text": body + " \\ud800"},
        {"text": body, "url": "https://s.example/\\ud800"},
        {"text": body + " source", "source": "wire\\udfff"},
        {"text": body + " metadata", "metadata": {"k\\ud800": "v\\udc80"}},
        {"html": page},
    ]
    values = [json.dumps(f).replace("\\\\u", "\\u").encode() for f in fields]
    return values + values


def test_lone_surrogates_in_every_field_pass_the_keyed_stages_and_the_avro_write(tmp_path):
    values = surrogate_inputs()
    assert all(b"\\ud800" in v or b"\\udfff" in v or b"\\udc80" in v for v in values)
    records = [KafkaRecord("raw", 0, i, None, v, 1_700_000_000_000) for i, v in enumerate(values)]
    ENCODED.clear()
    with beam.Pipeline() as pipeline:
        outputs = pipeline | beam.Create(records) | ArticleChain(LIMITS, Processing(state_dir=str(tmp_path)))
        for name in ("articles", "duplicates", "dlq"):
            _ = outputs[name] | f"Encode{name}" >> beam.ParDo(Encode())
    names = [avro.decode(v)[0] for v in ENCODED]
    assert len(names) == len(values) and "dead_letter" not in names, names
    assert names.count("duplicate") >= 5, "each exact copy is a duplicate, whatever its surrogates"
    articles = [avro.decode(v)[1] for v in ENCODED if avro.decode(v)[0] == "article"]
    assert all("repaired_chars" in a["metadata"] for a in articles)
