"""A per-document time budget, checked between stages (a stage itself is bounded by the size limits)."""

from __future__ import annotations

import time

from transforms.errors import LimitExceeded


class Deadline:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expires = time.monotonic() + seconds

    def check(self, stage: str) -> None:
        if time.monotonic() > self.expires:
            raise LimitExceeded(f"time budget of {self.seconds:g}s exceeded after {stage}")
