"""The stages of a micro-batch end promptly (``local_stream._prompt_stage_ends``): Beam's state sampler of
each stage the local runner makes wakes every ``SAMPLING_PERIOD_MS`` at most, so the end of a long stage
(its ``StateSampler.stop``, which waits for the sampler's thread) no longer leaves the core idle for up to
Beam's 200 ms."""

import json
import statistics
import tempfile
import threading
import time
from pathlib import Path

import apache_beam as beam
from apache_beam.runners.portability.fn_api_runner import FnApiRunner
from apache_beam.runners.worker import statesampler
from apache_beam.utils.counters import CounterFactory
from pytest import MonkeyPatch

from pipelines.engine import local_stream


class _SeeSampler(beam.DoFn):
    """Writes down the period of the sampler its stage runs under (the stage's tracker)."""

    def __init__(self, path: str) -> None:
        self.path = path

    def process(self, element: int):
        tracker = statesampler.get_current_tracker()
        Path(self.path).write_text(json.dumps(tracker.sampling_period_ms))
        yield element


def test_the_local_runners_stages_sample_within_the_period():
    with MonkeyPatch.context() as patch, tempfile.TemporaryDirectory() as tmp:
        patch.setattr(statesampler, "StateSampler", statesampler.StateSampler)  # undone after
        local_stream._prompt_stage_ends()
        seen = str(Path(tmp) / "period")
        with beam.Pipeline(runner=FnApiRunner()) as pipeline:
            _ = pipeline | beam.Create([1]) | beam.ParDo(_SeeSampler(seen))
        assert json.loads(Path(seen).read_text()) == local_stream.SAMPLING_PERIOD_MS


def test_a_long_stage_ends_within_the_period():
    """Samplers that ran long enough for Beam's period to grow to its longest (1.3 s) stop in about the
    period, not in up to 200 ms (median of five: Beam's would be about 100 ms)."""
    with MonkeyPatch.context() as patch:
        patch.setattr(statesampler, "StateSampler", statesampler.StateSampler)
        local_stream._prompt_stage_ends()
        samplers = [statesampler.StateSampler(f"stage-{i}", CounterFactory()) for i in range(5)]
        threads = [threading.Thread(target=s.start) for s in samplers]  # each tracks its own thread
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        time.sleep(1.3)
        waits = []
        for sampler in samplers:
            began = time.monotonic()
            sampler.stop()
            waits.append(time.monotonic() - began)
    assert statistics.median(waits) < 0.04, waits
