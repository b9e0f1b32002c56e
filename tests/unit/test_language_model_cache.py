"""The language model read from the cache is py3langid's own model: same arrays, same verdicts."""

from __future__ import annotations

import numpy as np
import pytest
from py3langid.langid import LanguageIdentifier, _load_identifier

from transforms.boilerplate import language_model

SAMPLES = [
    "The central bank raised interest rates on Thursday, citing stubborn inflation in services.",
    "Der Bundestag hat am Donnerstag ein neues Gesetz beschlossen.",
    "Le gouvernement a annoncé mardi une nouvelle réforme des retraites.",
    "El presidente se reunió con los gobernadores para hablar del presupuesto.",
    "Президент подписал закон о бюджете на следующий год.",
    "ok ok ok ok ok ok ok ok ok ok ok ok",
]


@pytest.fixture
def cache_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    language_model.identifier.cache_clear()
    yield tmp_path
    language_model.identifier.cache_clear()


def _same(a: LanguageIdentifier, b: LanguageIdentifier) -> None:
    assert np.array_equal(a.nb_ptc, b.nb_ptc) and a.nb_ptc.dtype == b.nb_ptc.dtype
    assert np.array_equal(a.nb_pc, b.nb_pc) and a.nb_pc.dtype == b.nb_pc.dtype
    assert a.nb_classes == b.nb_classes and a.tk_output == b.tk_output
    assert a.tk_nextmove == b.tk_nextmove and a.tk_nextmove.typecode == b.tk_nextmove.typecode
    assert a.tk_row == b.tk_row and a.tk_row.typecode == b.tk_row.typecode
    assert [a.classify(s) for s in SAMPLES] == [b.classify(s) for s in SAMPLES]


def test_decoded_then_cached_model_is_py3langids(cache_home):
    reference = _load_identifier()
    first = language_model.identifier()
    assert (language_model.cache_path() / "ptc.npy").is_file()
    language_model.identifier.cache_clear()
    cached = language_model.identifier()
    assert cached is not first
    _same(first, reference)
    _same(cached, reference)


def test_truncated_cache_file_is_decoded_again(cache_home):
    language_model.identifier()
    (language_model.cache_path() / "nextmove.npy").write_bytes(b"\x93NUMPY")
    language_model.identifier.cache_clear()
    _same(language_model.identifier(), _load_identifier())
