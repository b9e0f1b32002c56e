"""Durations as people write them on a command line: ``90s``, ``30m``, ``6h``, ``1d``, ``1h30m``, ISO 8601."""

from __future__ import annotations

import argparse
import re
from datetime import timedelta

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)", re.IGNORECASE)
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> timedelta:
    """``90s``, ``30m``, ``6h``, ``1d``, ``1h30m``, ``0``, or ISO 8601 (``PT6H``, ``P1D``) -> a timedelta."""
    value = text.strip().lower()
    if value == "0":
        return timedelta(0)
    if value.startswith("p"):  # ISO 8601: P[nD]T[nH][nM][nS]
        date, _, time_part = value[1:].partition("t")
        value = date + time_part.replace("m", "m ")
        if not date + time_part or re.search(r"[^\d.dw]", date):  # no years or months: not fixed lengths
            raise ValueError(f"not a duration: {text!r} (ISO 8601 durations in weeks, days and time only)")
    parts = _DURATION.findall(value)
    if not parts or _DURATION.sub("", value).strip():
        raise ValueError(f"not a duration: {text!r} (e.g. 30m, 6h, 1d, 1h30m, PT6H)")
    return timedelta(seconds=sum(float(n) * _UNITS[unit.lower()] for n, unit in parts))


def duration_flag(text: str) -> timedelta:
    """:func:`parse_duration` as an argparse ``type``: a bad value is the flag's one-line error."""
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
