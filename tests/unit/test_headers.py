"""Kafka headers: what every record carries, a dead letter's context, and no secrets in error messages."""

from hypothesis import given
from hypothesis import strategies as st

from transforms import avro, headers
from transforms.headers import as_dict, dead_letter_headers, input_headers, record_headers, safe_message
from transforms.records import PIPELINE_VERSION, DeadLetter, SourcePosition


def test_record_headers_name_the_schema_and_fingerprint():
    got = as_dict(record_headers("article"))
    known = avro.known_schemas()["article"]
    assert got == {
        "content-type": "avro/binary",
        "newsflow.schema": "newsflow.Article",
        "newsflow.schema.fingerprint": known.fingerprint_bytes.hex(),
        "newsflow.version": PIPELINE_VERSION,
    }


def test_dead_letter_headers_carry_the_failure_context():
    letter = DeadLetter(b"payload", "clean", "CleanError", "no main content", SourcePosition("raw", 3, 41))
    got = as_dict(dead_letter_headers(letter))
    assert got["newsflow.schema"] == "newsflow.DeadLetter"
    assert (got[headers.ERRORS_TOPIC], got[headers.ERRORS_PARTITION], got[headers.ERRORS_OFFSET]) == (
        "raw",
        "3",
        "41",
    )
    assert (got[headers.ERRORS_STAGE], got[headers.ERRORS_TYPE]) == ("clean", "CleanError")
    assert got[headers.ERRORS_MESSAGE] == "no main content"
    assert b"payload" not in b"".join(v for _, v in dead_letter_headers(letter))


def test_dead_letter_without_position_has_no_position_headers():
    got = as_dict(dead_letter_headers(DeadLetter(b"", "parse", "ParseError", "empty", None)))
    assert headers.ERRORS_TOPIC not in got and got[headers.ERRORS_STAGE] == "parse"


def test_safe_message_masks_credentials_and_cuts():
    message = "connect to https://bob:hunter2@db.example:5432/x failed; password=hunter2 api_key: abc123"
    safe = safe_message(message)
    assert "hunter2" not in safe and "abc123" not in safe
    assert "https://***@db.example" in safe and "password=***" in safe
    assert len(safe_message("x" * 5000)) == headers.MAX_MESSAGE_CHARS


@given(st.text(max_size=2000))
def test_safe_message_is_bounded_for_any_text(text):
    assert len(safe_message(text)) <= headers.MAX_MESSAGE_CHARS


def test_input_headers_follow_the_bytes():
    assert as_dict(input_headers(b'{"text": "x"}'))["content-type"] == "application/json"
    value = avro.encode("raw_article", {"text": "x"})
    assert as_dict(input_headers(value))["newsflow.schema"] == "newsflow.RawArticle"
    assert "content-type" not in as_dict(input_headers(b"\xc3\x01broken"))
