"""Single-object encoding without Java: the specification's CRC-64-AVRO vectors, the byte order on the wire,
newsflow 0.1's reversed fingerprints, and the reasons bad messages get."""

import json
import struct

import fastavro
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from structlog.testing import capture_logs

from transforms import avro
from transforms.errors import ParseError
from transforms.parse import parse_message

# Apache Avro's share/test/data/schema-tests.txt: Parsing Canonical Form -> CRC-64-AVRO as a Java long
# (the values Java's SchemaNormalization.parsingFingerprint64 returns, which the Avro project checks).
SPEC_VECTORS = [
    ('"null"', 7195948357588979594),
    ('"boolean"', -6970731678124411036),
    ('"int"', 8247732601305521295),
    ('"long"', -3434872931120570953),
    ('"float"', 5583340709985441680),
    ('"double"', -8181574048448539266),
    ('"bytes"', 5746618253357095269),
    ('"string"', -8142146995180207161),
    ("[]", -1241056759729112623),
    ('["int"]', -5232228896498058493),
    ('["int","boolean"]', 5392556393470105090),
    ('{"name":"foo","type":"record","fields":[]}', -4824392279771201922),
    ('{"name":"x.y.foo","type":"record","fields":[]}', 5916914534497305771),
    ('{"name":"a.b.foo","type":"record","fields":[]}', -4616218487480524110),
    ('{"name":"foo","type":"record","fields":[{"name":"f1","type":"boolean"}]}', 7843277075252814651),
    (
        '{"name":"foo","type":"record","fields":[{"name":"f1","type":"boolean"},{"name":"f2","type":"int"}]}',
        -4860222112080293046,
    ),
    ('{"name":"foo","type":"enum","symbols":["A1"]}', -6342190197741309591),
    ('{"name":"x.y.z.foo","type":"enum","symbols":["A1","A2"]}', -4448647247586288245),
    ('{"name":"foo","type":"fixed","size":15}', 1756455273707447556),
    ('{"name":"x.y.z.foo","type":"fixed","size":32}', -3064184465700546786),
    ('{"type":"array","items":"null"}', -589620603366471059),
    ('{"type":"map","values":"string"}', -8732877298790414990),
    (
        '{"name":"PigValue","type":"record","fields":[{"name":"value","type":["null","int","long","PigValue"]}]}',
        -1759257747318642341,
    ),
]


@pytest.mark.parametrize(("canonical", "java_long"), SPEC_VECTORS)
def test_crc64_avro_matches_the_specification_vectors(canonical, java_long):
    assert avro.as_java_long(avro.crc64_avro(canonical.encode())) == java_long


@pytest.mark.parametrize(("canonical", "java_long"), SPEC_VECTORS)
def test_fastavro_canonical_form_is_a_fixed_point(canonical, java_long):
    """The canonical form we fingerprint is the one the specification gives (fastavro computes it)."""
    parsed = fastavro.parse_schema(json.loads(canonical), named_schemas={})
    assert fastavro.schema.to_parsing_canonical_form(parsed) == canonical


def test_single_object_header_is_little_endian():
    """A test-vector schema (record foo, no fields): the header is C3 01 and the fingerprint little-endian."""
    canonical, java_long = SPEC_VECTORS[11]
    parsed = fastavro.parse_schema(json.loads(canonical), named_schemas={})
    known = avro.KnownSchema("foo", "foo", parsed, avro.crc64_avro(canonical.encode()))
    data = avro.SINGLE_OBJECT.encode(known, {})
    assert data == b"\xc3\x01" + struct.pack("<q", java_long)
    assert data.hex() == "c3017ebe1943c8500cbd"  # -4824392279771201922 as 8 little-endian bytes


def test_every_schema_is_written_with_its_little_endian_fingerprint():
    for name, known in avro.known_schemas().items():
        canonical = fastavro.schema.to_parsing_canonical_form(known.parsed)
        expected = struct.pack("<Q", avro.crc64_avro(canonical.encode()))
        record = {"original": b"", "stage": "s", "error_type": "e", "message": "m", "failed_at": 0}
        data = avro.encode(name, record if name == "dead_letter" else _minimal(name))
        assert data[2:10] == expected
        assert dict(avro.headers(name))["newsflow.schema.fingerprint"] == expected.hex().encode()


def _minimal(name: str) -> dict:
    return {
        "raw_article": {"text": "x"},
        "article": {"id": "a", "body": "b", "dedup": {"content_hash": "h"}},
        "duplicate": {"id": "a", "duplicate_of": "b", "method": "url", "similarity": 1.0},
    }[name]


def test_legacy_reversed_fingerprint_is_read_and_logged_once_per_topic():
    known = avro.known_schemas()["raw_article"]
    legacy = b"\xc3\x01" + known.legacy_fingerprint_bytes + avro.encode("raw_article", {"text": "hi"})[10:]
    avro._legacy_topics.clear()
    with capture_logs() as logs:
        for topic in ("raw.a", "raw.a", "raw.b"):
            decoded = avro.decode_message(legacy, topic=topic)
            assert decoded.legacy and decoded.schema.name == "raw_article" and decoded.record["text"] == "hi"
    events = [e for e in logs if e["event"] == "avro_legacy_fingerprint"]
    assert [e["topic"] for e in events] == ["raw.a", "raw.b"]
    assert not avro.decode_message(avro.encode("raw_article", {"text": "hi"})).legacy


def test_unknown_fingerprint_names_it_and_the_known_schemas():
    data = b"\xc3\x01" + bytes(range(1, 9)) + b"\x00"
    with pytest.raises(ParseError) as err:
        parse_message(data)
    reason = err.value.reason
    assert "unknown Avro schema fingerprint 0102030405060708" in reason
    assert str(avro.as_java_long(struct.unpack("<Q", bytes(range(1, 9)))[0])) in reason
    for known in avro.known_schemas().values():
        assert f"{known.full_name} {known.fingerprint_bytes.hex()}" in reason


def _raw() -> bytes:
    return avro.encode("raw_article", {"url": "https://x.org/é", "text": "Body", "metadata": {"k": "v"}})


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (_raw()[:10], "Avro datum missing: the message ends after the header for newsflow.RawArticle"),
        (_raw()[:-2], "Avro datum cut short"),
        (_raw()[:6], "header cut short: 6 bytes"),
        (_raw()[:10] + b"\x09" + _raw()[11:], "does not match its schema newsflow.RawArticle"),
        (_raw() + b"\x00", "does not match its schema newsflow.RawArticle (fingerprint"),
        (_raw()[:10] + b"\x02\x04\xff\xfe" + _raw()[15:], "UnicodeDecodeError"),
    ],
)
def test_bad_datum_reasons_name_the_schema_and_fingerprint(data, says):
    with pytest.raises(ParseError) as err:
        parse_message(data)
    assert says in err.value.reason
    if len(data) >= 10:
        assert avro.known_schemas()["raw_article"].fingerprint_bytes.hex() in err.value.reason


def test_a_record_of_another_schema_is_not_a_raw_article():
    value = avro.encode("duplicate", _minimal("duplicate"))
    with pytest.raises(ParseError, match="newsflow.DuplicateVerdict .* expected newsflow.RawArticle"):
        parse_message(value)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64), st.sampled_from(sorted(avro.SCHEMA_FILES)), st.booleans())
def test_any_bytes_after_a_known_header_decode_or_fail_as_avro(tail, name, legacy):
    known = avro.known_schemas()[name]
    header = b"\xc3\x01" + (known.legacy_fingerprint_bytes if legacy else known.fingerprint_bytes)
    try:
        decoded = avro.decode_message(header + tail)
    except avro.AvroDecodeError as exc:
        assert known.full_name in str(exc)
        return
    # what decodes is one whole datum (no bytes left over), and the record survives a round trip
    # (compared as written bytes: a NaN double is not equal to itself)
    written = avro.SINGLE_OBJECT.encode(known, decoded.record)
    again = avro.decode_message(written)
    assert avro.SINGLE_OBJECT.encode(known, again.record) == written and not again.legacy


def test_is_avro_claims_the_marker_only():
    assert avro.is_avro(b"\xc3\x01")
    assert not avro.is_avro(b'{"text": "x"}')
    assert not avro.is_avro("\u00c3\u0001".encode())  # the same characters as UTF-8 are other bytes


@pytest.fixture
def older_release(tmp_path, monkeypatch):
    """A released raw_article.avsc without the ``language`` field: the current one added it since."""
    schema = json.loads((avro.SCHEMA_DIR / "raw_article.avsc").read_text())
    schema["fields"] = [f for f in schema["fields"] if f["name"] != "language"]
    (tmp_path / "raw_article.avsc").write_text(json.dumps(schema))
    monkeypatch.setattr(avro, "RELEASED_DIR", tmp_path)
    caches = (avro.released_schemas, avro._by_fingerprint)
    for cached in caches:
        cached.cache_clear()
    yield avro.released_schemas()["raw_article"]
    for cached in caches:
        cached.cache_clear()


def test_records_written_with_a_released_schema_resolve_to_the_current_one(older_release):
    current = avro.known_schemas()["raw_article"]
    assert older_release.fingerprint != current.fingerprint
    value = avro.SINGLE_OBJECT.encode(older_release, {"url": "https://x.org/1", "text": "hi"})
    for data in (value, value[:2] + older_release.legacy_fingerprint_bytes + value[10:]):
        decoded = avro.decode_message(data)
        assert decoded.schema is current
        assert (
            decoded.record["text"] == "hi" and decoded.record["language"] is None
        )  # the new field's default
    assert f"{older_release.describe()} (released)" in avro.known_list()
    with pytest.raises(avro.AvroDecodeError, match=older_release.fingerprint_bytes.hex()):
        avro.decode_message(value[:-1])


def test_released_copies_equal_to_current_add_no_fingerprints():
    fingerprints = {k.fingerprint for k in avro.released_schemas().values()}
    assert not fingerprints & {k.fingerprint for k in avro.known_schemas().values()}
