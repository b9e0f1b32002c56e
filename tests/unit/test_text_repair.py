"""Lossless text at parse time: lone surrogates and stray bytes are repaired where they are, counted and
noted; a message in one legacy charset is decoded and flagged; nothing that is not text gets through."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from transforms.errors import ParseError
from transforms.parse import parse

BODY = "The minister said it’s “fine” – and the talks in Genève would resume. " * 40


def encodable(strings: list) -> bool:
    """Every string encodes as UTF-8 (what the Avro writer, dedup and the learned boilerplate do)."""
    for s in strings:
        if s is not None:
            s.encode("utf-8")
    return True


def fields_of(value: bytes):
    raw = parse(value, None).raw
    return raw, [raw.url, raw.source, raw.html, raw.text, raw.language, *raw.metadata, *raw.metadata.values()]


@pytest.mark.parametrize("field", ["text", "url", "source", "language"])
def test_a_lone_surrogate_in_any_field_becomes_one_replacement_char(field):
    envelope = {
        "text": BODY,
        "url": "https://a.example/x",
        field: (BODY if field == "text" else "ab") + "\ud800",
    }
    raw, strings = fields_of(json.dumps(envelope).encode())
    assert encodable(strings)
    assert "\ufffd" in getattr(raw, field)
    assert raw.metadata["repaired_chars"] == f"{field}:1"


def test_surrogates_in_metadata_keys_values_and_the_html_title():
    envelope = {
        "html": "<html><head><title>Title \udc80 here</title></head><body><p>" + BODY + "</p></body></html>",
        "metadata": {"k\udfff": "v\ud800\ud800"},
    }
    raw, strings = fields_of(json.dumps(envelope).encode())
    assert encodable(strings)
    assert raw.metadata["repaired_chars"] == "html:1,metadata:3"
    assert "Title \ufffd here" in raw.html


def test_a_valid_surrogate_pair_is_one_character_not_a_repair():
    raw, _ = fields_of(b'{"text": "smile \\ud83d\\ude00 ' + BODY.encode() + b'"}')
    assert "\U0001f600" in raw.text and "repaired_chars" not in raw.metadata


def test_invalid_bytes_in_url_do_not_re_decode_a_utf8_body():
    """The cp775 case: three bytes in ``url`` once made the whole 616 KB message decode as cp775."""
    page = f"<html><head><title>It’s a title</title></head><body><p>{BODY}</p></body></html>" * 200
    value = json.dumps({"url": "https://a.example/XYZ", "html": page}, ensure_ascii=False).encode()
    value = value.replace(b"XYZ", b"X\x8d\xe6\xf0")
    raw, _ = fields_of(value)
    assert raw.html == page, "the UTF-8 body must come through unchanged"
    assert raw.url == "https://a.example/X\ufffd\ufffd\ufffd"
    assert raw.metadata == {"repaired_chars": "url:3"}


def test_a_message_in_one_legacy_charset_is_decoded_and_flagged():
    text = "Новости дня. Правительство заявило во вторник, что переговоры продолжатся. " * 10
    raw, _ = fields_of(json.dumps({"text": text}, ensure_ascii=False).encode("cp1251"))
    assert "переговоры" in raw.text
    assert raw.metadata["charset_repaired"].replace("-", "_") in ("cp1251", "windows_1251")


def test_overlong_utf8_and_nul_escapes_are_repaired_or_stripped_never_kept():
    value = (
        b'{"text": "' + BODY.encode() + b'\xc0\xaf \xe0\x80\xaf \\u0000 end", "url": "https://a/\xc0\x80"}'
    )
    raw, strings = fields_of(value)
    assert encodable(strings)
    assert "\x00" not in raw.text and raw.metadata["repaired_chars"].startswith("text:")


def test_a_field_that_is_mostly_not_text_goes_to_the_dlq_with_its_name():
    value = json.dumps({"text": BODY, "source": "\ud800" * 20 + "ab"}).encode()
    with pytest.raises(ParseError, match="field 'source' is not text"):
        parse(value, None)


def test_repairs_are_counted_in_beam_counters():
    import apache_beam as beam
    from apache_beam.metrics.metric import MetricsFilter

    from pipelines.chain import ParseStep, Stage, _record_original, _record_position
    from transforms.kafka_io import KafkaRecord
    from transforms.settings import Limits

    values = [
        json.dumps({"text": BODY + "\ud800", "url": "u\udfff"}).encode(),
        json.dumps({"text": BODY}).encode(),
    ]
    stage = Stage(ParseStep(Limits()), "parse", _record_original, _record_position, 1)
    pipeline = beam.Pipeline()
    _ = (
        pipeline
        | beam.Create([KafkaRecord("t", 0, i, None, v, 0) for i, v in enumerate(values)])
        | beam.ParDo(stage)
    )
    result = pipeline.run()
    result.wait_until_finish()
    counters = result.metrics().query(MetricsFilter().with_name("parse.repaired_chars"))["counters"]
    assert sum(c.committed for c in counters) == 2


SURROGATE = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
NASTY = st.one_of(SURROGATE, st.sampled_from(["\x00", "\ufffe", "\U0010ffff", "\u202e", "é", "’", "\\"]))
strings = st.text(alphabet=st.one_of(st.characters(), NASTY), max_size=60)
BAD_BYTES = st.sampled_from(
    [b"\xff", b"\xc0\xaf", b"\xe0\x80\xaf", b"\xed\xa0\x80", b"\x8d\xe6\xf0", b"\xe9"]
)


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(
    fields=st.dictionaries(
        st.sampled_from(["url", "source", "text", "html", "language"]), strings, max_size=5
    ),
    metadata=st.dictionaries(strings, strings, max_size=3),
    bad=st.lists(st.tuples(st.integers(0, 10_000), BAD_BYTES), max_size=4),
)
def test_whatever_the_strings_and_bytes_every_parsed_string_is_valid_unicode(fields, metadata, bad):
    value = json.dumps({**fields, "text": fields.get("text", "") + BODY, "metadata": metadata}).encode()
    for at, chunk in bad:  # stray bytes inside the JSON strings (or, harmlessly, its syntax)
        at = at % len(value)
        value = value[:at] + chunk + value[at:]
    try:
        raw, strings_out = fields_of(value)
    except ParseError as exc:
        assert exc.reason
        return
    assert encodable(strings_out)
