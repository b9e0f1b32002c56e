"""A record whose header key is not UTF-8 (any non-Java producer can write one; brokers do not check) is read
the way Apache Kafka's Java client reads it, with U+FFFD for invalid bytes, through kafka-python's own record
parsing as its fetcher runs it: before, it raised at the same offset on every poll and stalled its partition.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from kafka.record.default_records import DefaultRecordBatchBuilder
from kafka.record.memory_records import MemoryRecords

from tests.raw_header_key import RawKey
from transforms import avro, kafka_compat
from transforms.records import DeadLetter, OriginalHeader, SourcePosition, to_dict

kafka_compat.install()


def batch(keys: list[bytes]) -> bytes:
    """One record batch as a producer sends it (CRC and all): a record per key, value = its index."""
    builder = DefaultRecordBatchBuilder(
        magic=2, compression_type=0, is_transactional=0, producer_id=-1, producer_epoch=-1, base_sequence=-1,
        batch_size=1 << 20,
    )  # fmt: skip
    for offset, key in enumerate(keys):
        builder.append(offset, timestamp=1, key=None, value=b"%d" % offset, headers=[(RawKey(key), b"v")])
    return bytes(builder.build())


@settings(max_examples=200, derandomize=True, deadline=None, database=None)
@given(keys=st.lists(st.binary(max_size=12), min_size=1, max_size=5))
def test_every_record_is_read_whatever_bytes_its_header_key_holds(keys):
    records = MemoryRecords(batch(keys)).next_batch()
    assert records.validate_crc()
    read = list(records)
    assert [r.value for r in read] == [b"%d" % i for i in range(len(keys))], "every record, in order"
    assert [r.headers[0][0] for r in read] == [k.decode("utf-8", "replace") for k in keys]
    for record in read:
        letter = DeadLetter(b"", "parse", "ParseError", "m", SourcePosition("t", 0, record.offset))
        letter.original_headers = [OriginalHeader(k, v) for k, v in record.headers]
        assert (
            avro.decode(avro.encode("dead_letter", to_dict(letter)))[1]["original_headers"][0]["value"]
            == b"v"
        )
