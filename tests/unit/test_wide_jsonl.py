"""JSONL files in UTF-16/32 with a byte order mark (Windows PowerShell's ``>`` and ``Out-File`` write
UTF-16LE): lines are cut at line-end code units, each passes as its own bytes, and parses."""

from __future__ import annotations

import hashlib
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.cli.inputs import iter_messages
from tests.unit.test_file_io_limits import COMPRESS, LIMIT
from transforms.file_io import Oversized, iter_file, plan_ranges
from transforms.kafka_io import KafkaRecord
from transforms.parse import parse_json_bytes

BOMS = {
    "utf-16-le": b"\xff\xfe",
    "utf-16-be": b"\xfe\xff",
    "utf-32-le": b"\xff\xfe\x00\x00",
    "utf-32-be": b"\x00\x00\xfe\xff",
}
SPACE = " \t\n\r\x0b\x0c"
# characters whose code units hold the byte 0x0A or 0x0D (U+0A05, U+010A, U+0D0A) or that need surrogates
CHARS = st.sampled_from(["a", "é", "\u0a05", "\u010a", "\u0d0a", "\U0001f600", "\r", " ", '"', "{"])


def test_a_powershell_jsonl_file_reads_every_envelope(tmp_path):
    """Only the first line of such a file was read: the byte 0x0A of each line end cut the next line's
    first byte off (every other envelope went to the DLQ as 'not JSON', plus one for the last NUL)."""
    lines = [
        json.dumps({"url": f"https://a.example/{n}", "text": f"Talks in Genève, day {n}"}) for n in range(3)
    ]
    path = tmp_path / "articles.jsonl"
    path.write_bytes(BOMS["utf-16-le"] + "".join(line + "\r\n" for line in lines).encode("utf-16-le"))
    messages = list(iter_messages([str(path)]))
    assert [position.offset for _, position in messages] == [1, 2, 3]
    assert [parse_json_bytes(value).url for value, _ in messages] == [
        f"https://a.example/{n}" for n in range(3)
    ]
    assert [r.path for r in plan_ranges([str(path)], 8)] == [str(path)]  # never cut at a byte 0x0A


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lines=st.lists(
        st.one_of(
            st.text(CHARS, max_size=20),
            st.integers(LIMIT // 4 - 2, LIMIT // 2 + 2).map(lambda n: "\u0a05" * n),
        ),
        min_size=1,
        max_size=5,
    ),
    encoding=st.sampled_from(list(BOMS)),
    end=st.sampled_from(["\n", "\r\n"]),
    suffix=st.sampled_from(list(COMPRESS)),
)
def test_lines_are_cut_at_line_end_code_units_and_kept_or_dead_lettered_whole(
    tmp_path_factory, lines, encoding, end, suffix
):
    """Each line is its own bytes (the first with the mark), numbered as in the file; blank ones are
    skipped; one over the limit is an Oversized whose original is exactly the line."""
    path = tmp_path_factory.mktemp("wide") / f"lines.jsonl{suffix}"
    path.write_bytes(
        COMPRESS[suffix](BOMS[encoding] + "".join(line + end for line in lines).encode(encoding))
    )
    records = {r.offset: r for r in iter_file(str(path), limit=LIMIT)}
    expected = {}
    for number, line in enumerate(lines, start=1):
        body = (BOMS[encoding] if number == 1 else b"") + line.rstrip("\r").encode(encoding)
        if len(body) > LIMIT:
            expected[number] = ("oversized", len(body), hashlib.sha256(body).hexdigest())
        elif line.strip(SPACE):
            expected[number] = ("record", body)
    found = {
        n: ("oversized", r.size, r.sha256) if isinstance(r, Oversized) else ("record", r.value)
        for n, r in records.items()
    }
    assert found == expected
    assert all(isinstance(r, KafkaRecord | Oversized) for r in records.values())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    texts=st.lists(st.text(CHARS, max_size=20), min_size=1, max_size=5),
    encoding=st.sampled_from(list(BOMS)),
    end=st.sampled_from(["\n", "\r\n"]),
    suffix=st.sampled_from(list(COMPRESS)),
)
def test_a_file_without_a_byte_order_mark_is_told_by_its_nuls(tmp_path_factory, texts, encoding, end, suffix):
    """.NET's ``Encoding.Unicode`` writes UTF-16 without a mark: its lines were cut at every byte 0x0A, so
    all but the first went to the DLQ as 'not JSON'. A JSON line starts with two ASCII characters, whose NULs
    tell the encoding (RFC 4627), as the parser tells a message's."""
    lines = [
        json.dumps({"url": f"https://a.example/{n}", "text": "Talks " + t}, ensure_ascii=False)
        for n, t in enumerate(texts)
    ]
    path = tmp_path_factory.mktemp("bomless") / f"lines.jsonl{suffix}"
    path.write_bytes(COMPRESS[suffix]("".join(line + end for line in lines).encode(encoding)))
    records = list(iter_file(str(path), limit=LIMIT))
    assert [r.offset for r in records] == list(range(1, len(lines) + 1))
    assert [r.value for r in records] == [line.encode(encoding) for line in lines]
    assert [parse_json_bytes(r.value).url for r in records] == [
        f"https://a.example/{n}" for n in range(len(lines))
    ]
