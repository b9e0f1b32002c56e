"""newsflow's per-user cache directory, for data that is slow to build and the same for every process.

Worker processes each load the same models; what one of them has decoded once (the gazetteer, the language
model) is kept here, named by the versions it was built from, so the next process only reads it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import structlog

log = structlog.get_logger(__name__)
T = TypeVar("T")


def cache_dir() -> Path:
    """``$XDG_CACHE_HOME/newsflow``, else ``~/.cache/newsflow``."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "newsflow"


def publish(path: Path, fill: Callable[[Path], None], *, directory: bool = False) -> None:
    """Writes ``path`` (a file, or a directory) through ``fill`` under a temporary name, then renames it
    into place, so that a process reading at the same time sees all of it or nothing. When another process
    has published it meanwhile, its copy is kept."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if directory:
        tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=path.name, suffix=".tmp"))
    else:
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        os.close(fd)
        tmp = Path(name)
    try:
        fill(tmp)
        os.replace(tmp, path)
    except OSError:
        if not path.exists():
            raise
    finally:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            tmp.unlink(missing_ok=True)


def entry(name: str, *built_from: bytes, suffix: str = "") -> Path:
    """The cache path for ``name`` built from ``built_from`` (source files, library versions): a change to
    any of them names a new entry, so a stale one is never read."""
    key = hashlib.sha256()
    for part in built_from:
        key.update(part)
    return cache_dir() / f"{name}-{key.hexdigest()[:16]}{suffix}"


def read_or_build(
    path: Path,
    read: Callable[[Path], T],
    build: Callable[[], T],
    write: Callable[[T, Path], None],
    *,
    unreadable: tuple[type[Exception], ...] = (OSError, ValueError),
    directory: bool = False,
) -> T:
    """``read(path)``; when there is no entry, or it is ``unreadable`` (corrupt), ``build()`` and
    :func:`publish` it with ``write``. A cache that cannot be read or written only costs the build."""
    try:
        return read(path)
    except FileNotFoundError:
        pass
    except unreadable as exc:
        log.warning("user_cache.unreadable", path=str(path), error=repr(exc))
    value = build()
    try:
        publish(path, lambda tmp: write(value, tmp), directory=directory)
    except OSError as exc:
        log.warning("user_cache.unwritable", path=str(path), error=repr(exc))
    return value
