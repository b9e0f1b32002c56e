"""Hypothesis records of an ``.avsc`` schema, with hostile values in every field and every union branch:
what the client conformance tests and the earlier-schema tests write."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import strategies as st

from tests.avro_clients import EPOCH, Schema
from transforms.text_repair import REPLACEMENT, SURROGATES

LONG_MIN, LONG_MAX = -(2**63), 2**63 - 1
INT_MIN, INT_MAX = -(2**31), 2**31 - 1
TS_MIN = datetime(1, 1, 1, tzinfo=UTC)  # the extremes newsflow allows (years 1 to 9999 in UTC)
TS_MAX = datetime(9999, 12, 31, 23, 59, 59, 999000, tzinfo=UTC)


def _repaired(text: str) -> str:
    """What newsflow makes of a string with lone surrogates before it writes it (``text_repair``)."""
    return SURROGATES.sub(REPLACEMENT, text)


HOSTILE_TEXT = st.one_of(
    st.sampled_from(["", "\x00", "a\x00b", "🚀", "\U0010ffff", "\ud83d", "x\udc00y"]),
    st.text(alphabet=st.characters(codec=None, categories=None), max_size=40),
    st.text(alphabet=st.sampled_from('\x00\ud800\udfff\u2028\ufeff\ufffd😀🇫🇷é"\\/\n'), max_size=20),
).map(_repaired)
LONGS = st.one_of(st.sampled_from([LONG_MIN, LONG_MAX, 0, -1, 2**53 + 1]), st.integers(LONG_MIN, LONG_MAX))
INTS = st.one_of(st.sampled_from([INT_MIN, INT_MAX, 0]), st.integers(INT_MIN, INT_MAX))
TIMES = st.one_of(
    st.sampled_from([TS_MIN, TS_MAX, EPOCH, EPOCH - timedelta(milliseconds=1)]),
    st.integers(
        (TS_MIN - EPOCH) // timedelta(milliseconds=1), (TS_MAX - EPOCH) // timedelta(milliseconds=1)
    ).map(lambda ms: EPOCH + timedelta(milliseconds=ms)),
)
DOUBLES = st.one_of(st.sampled_from([float("nan"), float("inf"), float("-inf"), -0.0, 5e-324]), st.floats())


def records(schema: Schema, node: Any = None) -> st.SearchStrategy:
    """Any record of the schema, with hostile values in every field and every union branch."""
    node = schema.resolve(schema.json if node is None else node)
    if isinstance(node, list):
        return st.one_of(*(records(schema, b) for b in node))
    kind = node if isinstance(node, str) else node["type"]
    if isinstance(node, dict) and node.get("logicalType") == "timestamp-millis":
        return TIMES
    simple = {
        "null": st.none(), "boolean": st.booleans(), "int": INTS, "long": LONGS, "double": DOUBLES,
        "string": HOSTILE_TEXT, "bytes": st.binary(max_size=64),
    }  # fmt: skip
    if kind in simple:
        return simple[kind]
    if kind == "enum":
        return st.sampled_from(node["symbols"])
    if kind == "array":
        return st.lists(records(schema, node["items"]), max_size=4)
    if kind == "map":
        return st.dictionaries(HOSTILE_TEXT, HOSTILE_TEXT, max_size=4)
    if kind == "record":
        return st.fixed_dictionaries({f["name"]: records(schema, f["type"]) for f in node["fields"]})
    raise AssertionError(kind)
