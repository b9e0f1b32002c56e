"""A Kafka header key with any wire bytes, for the tests of keys that are not UTF-8."""

from __future__ import annotations


class RawKey(str):
    """A header key whose wire bytes are given as they are (kafka-python's producer would encode a str)."""

    raw: bytes

    def __new__(cls, raw: bytes) -> RawKey:
        key = super().__new__(cls, "k")
        key.raw = raw
        return key

    def encode(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
        return self.raw
