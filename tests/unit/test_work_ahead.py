"""The next batch after work begun ahead (``chain_workers._extend``): the ranges begun come first and
whole, the rest of the budget goes to what came in since, and nothing is read twice or skipped."""

from hypothesis import given
from hypothesis import strategies as st

from pipelines.chain_workers import _extend, _starts
from transforms.kafka_io import PartitionRange, cap_ranges


@st.composite
def lookups(draw):
    """The loop's look after a commit (``fresh``), the ranges begun ahead on it, and a budget."""
    fresh, begun = [], []
    for partition in range(draw(st.integers(1, 4))):
        start = draw(st.integers(0, 50))
        stop = start + draw(st.integers(0, 40))
        fresh.append(PartitionRange("t", partition, start, stop))
        if stop > start and draw(st.booleans()):
            begun.append(PartitionRange("t", partition, start, start + draw(st.integers(1, stop - start))))
    taken = sum(r.stop - r.start for r in begun)
    return fresh, begun, taken + draw(st.integers(0, 60))


@given(lookups())
def test_the_work_begun_comes_first_and_the_budget_holds(case):
    fresh, begun, budget = case
    batch = _extend(begun, fresh, budget)
    by_partition = {r.partition: r for r in batch}
    assert len(by_partition) == len(batch), "one range per partition"
    for r in begun:
        b = by_partition[r.partition]
        assert b.start == r.start and b.stop >= r.stop, "the begun range is the start of the batch's"
    for f in fresh:
        if f.partition in by_partition:
            b = by_partition[f.partition]
            assert f.start == b.start < b.stop <= f.stop, "from the committed offset, within what is there"
    assert _starts(begun, batch), "so the batch's pipeline takes over the work begun"
    total = sum(r.stop - r.start for r in batch)
    assert total <= budget
    available = sum(r.stop - r.start for r in fresh)
    assert total == min(budget, available), "the budget is used as far as records are there"


@given(lookups())
def test_without_work_begun_it_is_the_loops_own_batch(case):
    fresh, _, budget = case
    assert _extend([], fresh, budget) == cap_ranges(fresh, budget)


@given(lookups(), st.integers(1, 5))
def test_work_begun_on_offsets_that_moved_does_not_start_the_batch(case, moved):
    """A failed batch (the committed offset behind) or another member's commits (ahead): not the start."""
    fresh, begun, _ = case
    if begun:
        shifted = [PartitionRange(f.topic, f.partition, f.start + moved, f.stop + moved) for f in fresh]
        assert not _starts(begun, shifted)
        assert not _starts(begun, [f for f in fresh if f.partition != begun[0].partition])
