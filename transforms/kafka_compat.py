"""kafka-python reading a record whose header key is not UTF-8 the way Apache Kafka's Java client does.

The protocol types a header key as a UTF-8 string, but brokers do not check it, and producers that are not
Java (librdkafka takes any bytes) can write one that is not. kafka-python decodes it strictly, so the record
raises ``UnicodeDecodeError`` from ``poll`` at the same offset every time: one such message stalled its
partition for good. Java's client decodes with ``new String(bytes, UTF_8)``, which puts U+FFFD for each
invalid byte: :func:`install` makes kafka-python do the same. Only a batch that failed so is read again
that way, so valid records cost nothing more.
"""

from __future__ import annotations

from typing import Any

from kafka.record.default_records import DefaultRecordBatch

_PATCHED = "_newsflow_lenient_header_keys"


class _LenientSlice(bytearray):
    """A slice of a record batch whose ``decode`` replaces invalid UTF-8, as Java's String constructor."""

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:  # type: ignore[override]
        return super().decode(encoding, "replace")


class _LenientBuffer(bytearray):
    """A record batch's bytes whose slices decode leniently (the header key is decoded from a slice)."""

    def __getitem__(self, item: Any) -> Any:
        got = super().__getitem__(item)
        return _LenientSlice(got) if isinstance(item, slice) else got


def install() -> None:
    """Make every kafka-python consumer in this process read header keys that are not UTF-8 (idempotent)."""
    if getattr(DefaultRecordBatch, _PATCHED, False):
        return
    strict = DefaultRecordBatch._read_msg

    def read_msg(self: DefaultRecordBatch, *args: Any, **kwargs: Any) -> Any:
        try:
            return strict(self, *args, **kwargs)
        except UnicodeDecodeError:  # _read_msg moves its position only once a record is read whole
            self._buffer = _LenientBuffer(self._buffer)
            return strict(self, *args, **kwargs)

    DefaultRecordBatch._read_msg = read_msg
    setattr(DefaultRecordBatch, _PATCHED, True)
