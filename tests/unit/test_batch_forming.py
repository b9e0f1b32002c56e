"""When a caught-up local stream starts its next batch: once the end offsets hold still for one look, or at
once when a full batch of records is in (the rest of a burst still coming in waits for the next batch
either way). The group member is a stand-in whose end offsets grow look by look."""

from __future__ import annotations

from kafka import TopicPartition

from pipelines.engine.local_stream import StopRequest, _wait_for_records
from transforms.kafka_io import PartitionRange

TPS = [TopicPartition("in", 0), TopicPartition("in", 1)]
CAUGHT_UP = [PartitionRange("in", 0, 10, 10), PartitionRange("in", 1, 20, 20)]


class _Consumer:
    def __init__(self, looks: list[tuple[int, int]]) -> None:
        self.looks = looks
        self.asked = 0

    def end_offsets(
        self, tps: list[TopicPartition], timeout_ms: int | None = None
    ) -> dict[TopicPartition, int]:
        ends = self.looks[min(self.asked, len(self.looks) - 1)]
        self.asked += 1
        return dict(zip(TPS, ends, strict=True))


class _Member:
    def __init__(self, looks: list[tuple[int, int]]) -> None:
        self.consumer = _Consumer(looks)

    def poll(self, seconds: float) -> None:
        pass


BURST = [(10, 20), (60, 70), (110, 120), (160, 170), (200, 200), (200, 200)]
"""A burst coming in over four looks, then holding still."""


def test_a_burst_waits_for_the_end_offsets_to_hold_still_when_no_full_batch_is_in():
    member = _Member(BURST)
    _wait_for_records(member, StopRequest(), 60.0, CAUGHT_UP, budget=1000)
    assert member.consumer.asked == 6


def test_a_full_batch_starts_at_once_while_the_burst_still_comes_in():
    member = _Member(BURST)
    _wait_for_records(member, StopRequest(), 60.0, CAUGHT_UP, budget=200)
    assert member.consumer.asked == 3, "100 + 100 records in by the third look: a full batch"
