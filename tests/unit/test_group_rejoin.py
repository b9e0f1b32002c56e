"""A rebalance the group member begins because partitions were added is finished, whatever the timing of
the polls (:func:`transforms.group_membership.hold_rejoin`), on kafka-python's own coordinator state (no
broker: the consumer's bootstrap address answers nothing, and the join's steps are called as its IO thread
calls them).

Before: a join that outlasted the poll that began it (one of the stream's ``poll(0)`` between batches, or
a slow round trip on a loaded machine) was never taken: the leader's assignment, inside the join, had made
the metadata look assigned, so no later poll rejoined, and the member stayed mid-rebalance with no
partition, for good (a partition added under a running stream was never read, 2 runs in 6 under load).
"""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from kafka import KafkaConsumer
from kafka.coordinator.consumer import ConsumerCoordinator
from kafka.protocol.consumer.metadata import ConsumerProtocolSubscription

from transforms.group_membership import hold_rejoin

TOPIC = "articles.raw"


@pytest.fixture
def coordinator() -> Iterator[ConsumerCoordinator]:
    """A subscribed member's coordinator, as after its first assignment (partition 0 of 1)."""
    consumer = KafkaConsumer(
        bootstrap_servers="127.0.0.1:9", group_id="g", api_version=(3, 0), enable_auto_commit=False
    )
    try:
        consumer.subscribe([TOPIC])
        coordinator = consumer._coordinator
        _metadata(coordinator, {0})
        coordinator._assignment_snapshot = coordinator._metadata_snapshot
        coordinator.rejoining = coordinator.rejoin_needed = False  # as a join taken does
        coordinator._joined_subscription = {TOPIC}
        yield coordinator
    finally:
        consumer.close(autocommit=False)


def _metadata(coordinator: ConsumerCoordinator, partitions: set[int]) -> None:
    """The member's metadata now shows ``partitions`` of the topic (kafka-python's listener, called)."""
    cluster = SimpleNamespace(unauthorized_topics=set(), partitions_for_topic=lambda topic: set(partitions))
    coordinator._handle_metadata_update(cluster)


def _leader_assigns(coordinator: ConsumerCoordinator) -> None:
    """The leader's assignment inside the join (kafka-python's own, on this member's subscription)."""
    member = SimpleNamespace(
        member_id="m",
        group_instance_id=None,
        metadata=ConsumerProtocolSubscription(version=0, topics=[TOPIC], user_data=b"").encode(),
    )
    coordinator._perform_assignment("m", "range", [member])


def test_a_join_begun_for_added_partitions_is_still_wanted_after_the_poll_that_began_it(coordinator):
    assert not coordinator.need_rejoin()
    _metadata(coordinator, {0, 1})  # a partition added: seen at the metadata refresh
    hold_rejoin(coordinator)  # the member's poll begins: a rejoin is due
    assert coordinator.need_rejoin()
    coordinator.rejoining = True  # the join begun (prepared, JoinGroup sent) ...
    _leader_assigns(coordinator)  # ... and assigned by the leader, after the poll gave up waiting
    hold_rejoin(coordinator)  # the poll ends
    assert coordinator.need_rejoin(), "the join's assignment would never be taken"


def test_a_join_begun_inside_a_poll_without_a_look_before_it_is_still_wanted(coordinator):
    """The metadata grows during the poll itself: the join starts and is assigned before the member looks."""
    _metadata(coordinator, {0, 1})
    coordinator.rejoining = True
    _leader_assigns(coordinator)
    hold_rejoin(coordinator)
    assert coordinator.need_rejoin()


def test_no_rejoin_is_held_once_the_assignment_is_taken(coordinator):
    """Once the join's result is applied (kafka-python clears both flags), nothing more is asked: no
    rebalance after rebalance."""
    _metadata(coordinator, {0, 1})
    hold_rejoin(coordinator)
    coordinator.rejoining = True
    _leader_assigns(coordinator)
    coordinator.rejoining = coordinator.rejoin_needed = False  # the join taken
    hold_rejoin(coordinator)
    assert not coordinator.need_rejoin()
