"""A per-document budget of CPU time, checked between the steps of cleaning and of NER (each step itself is
bounded by the size limits).

CPU time of the working thread, not the wall clock: on a busy machine a document waiting for a core is
not cut short, and the same document gets the same verdict on a loaded machine as on an idle one, so a
backfill re-run writes the same dead letters.
"""

from __future__ import annotations

import re
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


MAX_TOKEN_CHARS = 1000
"""A run without whitespace longer than this is no word and holds no entity: NER sees spaces instead."""
_LONG_TOKEN = re.compile(r"\S{" + str(MAX_TOKEN_CHARS + 1) + ",}")


def mask_long_tokens(text: str) -> str:
    """``text`` with each whitespace-free run over MAX_TOKEN_CHARS replaced by as many spaces, so offsets
    into it are offsets into ``text``.

    spaCy's tokenizer splits prefixes and suffixes off a token one at a time, in C: a run of 200k ``<``
    took 15 CPU-s in one call, which neither the budget checks nor the watchdog can interrupt.
    """
    if len(text) <= MAX_TOKEN_CHARS:
        return text
    return _LONG_TOKEN.sub(lambda m: " " * len(m.group()), text)
