"""numpy's OpenBLAS is set to one thread when the NER model loads its matrix products onto it."""

from __future__ import annotations

import ctypes

import numpy  # noqa: F401  (loads OpenBLAS)

from transforms.entities.blas import limit_openblas_threads, loaded_openblas

GETTERS = ("openblas_get_num_threads", "openblas_get_num_threads64_", "scipy_openblas_get_num_threads64_")


def threads(path) -> int:
    lib = ctypes.CDLL(str(path))
    return next(getattr(lib, name) for name in GETTERS if hasattr(lib, name))()


def test_every_loaded_openblas_ends_with_the_limit():
    libs = loaded_openblas()
    assert libs, "numpy's OpenBLAS should be loaded"
    assert limit_openblas_threads(2) == libs
    assert {threads(p) for p in libs} == {2}
    assert limit_openblas_threads(1) == libs
    assert {threads(p) for p in libs} == {1}
