"""Selecting dead letters for replay: every criterion, truncated originals, and the CLI's selection flags."""

from __future__ import annotations

from datetime import UTC, datetime

from pipelines.cli import build_parser
from pipelines.cli.commands.dlq import selection_from
from pipelines.cli.dlq import REPLAY_HEADER, Selection, plan
from transforms.records import MAX_ORIGINAL_BYTES

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


def test_truncated_and_empty_originals_are_skipped_with_a_reason():
    cut = letter(original=b"a" * MAX_ORIGINAL_BYTES)
    empty = letter(original=b"")
    replays = list(plan([(0, 0, cut), (0, 1, empty)], Selection()))
    assert [r.describe()["action"] for r in replays] == ["skip", "skip"]
    assert "cut to" in replays[0].skip_reason and "tombstone" in replays[1].skip_reason


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
