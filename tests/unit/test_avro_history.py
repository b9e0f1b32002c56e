"""Every schema version a build of main wrote stays readable: each version of ``schemas/*.avsc`` in the git
history of HEAD is the current one, the released one or one in ``schemas/earlier/``, and a record written
with an earlier version reads as the current schema, the fields that version lacks holding their defaults."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from fastavro.schema import UnknownType, expand_schema, parse_schema, to_parsing_canonical_form
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.avro_clients import Schema, canonical
from tests.avro_records import records
from transforms import avro

ROOT = avro.SCHEMA_DIR.parent
# schemas/*.avsc files no message was ever written with: the skeleton's SourcePosition, a type the other
# files named until bdc5c0e inlined it.
NOT_MESSAGES = {"source_position.avsc"}
EARLIER = sorted(avro.EARLIER_DIR.glob("*.avsc"))


@dataclass(frozen=True)
class Version:
    """One version of a schema file: a commit that brought it in (newest first), the file, its text."""

    commit: str
    path: str  # e.g. schemas/article.avsc
    text: str


def _git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=True).stdout


@cache
def _history() -> tuple[Version, ...] | None:
    """Every version of ``schemas/*.avsc`` any commit in the history of HEAD holds (merged branches too),
    or None without the whole history (no git, not a checkout of its own, a shallow clone)."""
    try:
        if Path(_git("rev-parse", "--show-toplevel").strip()).resolve() != ROOT.resolve():
            return None
        if _git("rev-parse", "--is-shallow-repository").strip() != "false":
            return None
        log = _git(
            "log",
            "--full-history",
            "-m",
            "--raw",
            "--no-abbrev",
            "--format=commit %H",
            "HEAD",
            "--",
            "schemas",
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    versions: dict[str, Version] = {}
    commit = ""
    for line in log.splitlines():
        if line.startswith("commit "):
            commit = line.split()[1]
        elif line.startswith(":"):
            meta, *paths = line.split("\t")
            blob, path = meta.split()[3], paths[-1]
            if path.count("/") == 1 and path.endswith(".avsc") and blob.strip("0"):
                versions.setdefault(blob, Version(commit, path, _git("cat-file", "-p", blob)))
    return tuple(versions.values())


def _fingerprint(version: Version) -> int:
    """CRC-64-AVRO of the version's Parsing Canonical Form, as its writers put it on the wire."""
    schema = json.loads(version.text)
    try:
        parsed = parse_schema(schema, named_schemas={})
    except UnknownType:
        # Before bdc5c0e a file named a type another file of its commit defined: the canonical form has the
        # definition in place, so expand it in from the files of that commit that stand alone.
        leaves = []
        for path in _git("ls-tree", "--name-only", version.commit, "schemas/").split():
            if path.endswith(".avsc") and path != version.path:
                other = json.loads(_git("show", f"{version.commit}:{path}"))
                try:
                    parse_schema(other, named_schemas={})
                except UnknownType:
                    continue
                leaves.append(other)
        parsed = parse_schema(expand_schema([*leaves, schema])[-1], named_schemas={})
    return avro.crc64_avro(to_parsing_canonical_form(parsed).encode())


def test_every_schema_version_in_the_git_history_is_known_to_readers():
    history = _history()
    if history is None:
        pytest.skip("no complete git history here (CI clones it whole)")
    filenames = {Path(v.path).name for v in history}
    assert filenames - set(avro.SCHEMA_FILES.values()) <= NOT_MESSAGES
    assert set(avro.SCHEMA_FILES.values()) <= filenames
    missing = []
    for version in history:
        name = Path(version.path).stem
        if name + ".avsc" in NOT_MESSAGES:
            continue
        wire = avro.KnownSchema(name, "", {}, _fingerprint(version)).fingerprint_bytes
        writer, legacy = avro._by_fingerprint().get(wire, (None, False))
        if writer is None or writer.name != name or legacy:
            missing.append(
                f"schemas/earlier/{name}-{wire.hex()}.avsc: git show {version.commit[:12]}:{version.path}"
            )
    assert not missing, (
        "versions builds of main wrote that no reader knows (schemas/earlier/README.md):\n"
        + ("\n".join(missing))
    )


@pytest.mark.parametrize("path", EARLIER, ids=lambda p: p.name)
def test_an_earlier_file_is_named_by_its_schema_and_fingerprint_and_kept_once(path: Path):
    name, wire = path.stem.rsplit("-", 1)
    known = avro._load(path, name)
    assert name in avro.SCHEMA_FILES and known.full_name == avro.known_schemas()[name].full_name
    assert wire == known.fingerprint_bytes.hex()
    elsewhere = [avro.known_schemas()[name], *avro.released_schemas().values()]
    assert known.fingerprint not in {k.fingerprint for k in elsewhere}, "current or released: delete it here"
    assert f"{known.describe()} (earlier)" in avro.known_list()


def _as_read(reader: Schema, writer: Schema, value: Any, rnode: Any = None, wnode: Any = None) -> Any:
    """What Avro's schema resolution gives a reader of ``rnode`` for ``value`` written as ``wnode``: the
    writer's values, and each field the writer lacks holding the reader's default (our unions are
    [null, X], as ``canonical`` checks)."""
    rnode = reader.resolve(reader.json if rnode is None else rnode)
    wnode = writer.resolve(writer.json if wnode is None else wnode)
    if isinstance(rnode, list):
        if value is None:
            return None
        (rnode,), (wnode,) = ([b for b in node if b != "null"] for node in (rnode, wnode))
        return _as_read(reader, writer, value, rnode, wnode)
    kind = rnode if isinstance(rnode, str) else rnode["type"]
    if kind == "record":
        written = {f["name"]: f["type"] for f in wnode["fields"]}
        return {
            f["name"]: _as_read(reader, writer, value[f["name"]], f["type"], written[f["name"]])
            if f["name"] in written
            else f["default"]
            for f in rnode["fields"]
        }
    if kind == "array":
        return [_as_read(reader, writer, v, rnode["items"], wnode["items"]) for v in value]
    if kind == "map":
        return {k: _as_read(reader, writer, v, rnode["values"], wnode["values"]) for k, v in value.items()}
    return value


@pytest.mark.parametrize("path", EARLIER, ids=lambda p: p.name)
@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(data=st.data())
def test_a_record_of_an_earlier_version_reads_as_the_current_schema_with_defaults(path: Path, data):
    name = path.stem.rsplit("-", 1)[0]
    written, current = Schema(path), Schema(avro.SCHEMA_DIR / avro.SCHEMA_FILES[name])
    record = data.draw(records(written), label="record")
    decoded = avro.decode_message(avro.SINGLE_OBJECT.encode(avro._load(path, name), record))
    assert decoded.schema is avro.known_schemas()[name] and not decoded.legacy
    assert canonical(current, decoded.record) == canonical(current, _as_read(current, written, record))
