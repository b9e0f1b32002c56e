"""Running a transform on Beam's in-process FnApiRunner and keeping what came out: shared by the unit
tests that check Deduplicate and the stream's chain on a real runner (:func:`run_local_chain`: the local
stream's, as ``newsflow stream`` runs one micro-batch with one worker)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import apache_beam as beam
from apache_beam.runners.portability.fn_api_runner import FnApiRunner
from apache_beam.transforms.window import TimestampedValue

from pipelines.options import Processing
from transforms.kafka_io import KafkaRecord, PartitionRange
from transforms.settings import KafkaSettings, Limits

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


def run_local_chain(
    batches: Iterable[Iterable[KafkaRecord]], limits: Limits, processing: Processing, *, bundles: int = 1
) -> list[dict[str, list]]:
    """Each batch of records as one micro-batch of the local stream with one worker (``newsflow stream``'s
    :func:`~pipelines.chain_workers.chain_workers` and :class:`~pipelines.chain_workers.PooledChain`, an
    inline pool, state in ``processing.state_dir``), each record at its Kafka timestamp, the batch read in
    ``bundles`` bundles (records ``k::bundles``, in the order given): every article, duplicate and dead
    letter of each run."""
    from pipelines.chain_workers import PooledChain, chain_workers

    names = ["articles", "duplicates", "dlq"]
    outputs = []
    with chain_workers(1, KafkaSettings(), limits, processing, None):
        for batch in batches:
            records = list(batch)
            offsets: dict[tuple[str, int], list[int]] = {}
            for r in records:
                offsets.setdefault((r.topic, r.partition), []).append(r.offset)
            ranges = [PartitionRange(t, p, min(o), max(o) + 1) for (t, p), o in sorted(offsets.items())]
            _COLLECTED.clear()
            _COLLECTED.update({name: [] for name in names})
            with beam.Pipeline(runner=FnApiRunner()) as pipeline:
                pieces = [
                    pipeline
                    | f"Bundle{k}"
                    >> beam.Create(
                        [TimestampedValue(r, r.timestamp_ms / 1000) for r in records[k::bundles]],
                        reshuffle=False,
                    )
                    for k in range(min(bundles, len(records)))
                ]
                out = pieces | beam.Flatten() | PooledChain(processing, ranges)
                for name in names:
                    out[name] | f"Collect{name}" >> beam.Map(lambda e, n=name: _collect(n, e))
            outputs.append({name: list(_COLLECTED[name]) for name in names})
    return outputs
