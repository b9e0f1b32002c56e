"""The batch loop's check that the group member's session has not lapsed (a process stopped past the
session timeout must hear from the group before it forms a batch on partitions it may have lost)."""

from __future__ import annotations

import inspect
import threading
import time
from types import SimpleNamespace

from kafka import KafkaConsumer
from kafka.coordinator.base import BaseCoordinator
from kafka.coordinator.heartbeat import Heartbeat

from transforms.group_membership import GroupMember


class _Consumer:
    """kafka-python's consumer as the member uses it: the group last accepted a heartbeat a minute ago,
    and accepts one again at the ``lapsed``-th poll (none if 0: the session is live)."""

    def __init__(self, lapsed: int) -> None:
        self.lapsed = lapsed
        self.polls = 0
        heard = time.monotonic() - (60 if lapsed else 0)
        self._coordinator = SimpleNamespace(
            heartbeat=SimpleNamespace(last_receive=heard),
            rejoining=False,  # no rebalance under way (``hold_rejoin`` looks at these two)
            need_rejoin=lambda: False,
        )

    def poll(self, timeout_ms: int) -> dict:
        self.polls += 1
        if self.polls == self.lapsed:
            self._coordinator.heartbeat.last_receive = time.monotonic()
        return {}


def _member(consumer: _Consumer) -> GroupMember:
    member = GroupMember.__new__(GroupMember)
    member.group_id, member.consumer = "g", consumer
    member._lock, member._owned, member._joined = threading.Lock(), frozenset(), threading.Event()
    member._assigned_at = time.monotonic() - 60
    member._joined.set()
    return member


def test_a_lapsed_session_is_polled_until_the_group_answers():
    consumer = _Consumer(lapsed=3)
    assert _member(consumer).wait_for_session(lambda: False)
    assert consumer.polls == 3


def test_a_live_session_is_not_waited_for():
    consumer = _Consumer(lapsed=0)
    assert not _member(consumer).wait_for_session(lambda: False)
    assert consumer.polls == 0


def test_a_stop_ends_the_wait():
    consumer = _Consumer(lapsed=10**9)
    assert _member(consumer).wait_for_session(lambda: consumer.polls >= 2)
    assert consumer.polls == 2


def test_an_assignment_is_hearing_from_the_group():
    member = _member(_Consumer(lapsed=10**9))
    assert member.session_lapsed
    member._assigned_at = time.monotonic()
    assert not member.session_lapsed


def test_before_the_first_join_nothing_has_lapsed():
    member = _member(_Consumer(lapsed=10**9))
    member._joined.clear()
    assert not member.session_lapsed


def test_kafka_python_still_keeps_the_heartbeat_where_the_member_reads_it():
    """The member reads ``consumer._coordinator.heartbeat.last_receive`` (kafka-python 3, monotonic, set
    when the group accepts a heartbeat): an upgrade that moved it would turn the check off without a word."""
    heartbeat = Heartbeat()
    before = time.monotonic()
    heartbeat.reset_timeouts()  # what finding the coordinator again does: not a heartbeat accepted
    assert heartbeat.last_receive < before
    heartbeat.received_heartbeat()
    assert heartbeat.last_receive >= before
    source = inspect.getsource(KafkaConsumer.__init__)
    assert "self._coordinator = ConsumerCoordinator(" in source
    assert "self.heartbeat = Heartbeat(" in inspect.getsource(BaseCoordinator.__init__)
