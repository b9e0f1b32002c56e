"""A per-document budget of CPU time, checked between the steps of cleaning and of NER (each step itself is
bounded by the size limits).

CPU time of the working thread, not the wall clock: on a busy machine a document waiting for a core is
not cut short, and the same document gets the same verdict on a loaded machine as on an idle one, so a
backfill re-run writes the same dead letters.
"""

from __future__ import annotations

import time

from transforms.errors import LimitExceeded


class Deadline:
    def __init__(self, seconds: float, *, stage: str = "clean") -> None:
        self.seconds = seconds
        self.stage = stage
        self.expires = time.thread_time() + seconds

    def check(self, step: str) -> None:
        """Raises LimitExceeded (to the DLQ) once this thread has used the budget."""
        if time.thread_time() > self.expires:
            raise LimitExceeded(
                f"CPU time budget of {self.seconds:g}s exceeded after {step}", stage=self.stage
            )
