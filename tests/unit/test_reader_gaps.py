"""The reader acknowledges every offset of its range once, as a record or in a gap, wherever the offsets
without a record lie: between records (compacted, aborted) or at the end of the range (a transaction's
commit or abort marker is the last offset of a partition after every transaction). Before, offsets after
the range's last record were never acknowledged, so the group's committed offset stopped before them and
the local stream read the same empty range batch after batch, never idle."""

from __future__ import annotations

from types import SimpleNamespace

from apache_beam import pvalue
from apache_beam.io.restriction_trackers import OffsetRange, OffsetRestrictionTracker
from apache_beam.io.watermark_estimators import ManualWatermarkEstimator
from apache_beam.transforms.window import TimestampedValue
from hypothesis import given
from hypothesis import strategies as st
from kafka import TopicPartition

from transforms.client_pool import READERS
from transforms.kafka_io import GAPS_TAG, Ack, PartitionRange, ReadLimits, ReadPartitions, gap_ack
from transforms.settings import KafkaSettings

TP = TopicPartition("t", 0)


class _Log:
    """A partition as kafka-python's consumer shows it: records at some offsets; after the last one the
    position moves on to the end (past markers and aborted batches, which are never returned)."""

    def __init__(self, offsets: list[int], end: int, per_poll: int) -> None:
        self.records = [
            SimpleNamespace(topic="t", partition=0, offset=o, key=None, value=b"v", timestamp=o, headers=[])
            for o in offsets
        ]
        self.end, self.per_poll, self.pos = end, per_poll, 0

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self.pos = offset

    def position(self, tp: TopicPartition) -> int:
        return self.pos

    def poll(self, timeout_ms: int, max_records: int) -> dict:
        out = [r for r in self.records if r.offset >= self.pos][: self.per_poll]
        self.pos = out[-1].offset + 1 if out else max(self.pos, self.end)
        return {TP: out} if out else {}

    def close(self, autocommit: bool) -> None:
        pass


class _Tracker:
    """The runner's view of an offset tracker: ``defer_remainder`` checkpoints."""

    def __init__(self, start: int, stop: int) -> None:
        self.inner = OffsetRestrictionTracker(OffsetRange(start, stop))
        self.deferred = False

    def current_restriction(self) -> OffsetRange:
        return self.inner.current_restriction()

    def try_claim(self, position: int) -> bool:
        return self.inner.try_claim(position)

    def defer_remainder(self, *_: object) -> None:
        self.deferred = True


@st.composite
def partitions(draw):
    start = draw(st.integers(0, 20))
    stop = start + draw(st.integers(1, 30))
    end = stop + draw(st.integers(0, 5))  # the log may go on after the range (read by a later batch)
    offsets = sorted(draw(st.sets(st.integers(start, end - 1))))
    return start, stop, end, offsets, draw(st.integers(1, 7))


def read_range(start: int, stop: int, end: int, offsets: list[int], per_poll: int) -> list:
    """What the reader emits for the range ``[start, stop)`` of a log with records at ``offsets``, polled
    ``per_poll`` records at a time, checkpointing as the runner would, until the range is done."""
    settings = KafkaSettings(bootstrap_servers="unused:9092")
    reader = ReadPartitions(settings, ReadLimits(poll_timeout_ms=0, max_batch=per_poll))
    reader.setup()
    READERS.give(reader._kwargs, _Log(offsets, end, per_poll), TP)
    part = PartitionRange("t", 0, start, stop)
    tracker = _Tracker(start, stop)
    outs: list = []
    try:
        for _ in range(200):
            outs += reader.process(part, tracker, ManualWatermarkEstimator(None))
            if not tracker.deferred:
                break
            _, residual = tracker.inner.try_split(0)
            tracker = _Tracker(residual.start, residual.stop)
        tracker.inner.check_done()
    finally:
        READERS.close()
    return outs


@given(partitions())
def test_every_offset_of_a_range_is_acknowledged_once(case):
    start, stop, end, offsets, per_poll = case
    acked: list[int] = []
    for out in read_range(start, stop, end, offsets, per_poll):
        if isinstance(out, pvalue.TaggedOutput):
            acked += range(out.value.first, out.value.last + 1)
        else:
            assert isinstance(out, TimestampedValue)
            acked.append(out.value.offset)
    assert sorted(acked) == list(range(start, stop))


@given(st.integers(0, 50), st.integers(0, 50))
def test_gap_ack_acknowledges_exactly_the_offsets_between_first_and_stop(first, stop):
    part = PartitionRange("t", 3, 0, 60)
    acks = list(gap_ack(part, first, stop))
    assert all(a.tag == GAPS_TAG for a in acks)
    assert [a.value for a in acks] == ([Ack("t", 3, first, stop - 1)] if first < stop else [])
