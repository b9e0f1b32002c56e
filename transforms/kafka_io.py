"""Pure-Python Kafka IO for Beam, on kafka-python: no Java expansion service, runs on the DirectRunner.

Reading is a splittable DoFn over topic-partition offset ranges:

* ``resolve_ranges`` turns topics plus a start rule (committed offset, else earliest/latest; or a time
  window via ``offsets_for_times``; or explicit offsets) into one :class:`PartitionRange` per partition.
* :class:`ReadPartitions` claims offsets one by one, sets the watermark from record timestamps and
  checkpoints (``defer_remainder``) between polls, so unbounded ranges stream forever and bounded ranges
  can be split within a partition across workers.

At-least-once: offsets are committed by :class:`CommitOffsets` only after the record has reached a
terminal write (clean topic, duplicates topic or DLQ): every sink emits an :class:`Ack`, acks are keyed by
partition, and the contiguous acknowledged frontier is what gets committed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

import apache_beam as beam
import structlog
from apache_beam import pvalue
from apache_beam.io.restriction_trackers import OffsetRange, OffsetRestrictionTracker
from apache_beam.io.watermark_estimators import ManualWatermarkEstimator
from apache_beam.metrics import Metrics
from apache_beam.transforms import userstate
from apache_beam.transforms.core import RestrictionProvider
from apache_beam.transforms.window import GlobalWindow, TimestampedValue
from apache_beam.utils.timestamp import Duration, Timestamp
from apache_beam.utils.windowed_value import WindowedValue
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import KafkaError, KafkaTimeoutError, OffsetOutOfRangeError, UnsupportedCodecError
from kafka.structs import OffsetAndMetadata

from transforms.client_pool import READERS, WRITERS
from transforms.group_membership import commit_forward, member_of
from transforms.records import Header, Origin, SourcePosition
from transforms.settings import KafkaSettings

log = structlog.get_logger(__name__)

T = TypeVar("T")
UNBOUNDED = 2**63 - 1
GAPS_TAG = "gaps"


@dataclass(frozen=True)
class KafkaRecord:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    timestamp_ms: int
    headers: tuple[Header, ...] = ()

    @classmethod
    def of(cls, rec: Any) -> KafkaRecord:
        """A kafka-python ``ConsumerRecord`` as the chain's input record."""
        return cls(
            rec.topic, rec.partition, rec.offset, rec.key, rec.value, rec.timestamp, tuple(rec.headers or ())
        )

    def position(self) -> SourcePosition:
        return SourcePosition(self.topic, self.partition, self.offset)

    def origin(self) -> Origin:
        """The message as read (value, key, headers): what a dead letter keeps and a replay sends."""
        return Origin(self.value or b"", self.key, self.headers, value_is_null=self.value is None)


@dataclass(frozen=True)
class PartitionRange:
    """Offsets ``[start, stop)`` of one topic-partition; ``stop=None`` reads forever."""

    topic: str
    partition: int
    start: int
    stop: int | None = None


@dataclass(frozen=True)
class Ack:
    """Offsets ``first..last`` (inclusive) of one partition have reached a terminal write."""

    topic: str
    partition: int
    first: int
    last: int

    @classmethod
    def of(cls, position: SourcePosition) -> Ack:
        return cls(position.topic, position.partition, position.offset, position.offset)


@dataclass(frozen=True)
class StartRule:
    """Where reading starts and stops. Times are epoch milliseconds."""

    reset: str = "earliest"  # when the group has no committed offset: earliest | latest
    use_committed: bool = True
    start_ms: int | None = None
    stop_ms: int | None = None
    bounded: bool = False  # stop at the end offsets seen at start-up


@dataclass
class ReadLimits:
    """Stop conditions for bounded local runs of an unbounded stream."""

    idle_timeout: float | None = None  # seconds without new records on a partition
    max_records: int | None = None  # records read by this worker process, all partitions together
    poll_timeout_ms: int = 500
    max_batch: int = 500


class _ReadCounter:
    """Records read in this process; ``--max-records`` counts per SDK worker process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.count = 0

    def take(self, limit: int | None) -> bool:
        with self._lock:
            if limit is not None and self.count >= limit:
                return False
            self.count += 1
            return True


READ_COUNTER = _ReadCounter()


class _LostOffsets:
    """Offsets found deleted before they were read (retention, ``kafka-delete-records``), counted in this
    process by :func:`resolve_ranges`, which runs outside any pipeline: the local stream adds them to its
    counters (``kafka.offsets_lost``). The reader counts what it meets in a pipeline as a Beam counter."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._count = 0

    def add(self, n: int) -> None:
        with self._lock:
            self._count += n

    def take(self) -> int:
        """The offsets counted since the last take."""
        with self._lock:
            count, self._count = self._count, 0
            return count


LOST_OFFSETS = _LostOffsets()


def report_lost(tp: TopicPartition, first: int, stop: int, where: str) -> None:
    """Offsets ``[first, stop)`` of ``tp`` were deleted before they were read: they can never be processed.
    Not silent: one warning naming them (for the operator to trace, e.g. to re-send them from their
    source), and counted."""
    log.warning(
        "kafka_offsets_lost",
        partition=f"{tp.topic}:{tp.partition}",
        first=first,
        last=stop - 1,
        count=stop - first,
        found_by=where,
        note="deleted by retention or delete-records before they were read; reading goes on from the "
        "earliest offset still on the log",
    )


def log_start_past(consumer: KafkaConsumer, tp: TopicPartition, position: int) -> int:
    """The log start of ``tp`` for a ``position`` that is out of range: above it, the offsets between were
    deleted before they were read. ``OffsetOutOfRangeError`` if it is not above (``position`` is past the
    log end: the topic deleted and made again), which no reading on can mend."""
    start = consumer.beginning_offsets([tp])[tp]
    if start <= position:
        raise OffsetOutOfRangeError(f"{tp.topic}:{tp.partition} offset {position} is past the log end")
    return start


def reader_kwargs(settings: KafkaSettings) -> dict[str, Any]:
    """A reader's consumer settings (:class:`ReadPartitions`, the readers made ahead, the work read ahead):
    no automatic offset reset. kafka-python's default, ``latest``, moved a reader whose offsets had been
    deleted under it to the log end, and the range's records still on the log were then acknowledged as
    a gap, unread; without a reset policy the reader is told (``OffsetOutOfRangeError``) and decides."""
    return {**settings.consumer_kwargs(None), "auto_offset_reset": "none"}


ABORTING = threading.Event()
"""Set by the local stream when the operator aborts the running batch (a second Ctrl-C): from then on no
call is retried and no offset is committed (:func:`retrying` refuses). The stream also raises
KeyboardInterrupt in its main thread, but that lands at an arbitrary point: a library may swallow it, or
be left with a broken client whose calls then time out and are retried; this flag does not depend on
where the interrupt landed."""


STOPPING = threading.Event()
"""Set once the operator asks the stream to stop (SIGTERM, a first Ctrl-C). A retry's wait ends at once and
the failing call is given up (:class:`Stopped`): waiting out a broker outage (up to ``patience``, 10
minutes) only delayed the stop. Giving up never loses an offset: nothing is committed past acked output."""


class Abandoned(RuntimeError):
    """A Kafka call refused because the batch was aborted (:data:`ABORTING`)."""


class Stopped(RuntimeError):
    """A failing Kafka call given up instead of retried because a stop was asked for (:data:`STOPPING`)."""


def retrying(call: Callable[[], T], what: str, patience: float = 600.0) -> T:
    """``call()`` retried while the brokers are unreachable, for up to ``patience`` seconds.

    Workers create clients and commit offsets while the pipeline runs; a broker outage there must hold the
    bundle until the broker is back, not fail the job. Every call wrapped here is safe to repeat. Once the
    batch is aborted (:data:`ABORTING`), no call is made: commits go through here too. Once a stop is asked
    for (:data:`STOPPING`), a failing call is not tried again (:class:`Stopped`): the wait between two tries
    ends as the stop is asked, and the brokers' return is not waited for.

    The first failure is logged as a warning, the later ones at debug level, and a success after failures
    as one ``kafka_recovered`` line with the count: an outage is two lines, however long it lasts.
    """
    started = time.monotonic()
    deadline = started + patience
    attempt = 0
    while True:
        if ABORTING.is_set():
            raise Abandoned(f"{what}: the batch was aborted")
        attempt += 1
        try:
            result = call()
        except (KafkaError, OSError) as exc:
            if time.monotonic() >= deadline:
                raise
            if STOPPING.is_set():
                raise Stopped(f"{what}: given up, a stop was asked for ({type(exc).__name__})") from exc
            (log.warning if attempt == 1 else log.debug)(
                "kafka_retrying", call=what, attempt=attempt, error=type(exc).__name__, patience_s=patience
            )
            if STOPPING.wait(min(5.0, 0.5 * attempt)):  # not tried again: an attempt may take 30 s
                raise Stopped(f"{what}: given up, a stop was asked for ({type(exc).__name__})") from exc
            continue
        if attempt > 1:
            log.info(
                "kafka_recovered",
                call=what,
                failed_attempts=attempt - 1,
                seconds=round(time.monotonic() - started, 1),
            )
        return result


OFFSETS_TIMEOUT_MS = 5_000
"""How long a look at a partition's first and last offsets may take. kafka-python retries a partition it
does not know (a topic deleted) without a pause until then, thousands of requests a second: 30 s (its
request timeout) was 30 s of a core and a flood on the broker before the stream could see why."""


class TopicMissing(LookupError):
    """A topic the run reads or writes is not on the cluster: never created, or deleted while the run went
    on. Not a Kafka error, so :func:`retrying` does not wait for it: no retry brings a topic back."""


def cluster_topics(consumer: KafkaConsumer, timeout_ms: int) -> set[str]:
    """The cluster's topics, fetched afresh, or ``KafkaTimeoutError`` after ``timeout_ms``.

    ``KafkaConsumer.topics()`` waits for the metadata with no time limit (kafka-python 3.0: ``wait_for(future,
    None)``): called in a broker outage, it held the stream's loop, and so a stop, until the brokers came
    back (a fresh-clone CI run: no retry and no stop in 90 s). This is its body with a bound (the same
    internals; recheck on a kafka-python upgrade)."""
    cluster = consumer._cluster  # noqa: SLF001 - topics() without its unbounded wait
    stash = cluster.need_all_topic_metadata
    cluster.need_all_topic_metadata = True
    try:
        future = cluster.request_update()
        consumer._net.run(consumer._manager.wait_for, future, timeout_ms)  # noqa: SLF001
    finally:
        cluster.need_all_topic_metadata = stash
    return set(cluster.topics())


def require_topics(consumer: KafkaConsumer, topics: Iterable[str], settings: KafkaSettings) -> None:
    """Raise :class:`TopicMissing` naming any of ``topics`` the cluster does not have now (a fresh look at
    its metadata through ``consumer``); Kafka errors raise as they are (an outage: retried by the caller)."""
    existing = cluster_topics(consumer, OFFSETS_TIMEOUT_MS)
    missing = sorted(set(topics) - existing)
    if missing:
        raise TopicMissing(
            f"topic {missing[0]!r} does not exist on {settings.bootstrap_servers} (deleted while the run "
            "went on?); no offset was committed past what was written"
        )


def resolve_ranges(
    settings: KafkaSettings,
    topics: Iterable[str],
    group_id: str | None,
    rule: StartRule,
    *,
    announce: bool = True,
    consumer: KafkaConsumer | None = None,
    partitions: Collection[TopicPartition] | None = None,
) -> list[PartitionRange]:
    """One offset range per partition of ``topics`` (only those in ``partitions``, when given: the ones a
    group member owns), following ``rule``.

    In a streaming run with a group id, partitions without a committed offset get their start offset
    committed at once, so the commit frontier always has a known starting point. ``announce=False`` logs
    the ranges at debug level only (the local stream resolves them every poll, with its own ``consumer``
    of ``group_id`` kept open between polls; without one, a consumer is opened and closed here).
    """
    topics = list(topics)
    own = consumer is None
    if consumer is None:
        consumer = KafkaConsumer(**settings.consumer_kwargs(group_id))
    try:
        tps = []
        for topic in topics:
            found = consumer.partitions_for_topic(topic)
            if not found:
                raise TopicMissing(f"topic {topic!r} does not exist on {settings.bootstrap_servers}")
            tps += [TopicPartition(topic, p) for p in sorted(found)]
        if partitions is not None:
            tps = [tp for tp in tps if tp in partitions]
            if not tps:
                return []
        try:
            beginning = consumer.beginning_offsets(tps, timeout_ms=OFFSETS_TIMEOUT_MS)
            end = consumer.end_offsets(tps, timeout_ms=OFFSETS_TIMEOUT_MS)
        except KafkaError:
            require_topics(consumer, topics, settings)  # deleted under the stream: say so, do not retry
            raise
        starts: dict[TopicPartition, int] = {}
        to_commit = {}
        committed = {
            tp: consumer.committed(tp)
            if (group_id and rule.use_committed and rule.start_ms is None)
            else None
            for tp in tps
        }
        reset = rule.reset
        knows = group_id and rule.use_committed and None in committed.values()
        if reset == "latest" and knows and _group_knows(consumer, topics, committed):
            reset = "earliest"  # a partition added since the group started: its records are new, not old
        for tp in tps:
            if rule.start_ms is not None:
                continue
            start = committed[tp]
            if start is None:
                start = beginning[tp] if reset == "earliest" else end[tp]
            elif start < beginning[tp]:
                LOST_OFFSETS.add(beginning[tp] - start)
                report_lost(tp, start, beginning[tp], "committed offset below the log start")
                start = beginning[tp]
            elif start > end[tp] and start > _log_end(settings, tp):
                log.warning(
                    "kafka_offset_past_log_end",
                    partition=f"{tp.topic}:{tp.partition}",
                    committed=start,
                    log_end=end[tp],
                    note="the topic was deleted and created again, or its log cut short: reading starts "
                    "again from the earliest offset on the log",
                )
                start = beginning[tp]
            if start != committed[tp] and group_id and rule.use_committed:
                to_commit[tp] = OffsetAndMetadata(start, "", -1)  # the frontier's start: committed first
            starts[tp] = start
        if rule.start_ms is not None:
            starts = _offsets_at(consumer, tps, rule.start_ms, end)
            _warn_window_deleted(tps, starts, beginning)
        stops = _offsets_at(consumer, tps, rule.stop_ms, end) if rule.stop_ms is not None else None
        if to_commit:
            consumer.commit(to_commit)
        ranges = []
        for tp in tps:
            stop = stops[tp] if stops is not None else (end[tp] if rule.bounded else None)
            ranges.append(PartitionRange(tp.topic, tp.partition, starts[tp], stop))
        (log.info if announce else log.debug)(
            "kafka_ranges",
            group_id=group_id,
            ranges=[
                f"{r.topic}:{r.partition}[{r.start},{r.stop if r.stop is not None else '∞'})" for r in ranges
            ],
        )
        return ranges
    finally:
        if own:
            consumer.close(autocommit=False)


def _group_knows(
    consumer: KafkaConsumer, topics: Iterable[str], committed: dict[TopicPartition, int | None]
) -> bool:
    """Whether the group has a committed offset on any partition of ``topics`` (not only those looked at):
    then it is not new, and a partition without one was added since it started."""
    if any(offset is not None for offset in committed.values()):
        return True
    others = [
        TopicPartition(topic, p)
        for topic in topics
        for p in sorted(consumer.partitions_for_topic(topic) or ())
        if TopicPartition(topic, p) not in committed
    ]
    return any(consumer.committed(tp) is not None for tp in others)


def _log_end(settings: KafkaSettings, tp: TopicPartition) -> int:
    """The partition's log end offset, past any open transaction (a ``read_committed`` consumer's end
    offset stops at the first one): a committed offset past it is out of the log. Only looked up when a
    committed offset is past the last stable offset, which is rare."""
    consumer = KafkaConsumer(**{**settings.consumer_kwargs(None), "isolation_level": "read_uncommitted"})
    try:
        return consumer.end_offsets([tp])[tp]
    finally:
        consumer.close(autocommit=False)


def _warn_window_deleted(
    tps: list[TopicPartition], starts: dict[TopicPartition, int], beginning: dict[TopicPartition, int]
) -> None:
    """A time window whose first record still on the log is the log's first, where offsets were deleted
    before it: the window may have begun among the deleted records, which no backfill can read again."""
    for tp in tps:
        if starts[tp] == beginning[tp] > 0:
            log.warning(
                "kafka_window_start_deleted",
                partition=f"{tp.topic}:{tp.partition}",
                deleted_below=beginning[tp],
                note="the window starts at the earliest offset still on the log; records of the window "
                "among the deleted offsets (retention, delete-records) cannot be read",
            )


def _offsets_at(
    consumer: KafkaConsumer, tps: list[TopicPartition], ms: int, end: dict[TopicPartition, int]
) -> dict[TopicPartition, int]:
    """First offset with timestamp >= ms per partition (the end offset where there is none)."""
    found = consumer.offsets_for_times({tp: ms for tp in tps})
    return {tp: (found[tp].offset if found.get(tp) is not None else end[tp]) for tp in tps}


class _Ranges(RestrictionProvider):
    """Restrictions are offset ranges; bounded ranges are split in chunks so workers share a partition."""

    def __init__(self, split_size: int = 2000) -> None:
        self.split_size = split_size

    def initial_restriction(self, element: PartitionRange) -> OffsetRange:
        return OffsetRange(
            element.start, UNBOUNDED if element.stop is None else max(element.start, element.stop)
        )

    def create_tracker(self, restriction: OffsetRange) -> OffsetRestrictionTracker:
        return OffsetRestrictionTracker(restriction)

    def split(self, element: PartitionRange, restriction: OffsetRange) -> Iterator[OffsetRange]:
        if restriction.stop == UNBOUNDED:
            yield restriction
        else:
            yield from restriction.split(self.split_size, self.split_size // 2)

    def restriction_size(self, element: PartitionRange, restriction: OffsetRange) -> int:
        return 1 if restriction.stop == UNBOUNDED else restriction.size()


class ReadPartitions(beam.DoFn):
    """Splittable DoFn: PartitionRange -> KafkaRecord (main) and gap Acks (tagged ``gaps``)."""

    def __init__(self, settings: KafkaSettings, limits: ReadLimits | None = None) -> None:
        self.settings = settings
        self.limits = limits or ReadLimits()
        self._last_seen: dict[tuple[str, int], float] = {}

    def setup(self) -> None:
        self._kwargs = reader_kwargs(self.settings)
        self._last_seen = {}
        self._failed_polls: dict[TopicPartition, int] = {}  # a warning for the first, debug for the rest
        self._read = Metrics.counter("newsflow", "kafka.records_read")
        self._bytes = Metrics.counter("newsflow", "kafka.bytes_read")
        self._lost = Metrics.counter("newsflow", "kafka.offsets_lost")

    @beam.DoFn.unbounded_per_element()
    def process(
        self,
        part: PartitionRange,
        tracker=beam.DoFn.RestrictionParam(_Ranges()),
        watermark=beam.DoFn.WatermarkEstimatorParam(ManualWatermarkEstimator.default_provider()),
    ) -> Iterator:
        restriction = tracker.current_restriction()
        key = (part.topic, part.partition)
        if restriction.start >= restriction.stop:
            return
        tp = TopicPartition(part.topic, part.partition)
        consumer = retrying(lambda: READERS.take(self._kwargs, tp, restriction.start), "reader")
        try:
            batch = consumer.poll(timeout_ms=self.limits.poll_timeout_ms, max_records=self.limits.max_batch)
        except OffsetOutOfRangeError:
            yield from self._deleted_under(consumer, tp, part, tracker)
            return
        except KafkaError as exc:
            consumer.close(autocommit=False)
            if isinstance(exc, UnsupportedCodecError):  # no retry decodes it: fail loudly, not stall
                raise
            failed = self._failed_polls[tp] = self._failed_polls.get(tp, 0) + 1
            (log.warning if failed == 1 else log.debug)(
                "kafka_poll_failed",
                partition=f"{part.topic}:{part.partition}",
                error=str(exc),
                attempt=failed,
            )
            tracker.defer_remainder(Duration(seconds=1))
            return
        if self._failed_polls.get(tp):
            log.info(
                "kafka_poll_recovered",
                partition=f"{part.topic}:{part.partition}",
                failed_polls=self._failed_polls.pop(tp),
            )
        READERS.give(self._kwargs, consumer, tp)
        records = batch.get(tp, [])
        now = time.monotonic()
        if not records:
            if restriction.stop != UNBOUNDED and consumer.position(tp) >= restriction.stop:
                yield from _end_gap(tracker, part, restriction.start)  # nothing left in range: done
                return
            idle_since = self._last_seen.setdefault(key, now)
            if self.limits.idle_timeout is not None and now - idle_since >= self.limits.idle_timeout:
                log.info("partition_idle_stop", partition=f"{part.topic}:{part.partition}")
                _finish(tracker)
                return
            _advance(watermark, Timestamp.now() - Duration(seconds=1))
            tracker.defer_remainder(Duration(seconds=0.2))
            return
        self._last_seen[key] = now
        expected = restriction.start
        for rec in records:
            if rec.offset < expected:
                continue
            if rec.offset >= restriction.stop:  # the range's last offsets hold no record (markers)
                yield from _end_gap(tracker, part, expected)
                return
            if not READ_COUNTER.take(self.limits.max_records):
                log.info("max_records_reached", max_records=self.limits.max_records)
                _finish(tracker)
                return
            if not tracker.try_claim(rec.offset):
                return
            yield from gap_ack(part, expected, rec.offset)  # compacted or transactional: nothing there
            expected = rec.offset + 1
            self._read.inc()
            self._bytes.inc(len(rec.value or b""))
            timestamp = Timestamp(micros=max(rec.timestamp, 0) * 1000)
            _advance(watermark, timestamp)
            yield TimestampedValue(KafkaRecord.of(rec), timestamp)
        if restriction.stop != UNBOUNDED and expected >= restriction.stop:
            tracker.try_claim(restriction.stop)
            return
        tracker.defer_remainder()

    def _deleted_under(self, consumer: KafkaConsumer, tp: TopicPartition, part: PartitionRange, tracker):
        """The reader's position is no longer on the log. Below its start (retention or delete-records
        took offsets this range had not read yet): those offsets are counted, reported and acknowledged
        as a gap, and reading goes on from the log start. Past its end (the topic deleted and created
        again): no offset of the range can be read as it was, so the run fails and the range is looked
        up again (:func:`resolve_ranges` starts such a partition over from its earliest offset)."""
        first = tracker.current_restriction().start
        stop = tracker.current_restriction().stop
        try:
            beginning = log_start_past(consumer, tp, first)
        except BaseException:
            consumer.close(autocommit=False)
            raise
        last = min(beginning, stop) - 1
        if not tracker.try_claim(last):
            consumer.close(autocommit=False)
            return
        self._lost.inc(last + 1 - first)
        report_lost(tp, first, last + 1, "reader")
        yield pvalue.TaggedOutput(GAPS_TAG, Ack(part.topic, part.partition, first, last))
        consumer.seek(tp, last + 1)
        READERS.give(self._kwargs, consumer, tp)
        if last + 1 < stop:
            tracker.defer_remainder()


def _end_gap(tracker, part: PartitionRange, first: int) -> Iterator[pvalue.TaggedOutput]:
    """End a bounded range whose offsets from ``first`` (the first unclaimed) on hold no record
    (transaction markers, aborted or compacted records): claim them and acknowledge them as a gap, or the
    commit frontier would wait for ever for offsets that are never read."""
    stop = tracker.current_restriction().stop
    if first < stop and tracker.try_claim(stop - 1):
        yield from gap_ack(part, first, stop)
    else:
        tracker.try_claim(stop)


def gap_ack(part: PartitionRange, first: int, stop: int) -> Iterator[pvalue.TaggedOutput]:
    """The ack (tagged ``gaps``) of offsets ``[first, stop)`` of ``part``'s partition, which hold no record
    (compacted, aborted, transaction markers), if there are any: what every reader of a range, the Kafka
    reader and the local stream's records read ahead alike, acknowledges so the commit frontier passes
    them."""
    if first < stop:
        yield pvalue.TaggedOutput(GAPS_TAG, Ack(part.topic, part.partition, first, stop - 1))


def _advance(watermark: ManualWatermarkEstimator, timestamp: Timestamp) -> None:
    current = watermark.current_watermark()
    if current is None or timestamp > current:
        watermark.set_watermark(timestamp)


def _finish(tracker) -> None:
    """End a range early (idle or max-records): claim its last position so the runner sees it done."""
    restriction = tracker.current_restriction()
    tracker.try_claim(restriction.stop - 1)


class ReadBoundedPartitions(ReadPartitions):
    """The same reader declared bounded (every range has a stop), for the local stream's micro-batches and
    backfill windows: a batch runner may run it, batch grouping applies downstream, and ranges still split
    in chunks of offsets so workers share a big partition. ``process`` is declared again because Beam reads
    boundedness from the method itself (the parent's carries ``unbounded_per_element``)."""

    def process(
        self,
        part: PartitionRange,
        tracker=beam.DoFn.RestrictionParam(_Ranges()),
        watermark=beam.DoFn.WatermarkEstimatorParam(ManualWatermarkEstimator.default_provider()),
    ) -> Iterator:
        yield from super().process(part, tracker, watermark)


def warm_readers(settings: KafkaSettings, ranges: list[PartitionRange]) -> None:
    """A reader (:class:`ReadPartitions`' consumer) for each partition of ``ranges`` made in the background,
    placed at the range's start and connected to the partition's leader, unless one is kept already
    (:meth:`~transforms.client_pool.ClientPool.warm`): a batch's first read of a partition waited about
    0.2 s for that, one partition after the other."""
    kwargs = reader_kwargs(settings)
    for r in ranges:
        READERS.warm(kwargs, TopicPartition(r.topic, r.partition), r.start)


def cap_ranges(ranges: list[PartitionRange], budget: int) -> list[PartitionRange]:
    """Bounded ranges cut to ``budget`` offsets in all, shared evenly by the partitions that have any.

    A micro-batch reads at most that much, so a crash re-delivers at most one batch and latency stays
    bounded under a backlog. Partitions with nothing to read are left out.
    """
    pending = [r for r in ranges if r.stop is not None and r.stop > r.start]
    capped: dict[int, int] = {i: 0 for i in range(len(pending))}
    left = budget
    while left > 0:
        open_ = [i for i, r in enumerate(pending) if r.start + capped[i] < r.stop]
        if not open_:
            break
        share = max(1, left // len(open_))
        for i in open_:
            take = min(share, pending[i].stop - pending[i].start - capped[i], left)
            capped[i] += take
            left -= take
            if left == 0:
                break
    return [
        PartitionRange(r.topic, r.partition, r.start, r.start + capped[i])
        for i, r in enumerate(pending)
        if capped[i] > 0
    ]


class ReadFromKafka(beam.PTransform):
    """Reads ``ranges`` -> (records, gap acks). Resolve ranges first with :func:`resolve_ranges`.

    ``bounded=True`` (every range has a stop) declares the read bounded, for a batch runner.
    """

    def __init__(
        self,
        settings: KafkaSettings,
        ranges: list[PartitionRange],
        limits: ReadLimits | None = None,
        *,
        bounded: bool = False,
    ):
        super().__init__()
        if bounded and any(r.stop is None for r in ranges):
            raise ValueError("a bounded read needs a stop offset on every range")
        self.settings = settings
        self.ranges = ranges
        self.limits = limits
        self.bounded = bounded

    def expand(self, pbegin: pvalue.PBegin) -> pvalue.DoOutputsTuple:
        reader = (ReadBoundedPartitions if self.bounded else ReadPartitions)(self.settings, self.limits)
        return (
            pbegin
            | "Partitions" >> beam.Create(self.ranges)
            | "Read" >> beam.ParDo(reader).with_outputs(GAPS_TAG, main="records")
        )


@dataclass(frozen=True)
class OutMessage:
    """One message for a sink: the key is the article id, the position is what it acknowledges."""

    topic: str
    key: bytes | None
    value: bytes
    position: SourcePosition | None
    headers: tuple[tuple[str, bytes], ...] = ()


WRITE_STALL_S = 5.0
"""How long a flush may wait before the topics it still writes to are checked (:meth:`WriteToKafka._flush`):
one metadata request per stalled writer every 5 s."""


class WriteToKafka(beam.DoFn):
    """Produce messages (acks=all, idempotent) and flush before the bundle ends; then emit their Acks.

    A delivery error raises, which fails and retries the bundle: nothing is acknowledged (so nothing is
    committed) that was not written. The producer is kept in the process between runs
    (:mod:`transforms.client_pool`) unless it failed. ``batching``: producer settings over the defaults
    (``linger_ms``, ``batch_size``) for a writer whose bundles are long and whose records come one by one.
    """

    def __init__(
        self, settings: KafkaSettings, flush_timeout: float = 120.0, batching: dict[str, int] | None = None
    ) -> None:
        self.settings = settings
        self.flush_timeout = flush_timeout
        self.batching = batching or {}

    def setup(self) -> None:
        self._kwargs = {**self.settings.producer_kwargs(), **self.batching}
        self._producer: KafkaProducer | None = None
        self._written = Metrics.counter("newsflow", "kafka.records_written")

    def start_bundle(self) -> None:
        self._pending: list[tuple] = []
        if self._producer is None:
            self._producer = retrying(lambda: WRITERS.take(self._kwargs), "writer")

    def process(self, message: OutMessage) -> None:
        try:
            future = self._producer.send(
                message.topic, key=message.key, value=message.value, headers=list(message.headers)
            )
        except KafkaTimeoutError:  # no metadata for the topic in max_block_ms: deleted under the run?
            self._require([message.topic])
            raise
        self._pending.append((future, message))

    def _require(self, topics: Collection[str]) -> None:
        """After a failed or stalled write: :class:`TopicMissing` if a topic written to is gone (no retry
        brings it back: the stream stops at once, naming it, rather than failing batch after batch). A look
        that fails itself (the broker away) leaves the write's own error to be raised, or the wait to go on."""
        if not topics:
            return
        try:
            checker = KafkaConsumer(**self.settings.consumer_kwargs(None))
        except KafkaError:
            return
        try:
            require_topics(checker, topics, self.settings)
        except KafkaError:
            return
        finally:
            checker.close(autocommit=False)

    def _flush(self, pending: list[tuple]) -> None:
        """Flush the producer within ``flush_timeout``; every ``WRITE_STALL_S`` it is still not done, the
        topics of the writes not yet delivered are checked (:class:`TopicMissing` if one is gone). The
        producer retries a deleted topic as it retries a broker away, until its 120 s delivery timeout:
        the check tells the two apart, so a deleted topic stops the run in seconds, and an outage (the check
        cannot reach the cluster) or a slow broker (the topics are there) is still waited for."""
        deadline = time.monotonic() + self.flush_timeout
        while True:
            try:
                self._producer.flush(timeout=max(0.0, min(WRITE_STALL_S, deadline - time.monotonic())))
                return
            except KafkaTimeoutError:
                if time.monotonic() >= deadline:
                    raise
                self._require({message.topic for future, message in pending if not future.is_done})

    def finish_bundle(self) -> Iterator[WindowedValue]:
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        try:
            self._flush(pending)
            for future, _ in pending:
                future.get(timeout=0)  # raises the delivery error, failing the bundle
        except BaseException as exc:
            producer, self._producer = self._producer, None
            _discard(producer)  # not kept: the retry starts on a new one
            if isinstance(exc, Exception) and not isinstance(exc, TopicMissing):  # not looked at yet
                self._require({message.topic for _, message in pending})
            raise
        for _, message in pending:
            self._written.inc()
            if message.position is not None:
                yield WindowedValue(Ack.of(message.position), Timestamp.now(), [GlobalWindow()])

    def teardown(self) -> None:
        producer = getattr(self, "_producer", None)
        if producer is not None:
            self._producer = None
            WRITERS.give(self._kwargs, producer)


def _discard(producer: KafkaProducer) -> None:
    """Close a producer whose writes failed, its undelivered records dropped (unacknowledged: the batch is
    run again). kafka-python's ``close(timeout=0)`` flushes first and raises while records are pending,
    leaving the producer open; its ``__del__`` then raised again at exit (a traceback on stderr after
    the run's last line). So its sender is stopped first, which fails the pending records (kafka-python
    internals, as :func:`cluster_topics`; recheck on an upgrade)."""
    sender = producer._sender  # noqa: SLF001 - close() without its flush of records that cannot be sent
    if sender is not None:
        sender.force_close()
        sender.join(1.0)
    try:
        producer.close(timeout=0)
    except KafkaTimeoutError:
        log.debug("producer_close_incomplete", note="records still pending after the sender stopped")


class AckFrontier:
    """The committed position of one partition: the first offset not yet acknowledged.

    Acks may arrive in any order and more than once; the frontier only moves over contiguous ranges.
    """

    def __init__(self, committed: int, pending: dict[int, int] | None = None) -> None:
        self.committed = committed
        self.pending = dict(pending or {})

    def ack(self, first: int, last: int) -> bool:
        """Record ``first..last``; return True if the committed position moved."""
        if last < self.committed:
            return False
        first = max(first, self.committed)
        self.pending[first] = max(last, self.pending.get(first, last))
        moved = False
        while self.committed in self.pending:
            self.committed = self.pending.pop(self.committed) + 1
            moved = True
        return moved


class CommitOffsets(beam.DoFn):
    """Keyed by ``topic:partition``: advance the ack frontier, commit it for the group per bundle, never
    backwards. In the local stream the commit goes through this process's group member (the group refuses
    commits from outside it), and only for the partitions the member still owns."""

    FRONTIER = userstate.ReadModifyWriteStateSpec("frontier", beam.coders.PickleCoder())

    def __init__(self, settings: KafkaSettings, group_id: str) -> None:
        self.settings = settings
        self.group_id = group_id

    def setup(self) -> None:
        self._member = member_of(self.group_id)
        if self._member is not None:  # the local stream: commit as the group's member in this process
            self._consumer = self._member.consumer
        else:
            self._consumer = retrying(
                lambda: KafkaConsumer(**self.settings.consumer_kwargs(self.group_id)), "committer"
            )
        self._commits = Metrics.counter("newsflow", "kafka.offset_commits")
        self._backwards = Metrics.counter("newsflow", "kafka.commits_backwards_skipped")
        self._not_owned = Metrics.counter("newsflow", "kafka.commits_not_owned_skipped")

    def start_bundle(self) -> None:
        self._to_commit: dict[TopicPartition, int] = {}

    def process(self, keyed: tuple[str, Ack], frontier_state=beam.DoFn.StateParam(FRONTIER)) -> None:
        _, ack = keyed
        tp = TopicPartition(ack.topic, ack.partition)
        frontier = frontier_state.read()
        if frontier is None:
            committed = retrying(lambda: self._consumer.committed(tp), "committed")
            frontier = AckFrontier(committed if committed is not None else ack.first)
        if frontier.ack(ack.first, ack.last):
            self._to_commit[tp] = frontier.committed
        frontier_state.write(frontier)

    def finish_bundle(self) -> None:
        if not self._to_commit:
            return
        offsets = dict(self._to_commit)
        commit = self._member.commit if self._member is not None else partial(commit_forward, self._consumer)
        outcome = retrying(lambda: commit(offsets), "commit")
        self._commits.inc(len(outcome.committed))
        self._backwards.inc(len(outcome.backwards))
        self._not_owned.inc(len(outcome.not_owned))
        log.debug(
            "offsets_committed",
            offsets={f"{tp.topic}:{tp.partition}": o for tp, o in outcome.committed.items()},
        )
        self._to_commit = {}

    def teardown(self) -> None:
        consumer = getattr(self, "_consumer", None)
        if consumer is not None and getattr(self, "_member", None) is None:
            consumer.close(autocommit=False)


class CommitAcks(beam.PTransform):
    """Acks -> committed consumer-group offsets (the at-least-once frontier)."""

    def __init__(self, settings: KafkaSettings, group_id: str) -> None:
        super().__init__()
        self.settings = settings
        self.group_id = group_id

    def expand(self, acks: beam.PCollection) -> beam.PCollection:
        return (
            acks
            | "KeyByPartition"
            >> beam.Map(lambda a: (f"{a.topic}:{a.partition}", a)).with_output_types(tuple[str, Ack])
            | "Commit" >> beam.ParDo(CommitOffsets(self.settings, self.group_id))
        )
