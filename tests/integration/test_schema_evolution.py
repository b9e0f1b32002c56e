"""Schema evolution guard: every schema stays fully compatible with its released copy, as Java's
``SchemaCompatibility`` judges it, and the guard names the field when it is not."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.java_avro import JavaAvro
from transforms import avro

pytestmark = pytest.mark.java

RELEASED = avro.SCHEMA_DIR / "released"
DIRECTIONS = (
    ("current", "released", "the current schema cannot read records written with the released one"),
    (
        "released",
        "current",
        "consumers on the released schema cannot read records written with the current one",
    ),
)


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


def incompatibilities(java: JavaAvro, current: Path, released: Path) -> list[str]:
    """Every way the two schemas fail full compatibility, one readable line each (empty: compatible)."""
    paths = {"current": current, "released": released}
    problems = []
    for reader, writer, meaning in DIRECTIONS:
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
