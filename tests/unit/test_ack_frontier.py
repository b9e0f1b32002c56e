from hypothesis import given
from hypothesis import strategies as st

from transforms.kafka_io import AckFrontier, PartitionRange, cap_ranges


def test_frontier_moves_only_over_contiguous_acks():
    f = AckFrontier(10)
    assert not f.ack(12, 12)
    assert f.committed == 10
    assert f.ack(10, 10) and f.committed == 11
    assert f.ack(11, 11) and f.committed == 13


def test_gap_ranges_and_replays():
    f = AckFrontier(0)
    f.ack(0, 4)  # e.g. a compacted gap acknowledged by the reader
    assert f.committed == 5
    assert not f.ack(2, 2)  # replayed after a restart: ignored
    assert f.committed == 5 and f.pending == {}


@given(st.permutations(list(range(50))))
def test_any_order_reaches_the_end(order):
    f = AckFrontier(0)
    for offset in order:
        f.ack(offset, offset)
        assert f.committed <= 50
        assert all(o < f.committed for o in range(f.committed))
    assert f.committed == 50 and not f.pending


def test_cap_ranges_shares_the_budget_and_drops_empty_partitions():
    ranges = [PartitionRange("t", 0, 10, 100), PartitionRange("t", 1, 5, 5), PartitionRange("t", 2, 0, 3)]
    assert cap_ranges(ranges, 10) == [PartitionRange("t", 0, 10, 17), PartitionRange("t", 2, 0, 3)]
    assert cap_ranges(ranges, 1000) == [PartitionRange("t", 0, 10, 100), PartitionRange("t", 2, 0, 3)]
    assert cap_ranges([PartitionRange("t", 1, 5, 5)], 10) == []


@given(
    st.lists(st.tuples(st.integers(0, 50), st.integers(0, 50)), max_size=6),
    st.integers(1, 120),
)
def test_cap_ranges_reads_a_prefix_of_each_range_within_budget(bounds, budget):
    ranges = [PartitionRange("t", p, s, s + n) for p, (s, n) in enumerate(bounds)]
    capped = cap_ranges(ranges, budget)
    total = sum(r.stop - r.start for r in ranges)
    assert sum(r.stop - r.start for r in capped) == min(budget, total)
    by_partition = {r.partition: r for r in ranges}
    for r in capped:
        whole = by_partition[r.partition]
        assert r.start == whole.start and whole.start < r.stop <= whole.stop
