"""Conformance with four Avro implementations newsflow does not use: hamba/avro (Go), avsc (JavaScript),
apache-avro (Rust) and Apache Avro C.

Downstream teams consume our topics and backfill files in any language; Java's library
(``test_avro_java.py``) and Python's ``avro`` are checked elsewhere. Here each client, given only the
``.avsc`` files:

* computes each schema's fingerprint itself, which must be ours (hamba's and apache-avro's differ for
  logical types: library defects, pinned here and documented in the README with their workaround; Avro C
  has no canonical form at all, so its client writes one from the library's parsed schema);
* decodes batches of records fastavro wrote (hypothesis: every schema in ``schemas/``, hostile values,
  every union branch) to the same record, field by field, and rejects a wrong marker or fingerprint;
* resolves records between ``schemas/released/`` and the current schemas in both directions, and of the
  versions in ``schemas/earlier/`` to the current schemas, as fastavro;
* writes raw articles that newsflow's reader decodes to the same record (Go, JavaScript, Rust);
* reads the Avro container files a backfill writes, in every codec the client has (Rust, C).

One subprocess per client and batch; ``make setup`` builds the clients (``tests/clients/build.sh``).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import fastavro
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.avro_clients import EPOCH, GO, JS, RUST, C, Client, Schema, build, canonical, differences
from tests.avro_records import records
from transforms import avro, avro_files

GO_, JS_, RUST_, C_ = (
    pytest.param(GO, id="go-hamba"),
    pytest.param(JS, id="js-avsc"),
    pytest.param(RUST, id="rust-apache-avro"),
    pytest.param(C, id="c-avro-c"),
)
CLIENTS = [GO_, JS_, RUST_, C_]
WRITERS = [GO_, JS_, RUST_]  # Avro C has no single-object writer, and no JSON-to-value reader to feed one
FILE_READERS = [RUST_, C_]
# The codecs both file readers have: the default and the two others Avro C 1.11.1 and apache-avro (built with
# its snappy feature only) share with newsflow; the README says which other codecs each lacks.
FILE_CODECS = ["deflate", "snappy", "null"]
NAMES = list(avro.SCHEMA_FILES)
LONG_STRING = "Ünïcödé 🚀 " * 20_000  # 200,000 code points, ~ 300 KB of UTF-8

FAST = settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)


@pytest.fixture(scope="module", autouse=True)
def clients() -> None:
    build()


def _path(name: str, released: bool = False):
    return (avro.RELEASED_DIR if released else avro.SCHEMA_DIR) / avro.SCHEMA_FILES[name]


def _large(schema: Schema) -> dict:
    """One record with large values: every string and bytes field at the top holds 200,000 code points or
    100 KB, every array field 3,000 items, every map 3,000 keys."""
    record = records(schema).example()
    for f in schema.json["fields"]:
        node = schema.resolve(f["type"])
        kinds = {b if isinstance(b, str) else b["type"] for b in (node if isinstance(node, list) else [node])}
        if "string" in kinds:
            record[f["name"]] = LONG_STRING
        elif "bytes" in kinds:
            record[f["name"]] = bytes(range(256)) * 400
        elif isinstance(node, dict) and node["type"] == "array":
            item = records(schema, node["items"]).example()
            record[f["name"]] = [item] * 3000
        elif isinstance(node, dict) and node["type"] == "map":
            record[f["name"]] = {f"key {i} 🚀": "v" * (i % 7) for i in range(3000)}
    return record


def _check_decodes(client: Client, name: str, values: list[bytes], *, released_reader: bool = False) -> None:
    writer_path, reader_path = _path(name), _path(name, released=released_reader)
    reader = Schema(reader_path)
    answers = client.decode(writer_path, values, reader_path if released_reader else None)
    assert len(answers) == len(values)
    for i, (value, answer) in enumerate(zip(values, answers, strict=True)):
        assert "error" not in answer, f"{client.name} refused record {i}: {answer['error']}"
        if released_reader:  # what fastavro resolves the record to, with the released schema as reader
            ours = fastavro.schemaless_reader(
                _buffer(value), avro.known_schemas()[name].parsed, avro._load(reader_path, name).parsed
            )
        else:
            ours = avro.decode(value)[1]
        want = _as_seen_by(client, canonical(reader, ours))
        diff = differences(want, answer["record"])
        assert not diff, f"{client.name}, {name} record {i}:\n" + "\n".join(diff[:20])


def _as_seen_by(client: Client, value: Any) -> Any:
    """A canonical value as a client with a documented map-key defect returns it (README): avsc 5.7.9 loses
    a key ``__proto__``, Avro C 1.11.1 cuts a key at its first NUL (a later key equal up to there overwrites
    the value, in the first one's place). Everything else must agree."""
    if isinstance(value, dict):
        seen = {}
        for key, item in value.items():
            if not (client is JS and key == "__proto__"):
                seen[key.split("\0")[0] if client is C else key] = _as_seen_by(client, item)
        return seen
    if isinstance(value, list):
        return [_as_seen_by(client, v) for v in value]
    return value


def _buffer(value: bytes):
    import io

    buf = io.BytesIO(value)
    buf.seek(avro.SINGLE_OBJECT_HEADER)
    return buf


@pytest.mark.parametrize("client", CLIENTS)
def test_every_schema_has_our_fingerprint(client: Client):
    """The client's own fingerprint of each current and released schema (its Parsing Canonical Form's
    CRC-64-AVRO, little-endian) is the one newsflow writes (and Java's ``parsingFingerprint64``)."""
    paths = [_path(n) for n in NAMES] + [_path(n, released=True) for n in NAMES]
    for path, answer in zip(paths, client.fingerprints(*paths), strict=True):
        known = avro._load(path, "x")
        assert answer["full_name"] == known.full_name
        spec = fastavro.schema.to_parsing_canonical_form(known.parsed)
        if client is GO:
            # hamba/avro v2.31.0 keeps logicalType in its canonical form: its own fingerprint is not the
            # specification's (README); the workaround (the schema without logical types) gives ours.
            assert answer["canonical"] != spec and json.loads(
                answer["canonical"]
                .replace(',"logicalType":"timestamp-millis"', "")
                .replace('{"type":"long"}', '"long"')
            ) == json.loads(spec)
            assert answer["fingerprint"] != known.fingerprint_bytes.hex(), "hamba fixed: update the README"
            assert answer["fingerprint_without_logical_types"] == known.fingerprint_bytes.hex(), path
        elif client is RUST:
            # apache-avro 0.22.0 strips logicalType but keeps {"type":"long"} where the Parsing Canonical
            # Form has "long" (README); the workaround (the schema without logical types) gives ours.
            assert (
                answer["canonical"] != spec
                and answer["canonical"].replace('{"type":"long"}', '"long"') == spec
            )
            assert answer["fingerprint"] != known.fingerprint_bytes.hex(), (
                "apache-avro fixed: update the README"
            )
            assert answer["fingerprint_without_logical_types"] == known.fingerprint_bytes.hex(), path
        else:
            assert answer["canonical"] == spec, path
            assert answer["fingerprint"] == known.fingerprint_bytes.hex(), path


@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize("name", NAMES)
@settings(FAST)
@given(data=st.data())
def test_client_decodes_what_newsflow_wrote(client: Client, name: str, data: st.DataObject):
    schema = Schema(_path(name))
    batch = data.draw(st.lists(records(schema), min_size=1, max_size=25), label="records")
    _check_decodes(client, name, [avro.encode(name, r) for r in batch])


@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize("name", NAMES)
def test_client_decodes_large_arrays_and_maps(client: Client, name: str):
    schema = Schema(_path(name))
    _check_decodes(client, name, [avro.encode(name, _large(schema))])


RELEASED = [n for n in NAMES if n in avro.released_schemas()]
# Every version a new consumer resolves to the current schema: the released one, and those builds of main
# wrote between releases (schemas/earlier/<name>-<fingerprint>.avsc).
OLDER = [pytest.param(n, _path(n, released=True), id=f"{n}-released") for n in RELEASED] + [
    pytest.param(p.stem.rsplit("-", 1)[0], p, id=p.stem) for p in sorted(avro.EARLIER_DIR.glob("*.avsc"))
]


def _older_values(name: str, older: Path, data: st.DataObject) -> list[bytes]:
    """A batch of records written with an older version, as an older newsflow put them on Kafka."""
    old_known = avro._load(older, name)
    batch = data.draw(st.lists(records(Schema(older)), min_size=1, max_size=10))
    return [old_known.fingerprint_bytes.join([avro.SINGLE_OBJECT_MAGIC, _datum(old_known, r)]) for r in batch]


@pytest.mark.parametrize("client", [GO_, JS_, RUST_])  # Avro C: see the test after the next
@pytest.mark.parametrize(("name", "older"), OLDER)
@settings(FAST)
@given(data=st.data())
def test_new_consumer_resolves_older_records(client: Client, name: str, older: Path, data: st.DataObject):
    """Old records read by a new consumer (defaults filled in), as fastavro resolves them."""
    values = _older_values(name, older, data)
    answers = client.decode(older, values, _path(name))
    current = Schema(_path(name))
    for value, answer in zip(values, answers, strict=True):
        assert "error" not in answer, answer
        diff = differences(_as_seen_by(client, canonical(current, avro.decode(value)[1])), answer["record"])
        assert not diff, "\n".join(diff[:20])


@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize("name", RELEASED)
@settings(FAST)
@given(data=st.data())
def test_old_consumer_resolves_current_records(client: Client, name: str, data: st.DataObject):
    """New records read by an old consumer (new fields skipped), as fastavro resolves them."""
    batch = data.draw(
        st.lists(records(Schema(_path(name))), min_size=1, max_size=10), label="current records"
    )
    _check_decodes(client, name, [avro.encode(name, r) for r in batch], released_reader=True)


@pytest.mark.parametrize(("name", "older"), OLDER)
@settings(FAST)
@given(data=st.data())
def test_avro_c_cannot_resolve_older_records_to_the_current_schema(
    name: str, older: Path, data: st.DataObject
):
    """Pins the Avro C 1.11.1 defect the README documents: its resolver has no field defaults ("Reader
    field X doesn't appear in writer"), and on our schemas ``avro_resolved_writer_new`` crashes on that
    error path; the workaround, decoding with the writer schema the fingerprint names, reads them."""
    values = _older_values(name, older, data)
    with pytest.raises(RuntimeError, match="decode failed"):
        C.decode(older, values, _path(name))
    old = Schema(older)
    for value, answer in zip(values, C.decode(older, values), strict=True):
        assert not differences(_as_seen_by(C, canonical(old, avro.decode(value)[1])), answer["record"])


def _datum(known: avro.KnownSchema, record: dict) -> bytes:
    import io

    buf = io.BytesIO()
    fastavro.schemaless_writer(buf, known.parsed, record)
    return buf.getvalue()


@pytest.mark.parametrize("client", CLIENTS)
def test_client_rejects_a_wrong_marker_or_fingerprint(client: Client):
    good = avro.encode("raw_article", {"url": "https://x.example/", "text": "t"})
    flipped = good[:2] + good[2:10][::-1] + good[10:]  # newsflow 0.1's byte order
    answers = client.decode(_path("raw_article"), [b"\xc3\x02" + good[2:], flipped, good[:9], good])
    assert ["error" in a for a in answers] == [True, True, True, False], answers


@pytest.mark.parametrize("client", WRITERS)
@settings(FAST)
@given(data=st.data())
def test_newsflow_reads_raw_articles_the_client_wrote(client: Client, data: st.DataObject):
    schema = Schema(_path("raw_article"))
    batch = data.draw(st.lists(records(schema), min_size=1, max_size=25), label="records")
    wanted = [canonical(schema, fastavro_roundtrip(r)) for r in batch]
    values = client.encode(_path("raw_article"), wanted)
    assert len(values) == len(batch)
    for i, (value, want) in enumerate(zip(values, wanted, strict=True)):
        name, record = avro.decode(value)
        assert name == "raw_article"
        diff = differences(want, canonical(schema, record))
        assert not diff, f"{client.name} record {i}:\n" + "\n".join(diff[:20])


def fastavro_roundtrip(record: dict) -> dict:
    """The record as a reader gets it back (defaults and all), the value to compare a client's with."""
    return avro.decode(avro.encode("raw_article", record))[1]


@pytest.mark.parametrize("client", [GO_, RUST_])
def test_the_librarys_own_single_object_encoding_is_refused_by_newsflow(client: Client):
    """Pins the hamba/avro and apache-avro defect the README documents: ``soe.Codec`` and
    ``GenericSingleObjectWriter`` write their non-standard fingerprint, which newsflow (like Java's
    ``BinaryMessageDecoder``) does not know; the workaround is read."""
    record = {"url": None, "source": None, "html": None, "text": {"string": "t"}, "fetched_at": None,
              "published_at": None, "language": None, "metadata": {}}  # fmt: skip
    as_is, fixed = (client.encode(_path("raw_article"), [record], as_is=flag)[0] for flag in (True, False))
    assert as_is[10:] == fixed[10:]
    with pytest.raises(avro.AvroDecodeError, match="unknown Avro schema fingerprint"):
        avro.decode(as_is)
    assert avro.decode(fixed)[1]["text"] == "t"


FILE_KINDS = list(avro_files.KINDS)


def _check_file(client: Client, kind: str, batch: list[dict], codec: str, directory: Path) -> None:
    """The backfill's writer puts the batch in a container file; the client reads what fastavro reads."""
    (path,) = avro_files.write_partition(
        directory, avro_files.KINDS[kind], "part", batch, run_id="c0ffee", codec=codec
    )
    schema = Schema(_path(avro_files.KINDS[kind].schema))
    with open(path, "rb") as f:
        want = [_as_seen_by(client, canonical(schema, r)) for r in fastavro.reader(f)]
    answers = client.read_file(Path(path))
    assert [a.get("error") for a in answers] == [None] * len(want), answers[-1]
    for i, (ours, answer) in enumerate(zip(want, answers, strict=True)):
        diff = differences(ours, answer["record"])
        assert not diff, f"{client.name}, {kind} ({codec}) record {i}:\n" + "\n".join(diff[:20])


@pytest.mark.parametrize("client", FILE_READERS)
@pytest.mark.parametrize("codec", FILE_CODECS)
@pytest.mark.parametrize("kind", FILE_KINDS)
@settings(FAST)
@given(data=st.data())
def test_client_reads_the_backfills_container_files(
    client: Client, kind: str, codec: str, data: st.DataObject
):
    schema = Schema(_path(avro_files.KINDS[kind].schema))
    batch = data.draw(st.lists(records(schema), min_size=1, max_size=25), label="records")
    with tempfile.TemporaryDirectory() as directory:
        _check_file(client, kind, batch, codec, Path(directory))


@pytest.mark.parametrize("client", FILE_READERS)
@pytest.mark.parametrize("kind", FILE_KINDS)
def test_client_reads_large_records_in_container_files(client: Client, kind: str, tmp_path: Path):
    schema = Schema(_path(avro_files.KINDS[kind].schema))
    _check_file(client, kind, [_large(schema) for _ in range(2)], avro_files.DEFAULT_CODEC, tmp_path)


def test_avro_cs_own_json_printer_loses_nul_and_nan(tmp_path: Path):
    """Pins the Avro C defect the README documents: ``avro_value_to_json`` cuts a string or bytes at its
    first NUL and cannot print a NaN double, so the C client walks the value itself (``canon``), which
    reads both exactly."""
    letter = {"original": b"ab\x00cd", "stage": "pa\x00rse", "error_type": "E", "message": "m",
              "failed_at": EPOCH}  # fmt: skip
    verdict = {"id": "i", "duplicate_of": "j", "method": "near", "similarity": float("nan")}
    printed = {}
    for kind, record in (("dlq", letter), ("duplicates", verdict)):
        (path,) = avro_files.write_partition(
            tmp_path, avro_files.KINDS[kind], kind, [record], run_id="c0ffee"
        )
        printed[kind] = C._run(["to-json", path], b"").decode()
        (answer,) = C.read_file(Path(path))
        assert "error" not in answer, answer
    assert json.loads(printed["dlq"])["original"] == "ab" and json.loads(printed["dlq"])["stage"] == "pa"
    assert json.loads(printed["duplicates"]) == {"error": "Cannot allocate JSON double"}
