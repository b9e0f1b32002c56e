"""Dead letters: every input that cannot be processed is kept, with where it came from and why.

The builder cannot fail: it works from the input's original bytes (:class:`Origin`), never from decoded
text, and cleans the one text it adds (the error message) so that the Avro writer always accepts it.
"""

from __future__ import annotations

from dataclasses import dataclass

import structlog
from apache_beam.metrics import Metrics

from transforms.errors import PipelineError
from transforms.records import DeadLetter, Origin, OriginalHeader, SourcePosition
from transforms.text_repair import SURROGATES

log = structlog.get_logger(__name__)
DLQ_TAG = "dlq"
ENVELOPE_BYTES = 64 * 1024
"""Room left in a DLQ message for everything but the original (reason, position, key, headers)."""


@dataclass(frozen=True)
class Keeping:
    """Where a dead letter's original goes: inside the letter up to ``inline_bytes`` (None: no limit, e.g.
    Avro files), else into the content-addressed store under ``store_dir``
    (:mod:`transforms.original_store`). Without a store an over-large original is cut, and says so."""

    inline_bytes: int | None = None
    store_dir: str | None = None


def dead_letter(
    original: Origin | bytes,
    error: BaseException,
    position: SourcePosition | None,
    *,
    stage: str | None = None,
    attempts: int = 1,
    keeping: Keeping | None = None,
    kept_apart: tuple[int, str | None] | None = None,
) -> DeadLetter:
    """Build the dead letter for ``error``; unexpected exceptions keep their type so bugs stand out.

    ``kept_apart`` (size, store reference or None) is for an original too large to hold, which the reader
    streamed past (into the store when it has one) instead of passing it here."""
    origin = original if isinstance(original, Origin) else Origin(original or b"")
    if isinstance(error, PipelineError):
        stage, error_type, message = stage or error.stage, error.error_type, error.reason
    else:
        error_type, message = type(error).__name__, _describe(error)
    if kept_apart is None:
        size = len(origin.value)
        value, ref = _keep(origin, keeping or Keeping(), position)
    else:
        (size, ref), value = kept_apart, b""
    letter = DeadLetter(
        original=value,
        stage=stage or "process",
        error_type=error_type,
        message=SURROGATES.sub("\ufffd", message[:1000]),
        source_position=position,
        attempts=attempts,
        original_key=origin.key,
        original_headers=[OriginalHeader(SURROGATES.sub("\ufffd", k), v) for k, v in origin.headers],
        original_size=size,
        original_ref=ref,
        original_is_null=origin.value_is_null,
    )
    Metrics.counter("newsflow", f"dlq.{letter.stage}").inc()
    log.warning(
        "dead_letter",
        stage=letter.stage,
        error_type=error_type,
        reason=letter.message[:200],
        position=position.key() + f"@{position.offset}" if position else None,
        bytes=size,
        **({"original_ref": ref} if ref else {}),
    )
    return letter


def _describe(error: BaseException) -> str:
    try:
        return str(error)[:1000] or type(error).__name__
    except Exception:  # noqa: BLE001 - an exception whose __str__ fails still gets its letter
        return type(error).__name__


def _keep(origin: Origin, keeping: Keeping, position: SourcePosition | None) -> tuple[bytes, str | None]:
    """(bytes inside the letter, store reference or None)."""
    value = origin.value
    if keeping.inline_bytes is None:
        return value, None
    extra = len(origin.key or b"") + sum(len(k) + len(v or b"") for k, v in origin.headers)
    if len(value) + extra <= keeping.inline_bytes:
        return value, None
    if keeping.store_dir:
        from transforms.original_store import OriginalStore

        Metrics.counter("newsflow", "dlq.originals_stored").inc()
        return b"", OriginalStore(keeping.store_dir).put(value)
    Metrics.counter("newsflow", "dlq.originals_cut").inc()
    log.error(
        "dead_letter_original_cut",
        bytes=len(value),
        kept=keeping.inline_bytes,
        position=position.key() + f"@{position.offset}" if position else None,
        fix="give the pipeline a --state-dir for originals larger than the DLQ topic takes",
    )
    return value[: max(0, keeping.inline_bytes - extra)], None
