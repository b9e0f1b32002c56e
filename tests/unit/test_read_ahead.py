"""A batch whose records were read ahead (``chain_workers.Ahead``) is not read from Kafka again: its pipeline
reads only the rest of its ranges (``PooledChain.unread``), and ``_ReadAhead`` gives for the ranges read
ahead what the reader gives (each record's position at its Kafka timestamp, in offset order, and an ack
for the offsets that hold none, between records and after the last: a range may end in transaction
markers), so every offset of the batch is acknowledged once."""

from types import SimpleNamespace

from apache_beam import pvalue
from apache_beam.transforms.window import GlobalWindow, TimestampedValue
from hypothesis import given
from hypothesis import strategies as st
from pytest import MonkeyPatch

from pipelines import chain_workers
from pipelines.chain_workers import PooledChain, _extend, _Item, _ReadAhead
from pipelines.options import Processing
from tests.unit.test_reader_gaps import partitions, read_range
from transforms.kafka_io import Ack, KafkaRecord, PartitionRange


@st.composite
def read_ahead(draw):
    """Ranges read ahead with the offsets in them that hold a record (the rest compacted away), and the
    loop's look after the commit (which the batch extends them into)."""
    begun, fresh, offsets = [], [], {}
    for partition in range(draw(st.integers(1, 4))):
        start = draw(st.integers(0, 30))
        stop = start + draw(st.integers(1, 25))
        begun.append(PartitionRange("t", partition, start, stop))
        fresh.append(PartitionRange("t", partition, start, stop + draw(st.integers(0, 20))))
        offsets[partition] = draw(st.sets(st.integers(start, stop - 1)))
    return begun, fresh, offsets


def _with_batch(monkeypatch: MonkeyPatch, begun, offsets):
    records = [
        KafkaRecord("t", p, o, None, b"x" * o, 1_000 + o) for p, found in offsets.items() for o in found
    ]
    batch = SimpleNamespace(order=[_Item(r, None) for r in reversed(records)], uncounted={})
    ahead = SimpleNamespace(adopt=lambda ranges: (batch, begun))
    monkeypatch.setattr(chain_workers, "_workers", SimpleNamespace(ahead=ahead, batch=None))
    return batch


@given(read_ahead())
def test_the_batch_reads_only_what_was_not_read_ahead(case):
    begun, fresh, offsets = case
    ranges = _extend(begun, fresh, 10_000)
    with MonkeyPatch.context() as monkeypatch:
        _with_batch(monkeypatch, begun, offsets)
        chain = PooledChain(Processing(state_dir="unused"), ranges)
    assert chain.begun == begun
    covered = {(r.partition, o) for r in [*chain.unread, *begun] for o in range(r.start, r.stop)}
    wanted = {(r.partition, o) for r in ranges for o in range(r.start, r.stop)}
    assert covered == wanted
    assert len(covered) == sum(r.stop - r.start for r in [*chain.unread, *begun]), "nothing read twice"


@given(read_ahead())
def test_records_read_ahead_come_out_as_the_reader_gives_them(case):
    begun, _, offsets = case
    with MonkeyPatch.context() as monkeypatch:
        batch = _with_batch(monkeypatch, begun, offsets)
        monkeypatch.setattr(chain_workers._workers, "batch", batch)
        step = _ReadAhead()
        step.setup()
        outs = {part: list(step.process(part, window=GlobalWindow())) for part in begun}
    for part, out in outs.items():
        records = [o for o in out if isinstance(o, TimestampedValue)]
        gaps = [o.value for o in out if isinstance(o, pvalue.TaggedOutput)]
        found = sorted(offsets[part.partition])
        assert [r.value for r in records] == [(0, ("t", part.partition, o)) for o in found]
        assert [r.timestamp.micros for r in records] == [(1_000 + o) * 1000 for o in found]
        acked = [o for g in gaps for o in range(g.first, g.last + 1)]
        assert sorted(acked + found) == list(range(part.start, part.stop)), "each offset of the range once"
    for item in batch.order:
        assert item.timestamp is not None and item.window == GlobalWindow()


@given(partitions())
def test_a_range_read_ahead_is_acknowledged_with_the_very_acks_the_reader_gives(case):
    """One helper (``kafka_io.gap_ack``) acknowledges the gaps for both: the same acks, in the same order."""
    start, stop, end, offsets, per_poll = case
    from_reader = [o.value for o in read_range(start, stop, end, offsets, per_poll)]
    part = PartitionRange("t", 0, start, stop)
    with MonkeyPatch.context() as monkeypatch:
        batch = _with_batch(monkeypatch, [part], {0: {o for o in offsets if o < stop}})
        monkeypatch.setattr(chain_workers._workers, "batch", batch)
        step = _ReadAhead()
        step.setup()
        ahead = [o.value for o in step.process(part, window=GlobalWindow())]
    as_reader = [o if isinstance(o, Ack) else o[1][2] for o in ahead]  # a position's offset, as records
    assert as_reader == [o if isinstance(o, Ack) else o.offset for o in from_reader]
