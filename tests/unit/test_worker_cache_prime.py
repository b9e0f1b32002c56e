"""A backfill's launching process writes the user-cache files its workers read, only those it needs."""

from __future__ import annotations

import importlib

from pipelines import worker_cache
from transforms.boilerplate import language_model

gazetteer = importlib.import_module("transforms.entities.gazetteer")


def test_prime_writes_missing_caches_once(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    worker_cache.prime_user_caches(cleaning=True, entities=False)
    assert language_model.cache_path().is_dir()
    assert not gazetteer.cache_path().exists()
    worker_cache.prime_user_caches(cleaning=True, entities=True)
    written = gazetteer.cache_path().stat().st_mtime_ns
    worker_cache.prime_user_caches(cleaning=True, entities=True)
    assert gazetteer.cache_path().stat().st_mtime_ns == written
    assert sorted(p.name.split("-")[0] for p in (tmp_path / "newsflow").iterdir()) == ["gazetteer", "langid"]
