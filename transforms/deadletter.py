"""Dead letters: every input that cannot be processed is kept, with where it came from and why."""

from __future__ import annotations

import structlog
from apache_beam.metrics import Metrics

from transforms.errors import PipelineError
from transforms.records import MAX_ORIGINAL_BYTES, DeadLetter, SourcePosition

log = structlog.get_logger(__name__)
DLQ_TAG = "dlq"


def dead_letter(
    original: bytes,
    error: BaseException,
    position: SourcePosition | None,
    *,
    stage: str | None = None,
    attempts: int = 1,
) -> DeadLetter:
    """Build the dead letter for ``error``; unexpected exceptions keep their type so bugs stand out."""
    if isinstance(error, PipelineError):
        stage, error_type, message = stage or error.stage, error.error_type, error.reason
    else:
        error_type, message = type(error).__name__, str(error)[:1000] or type(error).__name__
    letter = DeadLetter(
        original=original[:MAX_ORIGINAL_BYTES],
        stage=stage or "process",
        error_type=error_type,
        message=message[:1000],
        source_position=position,
        attempts=attempts,
    )
    Metrics.counter("newsflow", f"dlq.{letter.stage}").inc()
    log.warning(
        "dead_letter",
        stage=letter.stage,
        error_type=error_type,
        reason=letter.message[:200],
        position=position.key() + f"@{position.offset}" if position else None,
        bytes=len(original),
    )
    return letter
