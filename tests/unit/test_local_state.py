"""Where the local stream keeps its state by default, and how a state dir of an older release is adopted."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from pipelines.local_state import default_state_dir, legacy_state_dir, state_dir_for
from transforms.dedup import SqliteStore


@pytest.fixture
def dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """A user data dir and a temp dir of this test's own."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    return tmp_path / "data", tmp_path / "tmp"


def test_default_state_dir_is_in_the_user_data_dir_one_per_group_and_topic(dirs) -> None:
    data, _ = dirs
    a = default_state_dir("newsflow", "articles.raw")
    assert a == data / "newsflow" / "state" / "newsflow--articles.raw"
    assert default_state_dir("newsflow", "articles.raw") == a  # a restart finds it again
    assert default_state_dir("other", "articles.raw") != a
    assert default_state_dir("../../etc", "t/x").name == ".._.._etc--t_x"


def test_a_given_state_dir_wins_and_the_default_adopts_an_older_releases_temp_dir(dirs) -> None:
    data, tmp = dirs
    assert state_dir_for("g", "t", "/srv/newsflow") == "/srv/newsflow"
    legacy = legacy_state_dir("g", "t")
    assert legacy == tmp / "newsflow-state" / "g--t"
    store = SqliteStore(legacy)
    store.put_many([(b"k", b"blob", 7)])
    store.close()
    adopted = Path(state_dir_for("g", "t", None))
    assert adopted == default_state_dir("g", "t")
    assert SqliteStore(adopted, read_only=True).get_many([b"k"]) == [b"blob"]
    store = SqliteStore(adopted)
    store.put_many([(b"k", b"newer", 8)])
    store.close()
    assert state_dir_for("g", "t", None) == str(adopted)  # adopted once: the data dir's own is kept
    assert SqliteStore(adopted, read_only=True).get_many([b"k"]) == [b"newer"]
    assert state_dir_for("g", "other", None) == str(default_state_dir("g", "other"))  # nothing to adopt
