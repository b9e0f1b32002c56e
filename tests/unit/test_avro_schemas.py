import dataclasses
import io
import json
from datetime import UTC, datetime

import fastavro
import pytest

from transforms import avro
from transforms.records import (
    Article,
    Caption,
    DeadLetter,
    Dedup,
    DuplicateVerdict,
    Entity,
    EntityIds,
    Mention,
    RawArticle,
    Removed,
    SourcePosition,
    from_dict,
    to_dict,
    wire_fields,
)

PAIRS = [
    ("raw_article", RawArticle),
    ("article", Article),
    ("duplicate", DuplicateVerdict),
    ("dead_letter", DeadLetter),
]


def _names(schema: dict) -> set[str]:
    return {f["name"] for f in schema["fields"]}


@pytest.mark.parametrize(("name", "cls"), PAIRS)
def test_records_and_schemas_have_the_same_fields(name, cls):
    assert _names(avro.schemas()[name]) == {f.name for f in wire_fields(cls)}


def test_source_position_is_the_same_record_everywhere():
    fields = {f.name for f in dataclasses.fields(SourcePosition)}
    for name in ("article", "duplicate", "dead_letter"):
        (field,) = [f for f in avro.schemas()[name]["fields"] if f["name"] == "source_position"]
        assert {f["name"] for f in field["type"][1]["fields"]} == fields


def test_every_schema_file_parses():
    for filename in avro.SCHEMA_FILES.values():
        json.loads((avro.SCHEMA_DIR / filename).read_text())
    assert set(avro.schemas()) == set(avro.SCHEMA_FILES)


def _article() -> Article:
    body = "Peskov spoke in Moscow."
    return Article(
        id="abc",
        body=body,
        url="https://x.org/a",
        title="T",
        published_at=datetime(2026, 11, 1, tzinfo=UTC),
        authors=["A B"],
        captions=[Caption("A flag.", "X / TASS")],
        credits=["AFP contributed reporting."],
        entities=[
            Entity("Dmitry Peskov", "PERSON", [Mention("Peskov", 0, 6)], 1, 0, 0.9, EntityIds()),
            Entity("Moscow", "LOC", [Mention("Moscow", 16, 22)], 1, 16, 0.5, EntityIds(524901, None, None)),
        ],
        dedup=Dedup("h", "c"),
        boilerplate=[Removed("Subscribe", "appeal", 9)],
        source_position=SourcePosition("articles.raw", 2, 41),
    )


def test_single_object_round_trip_rebuilds_the_record():
    article = _article()
    data = avro.encode("article", to_dict(article))
    assert data[:2] == b"\xc3\x01"
    name, record = avro.decode(data)
    assert name == "article"
    assert from_dict(Article, record) == article


def test_container_file_decodes_with_fastavro_against_the_schema_file():
    buf = io.BytesIO()
    fastavro.writer(buf, avro.schemas()["article"], [to_dict(_article())])
    buf.seek(0)
    (record,) = list(fastavro.reader(buf))
    assert record["entities"][1]["ids"]["geonames"] == 524901


def test_dead_letter_round_trip():
    letter = DeadLetter(b"\xff\x00", "parse", "ParseError", "bad", SourcePosition("t", 0, 1))
    name, record = avro.decode(avro.encode("dead_letter", to_dict(letter)))
    assert name == "dead_letter" and record["original"] == b"\xff\x00"


def test_corrupt_datum_is_a_decode_error():
    data = avro.encode("article", to_dict(_article()))
    with pytest.raises(avro.AvroDecodeError):
        avro.decode(data[:20])


def test_a_dead_letter_of_the_released_schema_reads_with_original_is_null_unknown():
    """A letter written before v3 cannot say whether its empty original was a tombstone: null, not false."""
    released = avro.released_schemas()["dead_letter"]
    letter = to_dict(DeadLetter(b"", "parse", "ParseError", "empty"))
    old = {k: v for k, v in letter.items() if k in _names(released.parsed)}
    name, record = avro.decode(avro.SINGLE_OBJECT.encode(released, old))
    assert name == "dead_letter" and record["original"] == b"" and record["original_is_null"] is None
