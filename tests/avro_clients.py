"""Avro clients in other languages, asked from the tests: hamba/avro (Go), avsc (JavaScript), apache-avro
(Rust) and Apache Avro C.

``tests/clients/build.sh`` (``make clients``, part of ``make setup``) builds them; :func:`build` runs it once
per session (a second run takes about a second). Each client takes ``.avsc`` files and a batch of framed
messages (a 4-byte big-endian length, then a Kafka value) on stdin, one subprocess per batch; the Rust and C
clients also read Avro container files.

All print records in one canonical JSON, which :func:`canonical` makes from what fastavro decodes:
ints and longs as exact integers, ``timestamp-millis`` as epoch milliseconds, floats and doubles as the 16
hex digits of their IEEE-754 bits (``"NaN"`` for any NaN: -0.0, infinities and subnormals stay exact), bytes
in base64, a non-null union value as ``{branch name: value}`` as in Avro's JSON encoding (so the branch is
checked, not guessed), a record with every field of the reader schema.
"""

from __future__ import annotations

import base64
import json
import math
import struct
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CLIENTS = ROOT / "tests" / "clients"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
PRIMITIVES = {"null", "boolean", "int", "long", "float", "double", "bytes", "string"}


def build() -> None:
    """Build the clients (pinned versions; offline once ``make setup`` has run)."""
    done = subprocess.run(["bash", str(CLIENTS / "build.sh")], capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"tests/clients/build.sh failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")


@dataclass(frozen=True)
class Client:
    """One client: the command that starts it."""

    name: str
    command: tuple[str, ...]

    def _run(self, args: list[str], data: bytes) -> bytes:
        done = subprocess.run([*self.command, *args], input=data, capture_output=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"{self.name} {args[0]} failed: {done.stderr.decode()[-3000:]}")
        return done.stdout

    def fingerprints(self, *schemas: Path) -> list[dict[str, str]]:
        out = self._run(["fingerprint", *map(str, schemas)], b"")
        return _lines(out)

    def decode(self, writer: Path, values: Iterable[bytes], reader: Path | None = None) -> list[dict]:
        """One answer per value: ``{"record": canonical JSON}`` or ``{"error": why}``."""
        args = ["decode", str(writer), *([str(reader)] if reader else [])]
        out = self._run(args, frame(values))
        return _lines(out)

    def encode(self, schema: Path, records: Iterable[Any], *, as_is: bool = False) -> list[bytes]:
        """Single-object encoded values of canonical records (longs sent as strings, read exactly)."""
        lines = "".join(json.dumps(_longs_as_text(r), ensure_ascii=False) + "\n" for r in records)
        out = self._run(["encode-as-is" if as_is else "encode", str(schema)], lines.encode("utf-8"))
        return unframe(out)

    def read_file(self, path: Path) -> list[dict]:
        """One answer per record of an Avro container file, then ``{"error": why}`` if one fails to read."""
        return _lines(self._run(["read-file", str(path)], b""))


GO = Client("go (hamba/avro)", (str(CLIENTS / "go" / "target" / "avroclient"),))
JS = Client("js (avsc)", ("node", str(CLIENTS / "js" / "avroclient.js")))
RUST = Client("rust (apache-avro)", (str(ROOT / "build" / "clients" / "rust" / "debug" / "avroclient"),))
C = Client("c (Avro C)", (str(ROOT / "build" / "clients" / "c" / "avroclient"),))


def _lines(out: bytes) -> list[dict]:
    """JSON lines, split on newlines only (``splitlines`` also splits on U+0085 and U+2028 in strings)."""
    return [json.loads(line) for line in out.decode("utf-8").split("\n") if line]


def frame(values: Iterable[bytes]) -> bytes:
    return b"".join(struct.pack(">I", len(v)) + v for v in values)


def unframe(data: bytes) -> list[bytes]:
    values, at = [], 0
    while at < len(data):
        (size,) = struct.unpack_from(">I", data, at)
        values.append(data[at + 4 : at + 4 + size])
        at += 4 + size
    return values


def _longs_as_text(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dict):
        return {k: _longs_as_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_longs_as_text(v) for v in value]
    return value


def double(value: float) -> str:
    return "NaN" if math.isnan(value) else struct.pack(">d", value).hex()


class Schema:
    """An ``.avsc`` file as JSON, with its named types, to walk values along it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.json = json.loads(path.read_text())
        self.named: dict[str, dict] = {}
        self._collect(self.json, self.json.get("namespace", ""))

    def _collect(self, schema: Any, namespace: str) -> None:
        if isinstance(schema, list):
            for branch in schema:
                self._collect(branch, namespace)
        elif isinstance(schema, dict):
            kind = schema["type"]
            if kind in ("record", "enum", "fixed"):
                namespace = schema.get("namespace", namespace)
                full = schema["name"] if "." in schema["name"] else f"{namespace}.{schema['name']}"
                self.named[full] = self.named[schema["name"]] = {**schema, "full_name": full}
                for f in schema.get("fields", []):
                    self._collect(f["type"], namespace)
            elif kind == "array":
                self._collect(schema["items"], namespace)
            elif kind == "map":
                self._collect(schema["values"], namespace)

    def resolve(self, schema: Any) -> Any:
        """A named type's definition for a reference to it; anything else as it is."""
        return self.named[schema] if isinstance(schema, str) and schema in self.named else schema

    def branch_name(self, schema: Any) -> str:
        schema = self.resolve(schema)
        if isinstance(schema, str):
            return schema
        if schema["type"] in ("record", "enum", "fixed"):
            return self.named[schema["name"]]["full_name"]
        return schema["type"]


def canonical(schema: Schema, value: Any, node: Any = None) -> Any:
    """A record as fastavro decoded it, in the clients' canonical JSON (see the module doc)."""
    node = schema.resolve(schema.json if node is None else node)
    if isinstance(node, list):
        if value is None:
            return None
        branches = [b for b in node if b != "null"]
        assert len(branches) == 1, "our unions are [null, X]; a wider one needs a branch hint here"
        return {schema.branch_name(branches[0]): canonical(schema, value, branches[0])}
    kind = node if isinstance(node, str) else node["type"]
    if isinstance(node, dict) and kind in PRIMITIVES:
        if node.get("logicalType") == "timestamp-millis":
            return (value - EPOCH) // timedelta(milliseconds=1)
        return canonical(schema, value, kind)
    if kind in ("null", "boolean", "string", "enum"):
        return value
    if kind in ("int", "long"):
        return int(value)
    if kind in ("float", "double"):
        return double(value)
    if kind == "bytes":
        return base64.b64encode(value).decode()
    if kind == "array":
        return [canonical(schema, v, node["items"]) for v in value]
    if kind == "map":
        return {k: canonical(schema, v, node["values"]) for k, v in value.items()}
    if kind == "record":
        return {f["name"]: canonical(schema, value[f["name"]], f["type"]) for f in node["fields"]}
    raise AssertionError(f"schema type {kind!r} not handled")


def differences(ours: Any, theirs: Any, path: str = "$") -> list[str]:
    """Where two canonical values differ, field by field (empty when they are the same)."""
    if isinstance(ours, dict) and isinstance(theirs, dict):
        found = [f"{path}.{k}: only {'ours' if k in ours else 'theirs'}" for k in ours.keys() ^ theirs.keys()]
        for key in ours.keys() & theirs.keys():
            found += differences(ours[key], theirs[key], f"{path}.{key}")
        return found
    if isinstance(ours, list) and isinstance(theirs, list):
        if len(ours) != len(theirs):
            return [f"{path}: {len(ours)} items in ours, {len(theirs)} in theirs"]
        return [
            d
            for i, (a, b) in enumerate(zip(ours, theirs, strict=True))
            for d in differences(a, b, f"{path}[{i}]")
        ]
    if type(ours) is not type(theirs) or ours != theirs:
        return [f"{path}: ours {ours!r:.80} theirs {theirs!r:.80}"]
    return []
