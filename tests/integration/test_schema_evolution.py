"""Schema evolution guard: every schema stays fully compatible with its released copy, and reads every
earlier version builds of main wrote (``schemas/earlier/``), as Java's ``SchemaCompatibility`` judges it;
the guard names the field when it does not."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.java_avro import JavaAvro
from transforms import avro

pytestmark = pytest.mark.java

RELEASED = avro.SCHEMA_DIR / "released"
DIRECTIONS = (
    ("current", "older", "the current schema cannot read records written with the released one"),
    (
        "older",
        "current",
        "consumers on the released schema cannot read records written with the current one",
    ),
)
# Records of an earlier version are on topics; what writes them is gone, so only the current schema reads.
READS_EARLIER = (("current", "older", "the current schema cannot read records written with {older}"),)


def field_path(schema: dict, location: str) -> str:
    """A JSON pointer into a schema (``/fields/12/type/items/fields/2``) as field names (``entities.ids``)."""
    node: object = schema
    names = []
    for step in location.strip("/").split("/"):
        if not step:
            continue
        if isinstance(node, list):
            node = node[int(step)] if step.isdigit() and int(step) < len(node) else None
        elif isinstance(node, dict):
            node = node.get(step)
        if step.isdigit() and isinstance(node, dict) and "name" in node and "type" in node:
            names.append(node["name"])
    return ".".join(names) or "(the record itself)"


def incompatibilities(
    java: JavaAvro, current: Path, older: Path, directions: tuple = DIRECTIONS
) -> list[str]:
    """Every way the two schemas fail compatibility in the directions (by default full compatibility with
    the released copy), one readable line each (empty: compatible)."""
    paths = {"current": current, "older": older}
    problems = []
    for reader, writer, template in directions:
        meaning = template.format(older=older.name)
        answer = java.compat(paths[reader], paths[writer])
        reader_schema = json.loads(paths[reader].read_text())
        for each in answer["incompatibilities"]:
            problems.append(
                f"{current.name}: {meaning}: {each['type']} at field {field_path(reader_schema, each['location'])!r}"
                f" ({each['location']}): {each['message']}"
            )
        assert answer["compatible"] == (not answer["incompatibilities"])
    return problems


def test_every_schema_has_a_released_copy():
    assert sorted(p.name for p in RELEASED.glob("*.avsc")) == sorted(avro.SCHEMA_FILES.values())


@pytest.mark.parametrize("filename", sorted(avro.SCHEMA_FILES.values()))
def test_schema_is_fully_compatible_with_its_release(java_avro, filename):
    problems = incompatibilities(java_avro, avro.SCHEMA_DIR / filename, RELEASED / filename)
    assert not problems, "schema evolution broke compatibility:\n" + "\n".join(problems)


@pytest.mark.parametrize("older", sorted(avro.EARLIER_DIR.glob("*.avsc")), ids=lambda p: p.name)
def test_schema_reads_every_earlier_version(java_avro, older):
    current = avro.SCHEMA_DIR / avro.SCHEMA_FILES[older.stem.rsplit("-", 1)[0]]
    problems = incompatibilities(java_avro, current, older, READS_EARLIER)
    assert not problems, "records on topics that readers cannot resolve:\n" + "\n".join(problems)
    wire = java_avro.fingerprint(older)["fingerprint"].to_bytes(8, "little", signed=True)
    assert older.stem.endswith(f"-{wire.hex()}"), "the file name is not the fingerprint Java computes"


def _changed(tmp_path: Path, change) -> Path:
    schema = json.loads((RELEASED / "article.avsc").read_text())
    change(schema)
    path = tmp_path / "article.avsc"
    path.write_text(json.dumps(schema))
    return path


def _field(schema: dict, name: str) -> dict:
    return next(f for f in schema["fields"] if f["name"] == name)


def test_guard_names_a_field_added_without_default(java_avro, tmp_path):
    current = _changed(tmp_path, lambda s: s["fields"].append({"name": "section", "type": "string"}))
    (problem,) = incompatibilities(java_avro, current, RELEASED / "article.avsc")
    assert "cannot read records written with the released one" in problem
    assert "READER_FIELD_MISSING_DEFAULT_VALUE at field 'section'" in problem


def test_guard_names_a_renamed_field(java_avro, tmp_path):
    current = _changed(tmp_path, lambda s: _field(s, "body").update(name="text"))
    problems = incompatibilities(java_avro, current, RELEASED / "article.avsc")
    assert any("field 'text'" in p and "released one" in p for p in problems), problems
    assert any("field 'body'" in p and "consumers on the released schema" in p for p in problems), problems


def test_guard_names_a_nested_field_whose_type_changed(java_avro, tmp_path):
    def change(schema: dict) -> None:
        entity = _field(schema, "entities")["type"]["items"]
        _field(entity, "count")["type"] = "string"

    problems = incompatibilities(java_avro, _changed(tmp_path, change), RELEASED / "article.avsc")
    assert problems and all("entities.count" in p for p in problems), problems


def test_guard_accepts_a_field_added_with_default(java_avro, tmp_path):
    def change(schema: dict) -> None:
        schema["fields"].append({"name": "section", "type": ["null", "string"], "default": None})

    assert incompatibilities(java_avro, _changed(tmp_path, change), RELEASED / "article.avsc") == []
