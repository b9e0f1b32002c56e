"""Consumer-group membership for the local stream: instances that share a group id share the partitions.

One :class:`GroupMember` per process joins the group through kafka-python's group coordination
(``subscribe`` with a rebalance listener) and never fetches a record itself: its partitions stay paused, and
the micro-batches read the partitions it owns through the reader pool, as before. It is the group's voice in
this process: the offset commits of a batch go through it, with its generation, because the broker refuses
commits from outside the group once the group has members (``UNKNOWN_MEMBER_ID``).

Why rebalances only happen between batches: the micro-batch loop polls the member between batches only (and
while idle), the way a Java consumer's poll-process-commit loop does. A rebalance is joined inside that poll,
so when partitions are revoked the previous batch is already written and committed; the group waits for
this member's next poll, i.e. for the running batch to finish (the broker's rebalance timeout is
``max.poll.interval.ms``). Heartbeats run on kafka-python's IO thread meanwhile, so a long batch does not
end the session. A batch longer than ``max.poll.interval.ms`` does: kafka-python then leaves the group,
the batch's commits are refused and skipped (nothing from partitions this member no longer owns is
committed), and the new owner re-reads from the committed offset.

Committed offsets never move backwards: every commit reads the current committed offsets first and skips,
logs and counts any that would go back (a zombie from before a rebalance, a replayed ack).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import structlog
from kafka import KafkaConsumer, TopicPartition
from kafka import errors as kafka_errors
from kafka.consumer.subscription_state import ConsumerRebalanceListener
from kafka.coordinator.consumer import ConsumerCoordinator
from kafka.structs import OffsetAndMetadata

from transforms.settings import KafkaSettings

log = structlog.get_logger(__name__)

SESSION_TIMEOUT_MS = 6_000
"""A member that stops heartbeating (killed, host gone) is evicted after this; its partitions move on."""
HEARTBEAT_INTERVAL_MS = 2_000
"""A third of the session timeout, as Kafka recommends."""
MAX_POLL_INTERVAL_MS = 300_000
"""The longest a micro-batch may run: the member polls between batches, and the broker waits this long
for a member to rejoin a rebalance. Kafka's default; ``--batch-records`` keeps batches far below it."""

RECONNECT_BACKOFF_MAX_MS = 1_000
"""Java's default. kafka-python's (30 s) made the member find the coordinator again up to 30 s after a
broker came back, and the running batch's commits waited for it."""

METADATA_MAX_AGE_MS = 10_000
"""How old the member's view of the topic may get. Partitions added to the input topic are seen (and
assigned, through a rebalance) at its next metadata refresh: kafka-python's default (5 min, Kafka's) left
the records of a new partition unread for 5 minutes. One small metadata request every 10 s."""

SESSION_WAIT = 2 * SESSION_TIMEOUT_MS / 1000
"""How long the batch loop waits for a lapsed session to be heard from again (a rejoin after an eviction
takes one round of the group protocol) before it goes on as before."""

REJOIN_WAIT = 2 * SESSION_TIMEOUT_MS / 1000
"""How long a refused commit waits for the member to rejoin before its offsets are given up."""

LOST_MEMBERSHIP = (
    kafka_errors.CommitFailedError,
    kafka_errors.RebalanceInProgressError,
    kafka_errors.IllegalGenerationError,
    kafka_errors.UnknownMemberIdError,
    kafka_errors.FencedInstanceIdError,
)
"""Commit errors that mean this member is no longer (or not yet again) the owner: retrying cannot help."""


@dataclass
class CommitOutcome:
    """What one commit did: offsets committed, and those skipped (going backwards, or not ours)."""

    committed: dict[TopicPartition, int] = field(default_factory=dict)
    backwards: dict[TopicPartition, tuple[int, int]] = field(default_factory=dict)  # (proposed, current)
    not_owned: dict[TopicPartition, int] = field(default_factory=dict)


def forward_only(
    current: Mapping[TopicPartition, int | None], proposed: Mapping[TopicPartition, int]
) -> tuple[dict[TopicPartition, int], dict[TopicPartition, tuple[int, int]]]:
    """Split ``proposed`` offsets into those at or past the ``current`` committed ones (or with none), and
    those that would move a committed offset backwards, with the current offset each would have undone."""
    ahead: dict[TopicPartition, int] = {}
    behind: dict[TopicPartition, tuple[int, int]] = {}
    for tp, offset in proposed.items():
        now = current.get(tp)
        if now is not None and offset < now:
            behind[tp] = (offset, now)
        else:
            ahead[tp] = offset
    return ahead, behind


def commit_forward(consumer: KafkaConsumer, offsets: Mapping[TopicPartition, int]) -> CommitOutcome:
    """Commit ``offsets`` through ``consumer`` except those that would move a committed offset backwards.

    The check and the commit are two requests: between them only the partition's owner commits (the group
    fences the others), so the check holds unless the owner itself is the one going back.
    """
    current = {tp: consumer.committed(tp) for tp in offsets}
    ahead, behind = forward_only(current, offsets)
    if ahead:
        consumer.commit({tp: OffsetAndMetadata(o, "", -1) for tp, o in ahead.items()})
    for tp, (proposed, now) in behind.items():
        log.warning(
            "commit_backwards_skipped",
            partition=f"{tp.topic}:{tp.partition}",
            proposed=proposed,
            committed=now,
            note="a committed offset never moves back; the records between stay committed",
        )
    return CommitOutcome(committed=ahead, backwards=behind)


def hold_rejoin(coordinator: ConsumerCoordinator) -> None:
    """Keep a rebalance this member has begun asked for until its assignment is applied.

    kafka-python 3.0 (``ConsumerCoordinator``) rejoins when its metadata shows partitions it did not
    assign (partitions added to the topic), but only while that difference lasts: the leader's own
    assignment, inside the join, records the new metadata as assigned. When the join outlasts the
    ``poll`` that began it (the micro-batch loop polls with no wait between batches; a loaded machine
    makes the round trips slower), the next poll sees nothing left to rejoin for, never takes the join's
    result, and the member stays mid-rebalance for good: its partitions revoked, none assigned, nothing
    read (the stream stayed "not settled", so not even idle). ``rejoin_needed``, which a rebalance asked by
    the group keeps until the assignment is applied, is set here for the same span: from a rejoin being
    needed or a join begun (``rejoining``, cleared only as the assignment is applied) to the end.
    Internals of kafka-python, as :func:`transforms.kafka_io.cluster_topics`; recheck on an upgrade."""
    if coordinator.rejoining or coordinator.need_rejoin():
        coordinator.request_rejoin()


class _Listener(ConsumerRebalanceListener):
    """Keeps the member's owned set and pauses what it gets (it runs on kafka-python's IO thread, so it
    only updates state: it must not block or call the consumer's blocking API)."""

    def __init__(self, member: GroupMember) -> None:
        self.member = member

    def on_partitions_revoked(self, revoked) -> None:
        self.member._give_up(set(revoked), lost=False)

    def on_partitions_lost(self, lost) -> None:
        self.member._give_up(set(lost), lost=True)

    def on_partitions_assigned(self, assigned) -> None:
        self.member._take(set(assigned))


class GroupMember:
    """This process's membership of ``group_id`` on ``topic``; see the module docstring for the protocol.

    Only one thread polls it at a time: the micro-batch loop between batches, or a refused commit while the
    loop waits for that batch. Commits come from the batch's worker threads (kafka-python 3 runs every
    request on its IO thread and lets several threads wait on it); they are serialised here.
    """

    def __init__(self, settings: KafkaSettings, topic: str, group_id: str) -> None:
        self.group_id = group_id
        self.topic = topic
        self._lock = threading.Lock()
        self._owned: frozenset[TopicPartition] = frozenset()
        self._joined = threading.Event()
        self._settled = threading.Event()
        self._committing = threading.Lock()
        self._assignments = 0
        self._assigned_at = float("-inf")  # monotonic: the group's last assignment to this member
        self.consumer = KafkaConsumer(
            **settings.consumer_kwargs(group_id),
            session_timeout_ms=SESSION_TIMEOUT_MS,
            heartbeat_interval_ms=HEARTBEAT_INTERVAL_MS,
            max_poll_interval_ms=MAX_POLL_INTERVAL_MS,
            reconnect_backoff_max_ms=RECONNECT_BACKOFF_MAX_MS,
            metadata_max_age_ms=METADATA_MAX_AGE_MS,
        )
        try:
            self.consumer.subscribe([topic], listener=_Listener(self))
            _register(self)
        except BaseException:
            self.consumer.close(autocommit=False)
            raise

    @property
    def owned(self) -> frozenset[TopicPartition]:
        """The partitions this member may read and commit now."""
        with self._lock:
            return self._owned

    @property
    def session_lapsed(self) -> bool:
        """The group has not accepted a heartbeat of this member, nor assigned it partitions, for a whole
        session timeout (this process was stopped, or cut off from the broker): the group has most likely
        given its partitions to other members, though the rebalance listener cannot hear of it before the
        next polls. The batch loop waits to hear from the group first (:meth:`wait_for_session`). Read from the time of kafka-python's last
        accepted heartbeat (monotonic), not its own session check, which it resets as soon as it finds
        the coordinator again, before the group has said whether the member is still in it."""
        heartbeat = getattr(getattr(self.consumer, "_coordinator", None), "heartbeat", None)
        if not self._joined.is_set() or heartbeat is None:
            return False
        heard = max(heartbeat.last_receive, self._assigned_at)
        return time.monotonic() - heard > SESSION_TIMEOUT_MS / 1000

    def wait_for_session(self, stopping: Callable[[], bool]) -> bool:
        """Poll while the session has lapsed, so that the group's verdict (the partitions lost, a rejoin)
        reaches the listener before another batch is formed on partitions that may be another member's
        now; at most :data:`SESSION_WAIT` seconds (a broker that is down is the batch loop's look to
        retry). Whether the session had lapsed."""
        if not self.session_lapsed:
            return False
        deadline = time.monotonic() + SESSION_WAIT
        while self.session_lapsed and not stopping() and time.monotonic() < deadline:
            self.poll(0.25)
        log.warning(
            "group_session_lapsed",
            group_id=self.group_id,
            heard_again=not self.session_lapsed,
            owned=sorted(tp.partition for tp in self.owned),
            note="no batch was formed on the partitions owned before; the group may have moved them",
        )
        return True

    @property
    def settled(self) -> bool:
        """False from a revocation until the next assignment: owning nothing then is not being idle."""
        return self._settled.is_set()

    def poll(self, seconds: float) -> frozenset[TopicPartition]:
        """Take part in the group for up to ``seconds`` (join, rebalance, heartbeat bookkeeping); the
        partitions owned afterwards. Never returns records: every owned partition is paused."""
        coordinator = self.consumer._coordinator  # noqa: SLF001 - see hold_rejoin
        hold_rejoin(coordinator)
        self.consumer.poll(timeout_ms=max(0, int(seconds * 1000)))
        hold_rejoin(coordinator)
        return self.owned

    def join(self, timeout: float) -> frozenset[TopicPartition]:
        """Poll until the first assignment (possibly empty: more members than partitions) or ``timeout``."""
        deadline = time.monotonic() + timeout
        while not self._joined.is_set() and time.monotonic() < deadline:
            self.poll(min(0.5, max(0.0, deadline - time.monotonic())))
        if not self._joined.is_set():
            log.warning("group_join_slow", group_id=self.group_id, waited_s=timeout)
        return self.owned

    def commit(self, offsets: Mapping[TopicPartition, int]) -> CommitOutcome:
        """Commit ``offsets`` for the partitions this member owns, never backwards.

        When the group refuses the commit (the member was dropped: a broker restart, a session lost), the
        member rejoins at once and commits what it owns again; offsets of partitions it does not own are
        skipped and logged: their new owner re-reads them from the committed offset. Committing after a
        rejoin is safe: an owner is the only one that commits, and a commit never goes back."""
        with self._committing:
            try:
                return self._commit_owned(offsets)
            except LOST_MEMBERSHIP as exc:
                log.warning("commit_refused_by_group", group_id=self.group_id, error=type(exc).__name__)
            self._rejoin()
            try:
                return self._commit_owned(offsets)
            except LOST_MEMBERSHIP as exc:
                log.warning("commit_refused_by_group", group_id=self.group_id, error=type(exc).__name__)
                return self._skipped(dict(offsets))

    def _commit_owned(self, offsets: Mapping[TopicPartition, int]) -> CommitOutcome:
        owned = self.owned
        mine = {tp: o for tp, o in offsets.items() if tp in owned}
        outcome = commit_forward(self.consumer, mine) if mine else CommitOutcome()
        others = {tp: o for tp, o in offsets.items() if tp not in owned}
        return self._skipped(others, outcome) if others else outcome

    def _skipped(
        self, offsets: dict[TopicPartition, int], outcome: CommitOutcome | None = None
    ) -> CommitOutcome:
        outcome = outcome or CommitOutcome()
        outcome.not_owned = offsets
        log.warning(
            "commit_skipped_not_owner",
            group_id=self.group_id,
            offsets={f"{tp.topic}:{tp.partition}": o for tp, o in sorted(offsets.items())},
            note="these partitions moved to another member, which re-reads from the committed offset",
        )
        return outcome

    def _rejoin(self) -> None:
        """Poll until the next assignment (or ``REJOIN_WAIT`` seconds). Called from a batch's commit while the
        micro-batch loop waits for that batch, so this is still the only thread polling."""
        before = self._assignments
        deadline = time.monotonic() + REJOIN_WAIT
        while self._assignments == before and time.monotonic() < deadline:
            self.poll(0.25)

    def close(self) -> None:
        """Leave the group at once (its partitions move without waiting for the session timeout)."""
        _unregister(self)
        self.consumer.close(autocommit=False)

    def _take(self, assigned: set[TopicPartition]) -> None:
        self.consumer.pause(*assigned)
        with self._lock:
            self._owned = self._owned | assigned
            self._assignments += 1
            self._assigned_at = time.monotonic()
        self._joined.set()
        self._settled.set()
        log.info(
            "group_partitions_assigned",
            group_id=self.group_id,
            partitions=sorted(tp.partition for tp in assigned),
            assignment=self._assignments,
        )

    def _give_up(self, partitions: set[TopicPartition], *, lost: bool) -> None:
        with self._lock:
            self._owned = self._owned - partitions
        self._settled.clear()
        if partitions:
            (log.warning if lost else log.info)(
                "group_partitions_lost" if lost else "group_partitions_revoked",
                group_id=self.group_id,
                partitions=sorted(tp.partition for tp in partitions),
            )


_MEMBERS: dict[str, GroupMember] = {}
_MEMBERS_LOCK = threading.Lock()


def _register(member: GroupMember) -> None:
    with _MEMBERS_LOCK:
        if member.group_id in _MEMBERS:
            raise RuntimeError(f"this process is already a member of group {member.group_id!r}")
        _MEMBERS[member.group_id] = member


def _unregister(member: GroupMember) -> None:
    with _MEMBERS_LOCK:
        if _MEMBERS.get(member.group_id) is member:
            del _MEMBERS[member.group_id]


def member_of(group_id: str) -> GroupMember | None:
    """The member of ``group_id`` in this process, if any: the local stream's batches commit through it
    (their DoFns run in this process); without one (a portable runner) the committer commits itself."""
    with _MEMBERS_LOCK:
        return _MEMBERS.get(group_id)
