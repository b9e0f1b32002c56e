"""One BLAS thread for the NER model's matrix products.

numpy's OpenBLAS starts a thread per core. The pipeline already runs one bundle per core, and on a shared
machine the extra threads spin waiting for each other: a 500-word article took 3 times the CPU with 2 threads
as with 1 (benchmarks/ner.py with OMP_NUM_THREADS=2). OpenBLAS reads its thread count from the environment
only when numpy is first imported, which in a worker has long happened, so it is set through OpenBLAS's own
call on every copy loaded in the process.
"""

from __future__ import annotations

import ctypes
from pathlib import Path

# The setter's name in plain OpenBLAS builds and in the renamed copy numpy's wheels ship.
SETTERS = (
    "openblas_set_num_threads",
    "openblas_set_num_threads64_",
    "scipy_openblas_set_num_threads",
    "scipy_openblas_set_num_threads64_",
)


def loaded_openblas() -> list[Path]:
    """The OpenBLAS libraries mapped into this process (Linux; none elsewhere)."""
    try:
        maps = Path("/proc/self/maps").read_text()
    except OSError:
        return []
    return sorted(
        {Path(line.split()[-1]) for line in maps.splitlines() if "openblas" in line.lower() and "/" in line}
    )


def limit_openblas_threads(n: int = 1) -> list[Path]:
    """Sets every loaded OpenBLAS to ``n`` threads; returns the libraries it set."""
    done = []
    for path in loaded_openblas():
        lib = ctypes.CDLL(str(path))
        setter = next((getattr(lib, name) for name in SETTERS if hasattr(lib, name)), None)
        if setter is not None:
            setter(n)
            done.append(path)
    return done
