from hypothesis import given
from hypothesis import strategies as st

from transforms.kafka_io import AckFrontier


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
