"""Running a transform on Beam's in-process FnApiRunner and keeping what came out: shared by the unit
tests that check Deduplicate and the stream's chain on a real runner."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import apache_beam as beam
from apache_beam.runners.portability.fn_api_runner import FnApiRunner
from apache_beam.transforms.window import TimestampedValue

_COLLECTED: dict[str, list] = {}


def _collect(name: str, element: Any) -> None:
    _COLLECTED[name].append(element)  # the in-process runner: this module's global, by reference


def run_in_process(
    stamped: Iterable[tuple[Any, float]], transform: beam.PTransform, outputs: Iterable[str]
) -> dict[str, list]:
    """``transform`` over ``(element, timestamp in epoch seconds)`` in one bounded run: every element of
    each named output."""
    names = list(outputs)
    _COLLECTED.clear()
    _COLLECTED.update({name: [] for name in names})
    with beam.Pipeline(runner=FnApiRunner()) as pipeline:
        out = (
            pipeline
            | beam.Create(list(stamped))
            | beam.Map(lambda item: TimestampedValue(item[0], item[1]))
            | transform
        )
        for name in names:
            out[name] | f"Collect{name}" >> beam.Map(lambda e, n=name: _collect(n, e))
    return {name: list(_COLLECTED[name]) for name in names}
