"""The local stream's pure parts: where its state lives by default, and which runners it stands in for."""

from __future__ import annotations

import tempfile
from pathlib import Path

from pipelines.engine.local_stream import default_state_dir, is_local


def test_default_state_dir_is_one_per_group_and_topic_and_a_safe_name():
    a = default_state_dir("newsflow", "articles.raw")
    assert a == Path(tempfile.gettempdir()) / "newsflow-state" / "newsflow--articles.raw"
    assert default_state_dir("newsflow", "articles.raw") == a  # a restart finds it again
    assert default_state_dir("other", "articles.raw") != a
    assert default_state_dir("../../etc", "t/x").name == ".._.._etc--t_x"


def test_local_runs_are_micro_batches_and_other_runners_one_pipeline():
    assert is_local([]) and is_local(["--runner=DirectRunner"])
    assert not is_local(["--runner=FlinkRunner"]) and not is_local(["--runner=PrismRunner"])
