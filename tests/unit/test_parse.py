import json

import pytest

from transforms import avro
from transforms.errors import LimitExceeded, ParseError
from transforms.parse import envelope_json, parse, parse_message, parse_time
from transforms.records import SourcePosition


def _msg(**fields) -> bytes:
    return json.dumps(fields).encode()


def test_json_envelope_all_fields():
    raw = parse_message(
        _msg(
            url="https://example.com/a",
            source="example.com",
            text="Body",
            fetched_at="2026-11-01T10:00:00Z",
            published_at=1762000000,
            language="en",
            metadata={"k": "v"},
        )
    )
    assert raw.url == "https://example.com/a" and raw.text == "Body" and raw.language == "en"
    assert raw.fetched_at.isoformat() == "2026-11-01T10:00:00+00:00"
    assert raw.published_at.year == 2025 and raw.metadata == {"k": "v"}


def test_avro_envelope_is_told_apart_by_content():
    value = avro.encode("raw_article", {"url": "https://x.org/1", "html": "<p>Hi</p>", "metadata": {}})
    raw = parse_message(value)
    assert raw.html == "<p>Hi</p>" and raw.url == "https://x.org/1"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (b"", "empty message"),
        (b"not json", "not JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (_msg(text=5), "'text' must be a string"),
        (_msg(url="u"), "missing body"),
        (_msg(text="   "), "missing body"),
        (_msg(text="x", metadata={"a": 1}), "metadata"),
        (_msg(text="x", fetched_at="yesterday"), "not a valid timestamp"),
        (_msg(text="x", fetched_at=True), "got bool"),
        (b"[" * 100000, "nesting too deep"),
        (b"\xc3\x01" + b"\x00" * 8 + b"x", "unknown Avro schema fingerprint"),
    ],
)
def test_bad_envelopes_give_precise_reasons(value, reason):
    with pytest.raises(ParseError, match=reason):
        parse_message(value)


def test_size_limit():
    with pytest.raises(LimitExceeded, match="limit is 100"):
        parse_message(_msg(text="x" * 200), max_bytes=100)


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        (
            "Die Größe der Straße wurde häufig gewählt, sagte der Bürgermeister am Dienstag. Über die "
            "Änderungen wird im Stadtrat weiter beraten, und die Bürger können Vorschläge einreichen.",
            "cp1252",
        ),
        ("東京都は火曜日、新しい計画を発表しました。市民の意見を募集します。", "shift_jis"),
    ],
)
def test_non_utf8_bytes_are_decoded_by_detection(text, encoding):
    value = json.dumps({"text": text}, ensure_ascii=False).encode(encoding)
    assert parse_message(value).text == text


def test_unknown_fields_are_kept_as_metadata():
    assert parse_message(_msg(text="x", extra=1)).metadata == {"unknown_fields": "extra"}


def test_parse_normalises_and_keeps_position():
    pos = SourcePosition("t", 1, 7)
    parsed = parse(_msg(text="a\u00a0 b\x00\r\n\n\n\nc"), pos)
    assert parsed.raw.text == "a b\n\nc" and parsed.position == pos


def test_epoch_millis_and_seconds_agree():
    assert parse_time(1762000000, "t") == parse_time(1762000000000, "t")


def test_envelope_json_round_trip():
    raw = parse_message(_msg(url="u", text="body", fetched_at="2026-01-01T00:00:00+00:00"))
    assert parse_message(envelope_json(raw)) == raw
