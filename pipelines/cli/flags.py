"""Types for the commands' own numeric flags, refusing out-of-range values at parse time with the same
message as the settings' flags (:mod:`pipelines.options`): ``--limit 0`` is a usage error (exit 2), not a
read of everything, and ``--port 70000`` not a crash of the socket call."""

from __future__ import annotations

from collections.abc import Callable

from pipelines.options import number_type
from pipelines.preflight import positive_float


def integer(least: int, most: int | None = None) -> Callable[[str], int]:
    """An argparse ``type`` for an integer in [least, most]."""
    return number_type(int, least, most)


seconds = positive_float
"""An argparse ``type`` for a time span in seconds, more than zero: the one ``--connect-timeout`` has."""


PORT = integer(1, 65535)
"""A TCP port to listen on or connect to."""
