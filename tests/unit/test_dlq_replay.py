"""Selecting dead letters for replay: every criterion, truncated originals, and the CLI's selection flags."""

from __future__ import annotations

from datetime import UTC, datetime

from pipelines.cli import build_parser
from pipelines.cli.commands.dlq import selection_from
from pipelines.cli.dlq import REPLAY_HEADER, Selection, plan
from transforms.original_store import OriginalStore
from transforms.records import LEGACY_ORIGINAL_CAP

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def letter(stage="parse", error="ParseError", partition=0, offset=0, at=T0, original=b"x", topic="raw"):
    return {
        "original": original,
        "stage": stage,
        "error_type": error,
        "message": f"{error} in {stage}",
        "source_position": {"topic": topic, "partition": partition, "offset": offset},
        "failed_at": at,
        "attempts": 1,
    }


LETTERS = [
    (0, 0, letter()),
    (0, 1, letter(stage="clean", error="CleanError", offset=5)),
    (1, 0, letter(partition=2, offset=7, at=datetime(2026, 1, 2, tzinfo=UTC))),
    (1, 1, letter(stage="entities", error="ValueError", partition=2, offset=9, topic="other")),
]


def chosen(selection: Selection) -> list[tuple[int, int]]:
    return [(r.dlq_partition, r.dlq_offset) for r in plan(LETTERS, selection)]


def test_empty_selection_takes_everything_in_order():
    assert chosen(Selection()) == [(0, 0), (0, 1), (1, 0), (1, 1)]


def test_each_criterion_narrows():
    assert chosen(Selection(stages=frozenset({"clean"}))) == [(0, 1)]
    assert chosen(Selection(error_types=frozenset({"ParseError", "ValueError"}))) == [(0, 0), (1, 0), (1, 1)]
    assert chosen(Selection(source_partition=2)) == [(1, 0), (1, 1)]
    assert chosen(Selection(source_topic="other")) == [(1, 1)]
    assert chosen(Selection(from_offset=5, to_offset=7)) == [(0, 1), (1, 0)]
    assert chosen(Selection(since=datetime(2026, 1, 2, tzinfo=UTC))) == [(1, 0)]
    assert chosen(Selection(until=datetime(2026, 1, 2, tzinfo=UTC))) == [(0, 0), (0, 1), (1, 1)]
    assert chosen(Selection(stages=frozenset({"parse"}), source_partition=0)) == [(0, 0)]


def test_position_criteria_never_match_a_letter_without_position():
    orphan = letter()
    orphan["source_position"] = None
    assert list(plan([(0, 0, orphan)], Selection(source_partition=0))) == []
    assert len(list(plan([(0, 0, orphan)], Selection()))) == 1


def test_replay_carries_the_original_bytes_and_its_dlq_origin():
    (replay,) = plan([(3, 42, letter(original=b"\xff raw bytes"))], Selection())
    assert replay.original == b"\xff raw bytes" and replay.skip_reason is None
    assert replay.header == (REPLAY_HEADER, b"3:42")
    described = replay.describe()
    assert described["action"] == "send" and described["source"] == "raw:0@0" and described["bytes"] == 11
    assert "raw bytes" not in str(described), "the dry run shows size and digest, never the content"


def test_truncated_originals_and_empty_ones_of_unknown_nullness_are_skipped_with_a_reason():
    legacy_cut = letter(original=b"a" * LEGACY_ORIGINAL_CAP)  # written before v2: no original_size
    cut = {**letter(original=b"a" * 10), "original_size": 11}
    empty = {**letter(original=b""), "original_is_null": None}  # written before v3: tombstone or empty?
    replays = list(plan([(0, 0, legacy_cut), (0, 1, cut), (0, 2, empty)], Selection()))
    assert [r.describe()["action"] for r in replays] == ["skip", "skip", "skip"]
    assert "cut to" in replays[0].skip_reason and "10 of 11" in replays[1].skip_reason
    assert "before dead_letter v3" in replays[2].skip_reason


def test_a_tombstone_is_replayed_as_a_null_value_and_an_empty_value_as_empty_bytes():
    tombstone = {**letter(original=b""), "original_is_null": True, "original_key": b"k", "original_size": 0}
    empty = {**letter(original=b""), "original_is_null": False, "original_size": 0}
    value = {**letter(original=b"v"), "original_is_null": False, "original_size": 1}
    replays = list(plan([(0, 0, tombstone), (0, 1, empty), (0, 2, value)], Selection()))
    assert [r.skip_reason for r in replays] == [None, None, None]
    assert [r.value for r in replays] == [None, b"", b"v"]
    assert replays[0].key == b"k" and replays[0].describe()["null_value"] is True
    assert "null_value" not in replays[1].describe()


def test_replay_sends_the_original_key_and_headers_with_its_own_mark_last():
    headers = [{"key": "trace", "value": b"abc"}, {"key": REPLAY_HEADER, "value": b"0:1"}]
    record = {**letter(stage="entities"), "original_key": b"k1", "original_headers": headers}
    (replay,) = plan([(2, 7, record)], Selection())
    assert replay.key == b"k1"
    assert replay.headers == [("trace", b"abc"), (REPLAY_HEADER, b"2:7")]


def test_an_original_in_the_store_is_read_back_and_checked(tmp_path):
    big = b"x" * 5000
    ref = OriginalStore(tmp_path).put(big)
    record = {**letter(original=b""), "original_size": len(big), "original_ref": ref}
    (without,) = plan([(0, 0, record)], Selection())
    assert "--state-dir" in without.skip_reason
    (replay,) = plan([(0, 0, record)], Selection(), OriginalStore(tmp_path))
    assert replay.skip_reason is None and replay.original == big
    OriginalStore(tmp_path).path(ref).write_bytes(b"tampered")
    (broken,) = plan([(0, 0, record)], Selection(), OriginalStore(tmp_path))
    assert "unreadable" in broken.skip_reason


def test_cli_flags_build_the_selection():
    args = build_parser().parse_args(
        ["dlq", "replay", "--stage", "parse", "--stage", "clean", "--error-type", "ParseError",
         "--source-partition", "3", "--from-offset", "10", "--to-offset", "20",
         "--since", "2026-01-01T00:00:00", "--until", "2026-01-03T00:00:00Z", "--dry-run"]
    )  # fmt: skip
    selection = selection_from(args)
    assert selection.stages == {"parse", "clean"} and selection.error_types == {"ParseError"}
    assert (selection.source_partition, selection.from_offset, selection.to_offset) == (3, 10, 20)
    assert selection.since == T0 and selection.until == datetime(2026, 1, 3, tzinfo=UTC)
    assert args.dry_run and args.to_topic == "articles.raw"
