"""The chaos harness's judgement of ``CrashLoop`` dead letters (benchmarks/chaos.py): right only for an
input that three kills landed on while it was in flight, since a SIGKILL from the harness and one from the
OOM killer look the same to the crash journal."""

from __future__ import annotations

from benchmarks.chaos import Hostile, Kill, Output, hostile_outcomes, killed_in_flight

BOMB = Hostile("entity_bomb", b"{}", expect=("budget",))


def kills_at(*committed: int) -> list[Kill]:
    return [Kill(at_ms=1_000 * (i + 1), committed={3: c}) for i, c in enumerate(committed)]


def crash_loop(offset: int) -> Output:
    return Output("dlq", 3, offset, 9_999, error_type="CrashLoop", message="the worker process died 3 times")


def test_a_crash_loop_on_an_input_three_kills_landed_on_is_the_journal_at_work():
    in_flight = killed_in_flight({(3, 8): 500}, kills_at(0, 4, 8))
    assert in_flight == {(3, 8): 3}
    outcomes, wrong = hostile_outcomes({(3, 8): BOMB}, [crash_loop(8)], in_flight)
    assert wrong == [] and outcomes == {"entity_bomb": {"dlq:CrashLoop(killed)": 1}}


def test_a_crash_loop_is_wrong_when_fewer_kills_found_the_input_in_flight():
    for landed_ms, committed in ((500, (0, 9, 9)), (2_500, (0, 0, 0))):  # committed past it; produced later
        in_flight = killed_in_flight({(3, 8): landed_ms}, kills_at(*committed))
        assert in_flight[(3, 8)] < 3
        _, wrong = hostile_outcomes({(3, 8): BOMB}, [crash_loop(8)], in_flight)
        assert wrong and "CrashLoop" in wrong[0]
