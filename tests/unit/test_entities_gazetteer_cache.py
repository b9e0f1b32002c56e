"""The gazetteer read from its cache file gives exactly the lookups of one built from the libraries."""

from __future__ import annotations

import importlib

import pytest

G = importlib.import_module("transforms.entities.gazetteer")


@pytest.fixture(scope="module")
def fresh() -> G.Gazetteer:
    return G.Gazetteer.build()


@pytest.fixture
def cache_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    G.gazetteer.cache_clear()
    yield tmp_path
    G.gazetteer.cache_clear()


def test_round_trip_keeps_every_key_and_place_in_order(fresh):
    back = G.Gazetteer.from_bytes(fresh.to_bytes())
    assert back.primary == fresh.primary
    assert back.alternate == fresh.alternate


def test_second_process_reads_the_file_and_agrees(fresh, cache_home):
    built = G.gazetteer()
    path = G.cache_path()
    assert path.parent == cache_home / "newsflow" and path.is_file()
    G.gazetteer.cache_clear()
    cached = G.gazetteer()
    assert cached is not built
    assert cached.primary == fresh.primary and cached.alternate == fresh.alternate
    for name in (
        "the Russian Federation",
        "U.S.",
        "New York",
        "Kiev",
        "Moscow",
        "Washington",
        "Europe",
        "Zzz",
    ):
        assert cached.candidates(name) == fresh.candidates(name)
        assert cached.country(name) == fresh.country(name)


def test_corrupt_file_is_rebuilt(fresh, cache_home):
    path = G.cache_path()
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\x00not marshal")
    gaz = G.gazetteer()
    assert gaz.primary == fresh.primary
    assert G.Gazetteer.from_bytes(path.read_bytes()).alternate == fresh.alternate


def test_other_library_version_uses_another_file(cache_home, monkeypatch):
    before = G.cache_path()
    monkeypatch.setattr(G, "version", lambda name: "0.0-other")
    assert G.cache_path() != before
