"""py3langid's language model, decoded once per user and memory-mapped by every process after that.

py3langid ships its model LZMA-compressed (4.5 MB) and decompresses all 68 MB of it in every process that
classifies a text, about 0.5 s of CPU per worker. The decompressed arrays are kept as ``.npy`` files in the
user cache (named by py3langid's version and a hash of its model file); a process maps them, and copies only
the transition table into the stdlib array py3langid's scanner reads. Same arrays, same classifier.
"""

from __future__ import annotations

import functools
from array import array
from importlib.metadata import version
from pathlib import Path

import numpy as np
from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier
from py3langid.modelio import load_model

from transforms.user_cache import entry, read_or_build

_ARRAYS = ("ptc", "pc", "classes", "nextmove", "nextmove_row", "out_feat")
_TYPECODE = {2: "H", 4: "I", 8: "L"}  # py3langid's: numpy unsigned itemsize -> stdlib array typecode


def cache_path() -> Path:
    """The cache directory for the installed py3langid and its model file."""
    return entry("langid", (MODEL_DIR / MODEL_FILE).read_bytes(), version("py3langid").encode())


def _stdlib_array(values: np.ndarray) -> array:
    out = array(_TYPECODE[values.dtype.itemsize])
    out.frombytes(np.ascontiguousarray(values).tobytes())
    return out


def _decoded() -> dict[str, np.ndarray]:
    """The model's arrays from py3langid's own file, in the dtypes it stores them with."""
    ptc, pc, classes, nextmove, row, out_feat = load_model(MODEL_DIR / MODEL_FILE)
    return {
        "ptc": np.asarray(ptc),
        "pc": np.asarray(pc),
        "classes": np.array(classes),
        "nextmove": np.frombuffer(nextmove, dtype=f"u{nextmove.itemsize}"),
        "nextmove_row": np.frombuffer(row, dtype=f"u{row.itemsize}"),
        "out_feat": np.asarray(out_feat, dtype=np.int32),
    }


def _save(arrays: dict[str, np.ndarray], directory: Path) -> None:
    for name, values in arrays.items():
        np.save(directory / f"{name}.npy", values, allow_pickle=False)


def _identifier(arrays: dict[str, np.ndarray]) -> LanguageIdentifier:
    """As ``LanguageIdentifier.from_model_file`` builds it (raw scores, all languages)."""
    return LanguageIdentifier(
        np.asarray(arrays["ptc"]),
        np.asarray(arrays["pc"]),
        arrays["classes"].tolist(),
        _stdlib_array(arrays["nextmove"]),
        arrays["out_feat"].tolist(),
        tk_row=_stdlib_array(arrays["nextmove_row"]),
    )


@functools.lru_cache(maxsize=1)
def identifier() -> LanguageIdentifier:
    """This process's classifier, loaded on first use: its arrays from the cache, else decoded and the cache
    written."""
    arrays = read_or_build(cache_path(), _load, _decoded, _save, directory=True)
    return _identifier(arrays)


def _load(directory: Path) -> dict[str, np.ndarray]:
    return {name: np.load(directory / f"{name}.npy", mmap_mode="r", allow_pickle=False) for name in _ARRAYS}
