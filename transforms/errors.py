"""Errors that send an input to the dead-letter sink; each names the stage and a precise reason."""

from __future__ import annotations


class PipelineError(Exception):
    """A record-level failure: the record goes to the DLQ, the pipeline carries on."""

    stage = "process"

    def __init__(self, reason: str, *, stage: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        if stage:
            self.stage = stage

    @property
    def error_type(self) -> str:
        return type(self).__name__


class ParseError(PipelineError):
    """The message is not a valid raw-article envelope (bad JSON, wrong types, no body, bad bytes)."""

    stage = "parse"


class LimitExceeded(PipelineError):
    """The input is larger, deeper or slower to process than the configured budget allows."""

    stage = "clean"


class CleanError(PipelineError):
    """The cleaner could not make an article out of the input (e.g. no main content)."""

    stage = "clean"


class CrashLoop(PipelineError):
    """The input killed the worker process again and again (see ``transforms.crash_journal``)."""

    def __init__(self, deaths: int, stage: str) -> None:
        super().__init__(f"the worker process died {deaths} times while processing this input", stage=stage)
