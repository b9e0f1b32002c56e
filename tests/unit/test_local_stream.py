"""The local stream's pure parts: which runners it stands in for (its state dir: test_local_state.py)."""

from __future__ import annotations

from pipelines.engine.local_stream import is_local


def test_local_runs_are_micro_batches_and_other_runners_one_pipeline():
    assert is_local([]) and is_local(["--runner=DirectRunner"])
    assert not is_local(["--runner=FlinkRunner"]) and not is_local(["--runner=PrismRunner"])
