from hypothesis import given
from hypothesis import strategies as st
from kafka import TopicPartition

from transforms.group_membership import forward_only

offsets = st.integers(0, 1000)
partitions = st.integers(0, 7).map(lambda p: TopicPartition("t", p))


def test_only_a_commit_below_the_committed_offset_is_held_back():
    a, b, c = (TopicPartition("t", p) for p in range(3))
    ahead, behind = forward_only({a: 79, b: 10, c: None}, {a: 78, b: 10, c: 0})
    assert ahead == {b: 10, c: 0}
    assert behind == {a: (78, 79)}


@given(st.dictionaries(partitions, st.none() | offsets), st.dictionaries(partitions, offsets))
def test_what_is_committed_never_moves_an_offset_back(current, proposed):
    ahead, behind = forward_only(current, proposed)
    assert ahead.keys() | behind.keys() == proposed.keys() and not ahead.keys() & behind.keys()
    for tp, offset in ahead.items():
        assert current.get(tp) is None or offset >= current[tp]
    for tp, (offset, now) in behind.items():
        assert offset == proposed[tp] < now == current[tp]
