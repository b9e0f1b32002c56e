"""The hold-until-the-watermark bookkeeping of the runner-state dedup stages (``beam._Held``), over
in-memory stand-ins for Beam's bag state, read-modify-write state and timer: the pure logic of when the
timer is due and what each firing releases."""

from __future__ import annotations

from typing import Any

from apache_beam.utils.timestamp import Timestamp

from transforms.dedup.beam import _Held


class _Bag:
    def __init__(self) -> None:
        self.items: list[Any] = []

    def add(self, item: Any) -> None:
        self.items.append(item)

    def read(self) -> list[Any]:
        return list(self.items)

    def clear(self) -> None:
        self.items = []


class _Value:
    def __init__(self) -> None:
        self.value: Any = None

    def write(self, value: Any) -> None:
        self.value = value

    def read(self) -> Any:
        return self.value

    def clear(self) -> None:
        self.value = None


class _Timer:
    def __init__(self) -> None:
        self.at: Timestamp | None = None

    def set(self, at: Timestamp) -> None:
        self.at = at


def _held() -> _Held:
    return _Held(_Bag(), _Value(), _Timer())


def test_the_timer_waits_for_the_earliest_held_time_and_releases_only_what_is_due() -> None:
    held = _held()
    for micros in (30, 10, 20):
        held.add((micros, f"e{micros}"), micros)
    assert held.timer.at == Timestamp(micros=10)
    assert held.due(Timestamp(micros=20)) == [(10, "e10"), (20, "e20")]
    assert held.bag.read() == [(30, "e30")]
    assert (held.until.read(), held.timer.at) == (30, Timestamp(micros=30))
    assert held.due(Timestamp(micros=30)) == [(30, "e30")]
    assert held.bag.read() == [] and held.until.read() is None


def test_with_latest_the_timer_waits_for_the_latest_time_and_everything_goes_at_once() -> None:
    held = _held()
    for micros, tok in ((20, "b"), (30, "c"), (10, "a")):
        held.add(tok, micros, latest=True)
    assert (held.until.read(), held.timer.at) == (30, Timestamp(micros=30))
    assert sorted(held.take()) == ["a", "b", "c"]
    assert held.bag.read() == [] and held.until.read() is None
    held.add("d", 5, latest=True)  # after a take, the next element arms the timer again
    assert held.timer.at == Timestamp(micros=5)
