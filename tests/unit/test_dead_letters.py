"""The dead-letter builder cannot fail and keeps every original byte: inside the letter when the DLQ topic
takes it, else in the content-addressed store; the crash journal's CrashLoop path uses the same builder."""

from __future__ import annotations

import json

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from pipelines.chain import CleanStep, ParseStep, Stage, _parsed_original, _record_original, run_step
from pipelines.stream import dead_letter_message
from transforms import avro
from transforms.deadletter import Keeping, dead_letter
from transforms.errors import CleanError
from transforms.kafka_io import KafkaRecord
from transforms.original_store import OriginalStore
from transforms.records import Origin, SourcePosition
from transforms.settings import Limits

POS = SourcePosition("raw", 3, 99)
ORIGIN = Origin(b"\xff\xfe not text \xed\xa0\x80", b"\xffkey", (("trace", b"\x00\x01"), ("empty", None)))


def encoded(letter) -> dict:
    name, record = avro.decode(dead_letter_message("dlq", letter).value)
    assert name == "dead_letter"
    return record


def test_any_bytes_and_any_error_message_make_an_encodable_letter():
    class Nasty(Exception):
        def __str__(self) -> str:
            return "bad \ud800 text"

    class Broken(Exception):
        def __str__(self) -> str:
            raise RuntimeError("no")

    for error in (Nasty(), Broken(), CleanError("reason \udfff")):
        record = encoded(dead_letter(ORIGIN, error, POS, stage="entities"))
        assert record["original"] == ORIGIN.value and record["original_key"] == ORIGIN.key
        assert [(h["key"], h["value"]) for h in record["original_headers"]] == list(ORIGIN.headers)
        assert record["original_size"] == len(ORIGIN.value) and record["original_ref"] is None


def test_an_original_too_large_for_the_dlq_goes_to_the_store(tmp_path):
    big = Origin(b"x" * 5000, b"k")
    letter = dead_letter(
        big, CleanError("r"), POS, keeping=Keeping(inline_bytes=1000, store_dir=str(tmp_path))
    )
    record = encoded(letter)
    assert record["original"] == b"" and record["original_size"] == 5000
    assert OriginalStore(tmp_path).get(record["original_ref"]) == big.value


def test_without_a_store_a_too_large_original_is_cut_and_says_so():
    letter = dead_letter(Origin(b"x" * 5000), CleanError("r"), POS, keeping=Keeping(inline_bytes=1000))
    assert len(letter.original) == 1000 and letter.original_size == 5000


def test_later_stages_keep_the_message_as_read_not_a_re_encoding():
    value = json.dumps({"html": "<p>x</p>"}).encode() + b"  "  # the bytes, not a JSON re-encoding of them
    record = KafkaRecord("raw", 1, 4, b"k", value, 0, (("h", b"v"),))
    parsed, letter = run_step(ParseStep(Limits()), record, "parse", _record_original, KafkaRecord.position, 1)
    assert letter is None
    _, letter = run_step(CleanStep(Limits()), parsed, "clean", _parsed_original, lambda p: p.position, 1)
    assert letter.stage == "clean" and letter.original == value and letter.original_key == b"k"


def test_the_crash_loop_path_keeps_the_original_of_a_surrogate_input(tmp_path):
    value = b'{"text": "\\ud800 kills the worker"}'
    record = KafkaRecord("raw", 0, 12, None, value, 0)

    def dies(element):
        raise AssertionError("never called: the journal says the worker died on it")

    stage = Stage(dies, "clean", _record_original, KafkaRecord.position, 3, str(tmp_path))
    stage.setup()
    key = "clean:raw:0:12"
    for _ in range(3):
        stage.journal.begin(key)  # begun three times, never ended: the process died during it
    (output,) = list(stage.process(record))
    stage.teardown()
    letter = output.value
    assert letter.error_type == "CrashLoop" and encoded(letter)["original"] == value


@settings(max_examples=60, deadline=None)
@given(value=st.none() | st.binary(max_size=40), key=st.none() | st.binary(max_size=8))
def test_a_letter_tells_a_tombstone_from_an_empty_value_and_keeps_every_other_value_exact(value, key):
    """Through the parse stage, the Avro wire and back, the letter gives the Kafka value back as read:
    ``None`` for a tombstone, ``b""`` for an empty value, the bytes otherwise."""
    record = KafkaRecord("raw", 0, 5, key, value, 0)
    _, letter = run_step(ParseStep(Limits()), record, "parse", _record_original, KafkaRecord.position, 1)
    assume(letter is not None)  # a value that parses is no dead letter
    wire = encoded(letter)
    assert wire["original_is_null"] is (value is None)
    assert (None if wire["original_is_null"] else wire["original"]) == value
    assert wire["original_key"] == key
