"""The local stream: ``newsflow stream`` on this machine, as successive bounded runs (micro-batches).

Why not one unbounded pipeline? Beam 2.77's ``DirectRunner`` first tries Prism (a binary download) and
then falls back to the FnApiRunner, which runs stage by stage: the keyed stages (learned boilerplate, dedup,
the offset commit) wait for the unbounded read to *end*, so an endless stream never writes or commits. The
older ``BundleBasedDirectRunner`` cannot run any splittable DoFn in streaming mode (its streaming GroupByKey
override is applied before the GroupByKey that the SDF expansion adds, so the pipeline is rejected with
"... ProcessKeyedElements/GroupByKey ... was not replaced as expected"). And Prism splits bundles of
stateful DoFns with timers and sometimes loses elements (apache/beam#35771).

So, like Spark Structured Streaming's micro-batches: read each partition from the group's committed
offset to its current end (at most ``batch_records`` in all), run the whole chain on that with the
FnApiRunner in this process, write, commit, repeat; when caught up, watch the end offsets and take what
comes in once they hold still (a full look for a batch at least every ``poll_interval`` seconds).
A batch's offsets are committed only after its outputs are written (the same ack frontier as the
unbounded pipeline), so a crash re-delivers at most one batch. State outlives each run: the dedup index
in SQLite under ``--state-dir`` (by default one per group and topic in the user's data dir, see
:mod:`pipelines.local_state`, backed by a compacted changelog topic), the learned
boilerplate sketches and the NER model in this process.
"""

from __future__ import annotations

import signal
import threading
import time
import weakref
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import apache_beam as beam
import structlog
from apache_beam.options.pipeline_options import (
    DirectOptions,
    PipelineOptions,
    PipelineOptionsT,
    StandardOptions,
)
from apache_beam.runners.portability.fn_api_runner import FnApiRunner
from apache_beam.runners.worker import statesampler
from apache_beam.transforms import core
from kafka import TopicPartition
from kafka.errors import KafkaError

from pipelines import metrics
from pipelines.failures import (
    Aborted,
    AuthenticationFailed,
    MissingCodec,
    NotAuthorised,
    UnknownTopic,
    explain,
)
from pipelines.summary import counters
from transforms.group_membership import SESSION_TIMEOUT_MS, GroupMember
from transforms.kafka_io import (
    ABORTING,
    LOST_OFFSETS,
    OFFSETS_TIMEOUT_MS,
    STOPPING,
    PartitionRange,
    StartRule,
    Stopped,
    cap_ranges,
    resolve_ranges,
    retrying,
    warm_readers,
)
from transforms.settings import KafkaSettings

log = structlog.get_logger(__name__)

LOCAL_RUNNERS = (None, "DirectRunner", "SwitchingDirectRunner")
FATAL = (AuthenticationFailed, NotAuthorised, UnknownTopic, MissingCodec)
"""Batch failures that retrying cannot fix (an ACL revoked, a topic deleted while running, a record batch
in a compression codec this process cannot decode)."""
MAX_FAILURES = 5
"""Consecutive failed batches (a broker gone for minutes, a bug) before the stream exits non-zero."""
IDLE_LOOK = 0.1
"""Seconds between looks at the end offsets while caught up."""
JOIN_WAIT = SESSION_TIMEOUT_MS / 1000 + 5.0
"""How long the first join may take before batches start anyway: a member of the group killed just before
(no leave) holds the rebalance until its session times out."""


@dataclass
class Batches:
    """What the micro-batch loop reads, and when it stops (from the stream's settings)."""

    kafka: KafkaSettings
    input_topic: str
    group_id: str
    reset: str = "earliest"
    idle_timeout: float | None = None
    max_records: int | None = None
    batch_records: int = 500
    poll_interval: float = 1.0
    beam_args: list[str] = field(default_factory=list)


BuildBatch = Callable[[beam.Pipeline, list[PartitionRange]], None]
"""Adds one bounded batch's pipeline (read these ranges, process, write, commit) to the given pipeline."""


class Ahead(Protocol):
    """Per-article work begun on the next batch while the running one is written and committed (the chain
    workers': :class:`pipelines.chain_workers.Ahead`)."""

    def plan(self, batch: list[PartitionRange], known: list[PartitionRange], budget: int) -> None:
        """``batch`` runs next; the one after may begin on ``known``'s partitions, ``budget`` at most."""

    def take(self, fresh: list[PartitionRange], budget: int) -> list[PartitionRange] | None:
        """The ranges begun ahead if they follow on the committed offsets in ``fresh``; else None."""

    def drop(self) -> None:
        """Forget the work begun ahead (after a failed batch, or on the way out)."""


def is_local(beam_args: list[str]) -> bool:
    """No runner, or Beam's DirectRunner: run as local micro-batches."""
    return PipelineOptions(beam_args).view_as(StandardOptions).runner in LOCAL_RUNNERS


class StopRequest:
    """SIGTERM or a first Ctrl-C asks for a clean stop after the running batch is written and committed;
    a second Ctrl-C aborts that batch at once, uncommitted, so the next run re-reads it.

    The handler only sets the event: a signal handler runs in the main thread between two bytecodes, maybe
    inside a log call holding structlog's (non-reentrant) stderr lock, so logging from it could deadlock the
    stream. A daemon thread logs the request instead."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.aborted = False
        self.signal = ""

    def install(self) -> None:
        signal.signal(signal.SIGTERM, self._request)
        signal.signal(signal.SIGINT, self._request)
        threading.Thread(target=self._announce, name="stop-request", daemon=True).start()

    def _request(self, signum: int, frame: object) -> None:
        if self.signal and signum == signal.SIGINT:
            self.aborted = True
            ABORTING.set()  # no commit and no retry from now on, wherever the interrupt lands
            raise KeyboardInterrupt
        self.signal = signal.Signals(signum).name
        self.event.set()

    def _announce(self) -> None:
        self.event.wait()
        STOPPING.set()  # here, not in the handler: the main thread may be inside STOPPING.wait (its lock)
        log.info(
            "stop_requested",
            signal=self.signal,
            note="the running batch is finished and committed first; Ctrl-C again aborts it",
        )

    @property
    def requested(self) -> bool:
        return bool(self.signal)


class _BatchOptions(PipelineOptions):
    """Pipeline options whose views are made once. Beam makes a new view (an argparse parser of every
    option, parsing the flags again) each time it looks at one, about 150 times as a batch's pipeline is
    built: half the building, which every batch pays. A view reads and writes the options it is a view of,
    so one view per class is the same as a new one each time."""

    def view_as(self, cls: type[PipelineOptionsT]) -> PipelineOptionsT:
        views = self.__dict__.setdefault("_views", {})
        if cls not in views:
            views[cls] = super().view_as(cls)
        return views[cls]


_METHOD_ARGUMENTS: weakref.WeakKeyDictionary[type, dict[str, tuple[list, list]]] = weakref.WeakKeyDictionary()
"""Per class, per method name: its arguments and their defaults, as Beam's ``get_function_arguments`` gives
them (weakly keyed: a class gone is forgotten)."""


def _remember_method_arguments() -> None:
    """Make Beam's look at a DoFn's method arguments (``apache_beam.transforms.core.get_function_arguments``,
    an ``inspect.signature``) once per class and method, not each time. Beam looks at every method of every
    DoFn several times as a batch's pipeline is built, translated and set up (to find state and timer
    parameters): 3,200 signatures as a micro-batch's pipeline is built and translated, half of the 0.12 s
    of the stream process's CPU that takes each batch, in the serial step between two batches. A method a class defines answers the same for all its instances,
    so that is what is remembered; a method set on the instance, or one the DoFn inspects its own way
    (``_inspect_<name>``, as ``beam.Map``'s wrapper of its function does) is looked at every time."""
    if getattr(core.get_function_arguments, "remembers", False):
        return
    look = core.get_function_arguments

    def get_function_arguments(obj: object, func: str) -> tuple[list, list]:
        if hasattr(obj, f"_inspect_{func}") or func in getattr(obj, "__dict__", {}):
            return look(obj, func)
        known = _METHOD_ARGUMENTS.setdefault(type(obj), {})
        if func not in known:
            known[func] = look(obj, func)
        args, defaults = known[func]
        return list(args), list(defaults)  # the caller's own lists, as Beam's are

    get_function_arguments.remembers = True  # type: ignore[attr-defined]
    core.get_function_arguments = get_function_arguments


SAMPLING_PERIOD_MS = 10
"""The longest sleep of the state sampler of each stage a batch runs (Beam's default: 200 ms)."""


class _PromptSampler(statesampler.StateSampler):
    """Beam's state sampler, waking every ``SAMPLING_PERIOD_MS`` at most rather than every 200 ms.

    Each stage of a micro-batch runs under a sampler whose thread times the stage's steps (Beam's
    execution-time figures, which newsflow does not report): it sleeps, without the GIL, for a period that
    grows to 200 ms, and the stage's end waits for it to wake (``StateSampler.stop`` joins the thread). The
    stages that clean and decide a batch run for seconds, so each ended with the core idle for up to
    200 ms, about 0.3 s per batch of 500 on the one-worker stream: wall time ``newsflow process`` never
    waits. A 10 ms period costs the sampler thread about 100 wake-ups a second, a few microseconds each
    and none holding the GIL."""

    def __init__(
        self, prefix: str, counter_factory: object, sampling_period_ms: int = SAMPLING_PERIOD_MS
    ) -> None:
        super().__init__(prefix, counter_factory, min(sampling_period_ms, SAMPLING_PERIOD_MS))


def _prompt_stage_ends() -> None:
    """Make the stages this process runs end within ``SAMPLING_PERIOD_MS`` of their work
    (:class:`_PromptSampler`, which Beam's bundle processor then makes for each stage)."""
    statesampler.StateSampler = _PromptSampler  # type: ignore[misc]


def _options(beam_args: list[str]) -> PipelineOptions:
    options = _BatchOptions(beam_args)
    options.view_as(StandardOptions).streaming = False
    direct = options.view_as(DirectOptions)
    direct.direct_num_workers = 1  # one in-process worker: the process-wide state is everyone's
    direct.direct_running_mode = "in_memory"
    return options


def _run_batch(
    job: Batches, build: BuildBatch, batch: list[PartitionRange], clock: dict[str, float]
) -> dict[str, int]:
    """One bounded pipeline over ``batch`` (ranges with stops) in this process; its newsflow counters.
    ``clock`` gets the seconds spent building the pipeline and running it."""
    began = time.monotonic()
    pipeline = beam.Pipeline(runner=FnApiRunner(), options=_options(job.beam_args))
    build(pipeline, batch)
    built = time.monotonic()
    clock["build"] = built - began
    result = pipeline.run()
    result.wait_until_finish()
    clock["run"] = time.monotonic() - built
    return counters(result)


class RangeLookup:
    """The next batch's offset ranges: the partitions this process's group member owns, from the group's
    committed offsets, through the member's consumer (kept open for the whole run: opening one per poll
    cost about 0.2 s of every batch and every idle poll). The ranges are logged when the owned set
    changes, at debug level otherwise; then the readers of the partitions are made ahead, all at once in
    the background (:func:`~transforms.kafka_io.warm_readers`), not one after the other as the first batch
    reading each partition meets it."""

    def __init__(self, job: Batches, rule: StartRule, member: GroupMember) -> None:
        self.job = job
        self.rule = rule
        self.member = member
        self._announced: frozenset | None = None

    def __call__(self) -> list[PartitionRange]:
        owned = self.member.poll(0)  # on a retry, rejoins first if a failed commit dropped the member
        ranges = resolve_ranges(
            self.job.kafka,
            [self.job.input_topic],
            self.job.group_id,
            self.rule,
            announce=owned != self._announced,
            consumer=self.member.consumer,
            partitions=owned,
        )
        if owned != self._announced:
            warm_readers(self.job.kafka, ranges)
        self._announced = owned
        return ranges


def run_batches(
    job: Batches, build: BuildBatch, stop: StopRequest, ahead: Ahead | None = None
) -> dict[str, int]:
    """Micro-batches, each a pipeline ``build`` adds, until stopped, idle for ``job.idle_timeout`` or
    ``job.max_records`` read; the totals of the newsflow counters over all batches. The process joins the
    consumer group first (:mod:`transforms.group_membership`) and leaves it on the way out, so instances
    with the same group id share the partitions. With ``ahead``, each batch's pipeline may begin the next
    batch's per-article work before it ends; a batch runs on the ranges begun ahead when they still follow
    on the committed offsets. Nothing begun ahead is written or committed before its own batch runs."""
    _remember_method_arguments()
    _prompt_stage_ends()
    member = retrying(lambda: GroupMember(job.kafka, job.input_topic, job.group_id), "group member")
    try:
        member.join(JOIN_WAIT)
        lookup = RangeLookup(job, StartRule(reset=job.reset, bounded=True), member)
        return _loop(job, build, stop, lookup, ahead)
    finally:
        if ahead is not None:
            ahead.drop()
        member.close()


def _wait(member: GroupMember, stop: StopRequest, seconds: float) -> None:
    """Wait ``seconds`` (less if stopped) while taking part in the group: a rebalance asked for meanwhile
    is joined now, between batches, not after the wait."""
    deadline = time.monotonic() + seconds
    while not stop.requested and (left := deadline - time.monotonic()) > 0:
        member.poll(min(0.25, left))


def _wait_for_records(
    member: GroupMember, stop: StopRequest, seconds: float, ranges: list[PartitionRange], budget: int
) -> None:
    """Wait while caught up, as :func:`_wait`, but back once records have come in past ``ranges`` and the
    end offsets then hold still for one look (one request every ``IDLE_LOOK`` seconds): a record that comes
    in alone waits about two looks for its batch, not the poll interval, and a burst is not cut into a
    first batch of what the first look saw and the rest (at most ``seconds`` in all, as before). Back at
    once when ``budget`` records (a full batch) are in: the rest of a burst still coming in is the next
    batch's either way, and waiting for it left the workers idle."""
    stops = {TopicPartition(r.topic, r.partition): r.stop for r in ranges}
    seen: dict[TopicPartition, int] | None = None
    deadline = time.monotonic() + seconds
    while not stop.requested and (left := deadline - time.monotonic()) > 0:
        member.poll(min(IDLE_LOOK, left))
        if not stops:
            continue
        try:
            ends = member.consumer.end_offsets(list(stops), timeout_ms=OFFSETS_TIMEOUT_MS)
        except KafkaError:  # the broker away: the next look for the batch retries and says so
            continue
        if ends == seen or sum(max(0, end - stops[tp]) for tp, end in ends.items()) >= budget:
            return
        if any(end > stops[tp] for tp, end in ends.items()):
            seen = ends


def _budget(job: Batches, read: int) -> int:
    """The most records the next batch may read: ``batch_records``, less near ``max_records``."""
    return job.batch_records if job.max_records is None else min(job.batch_records, job.max_records - read)


def _loop(
    job: Batches, build: BuildBatch, stop: StopRequest, lookup: RangeLookup, ahead: Ahead | None
) -> dict[str, int]:
    """Read, run, write and commit batch after batch; poll when caught up."""
    totals: Counter[str] = Counter()
    read = 0
    idle_since = time.monotonic()
    failures = 0
    member = lookup.member
    while not stop.requested:
        member.poll(0)  # join a pending rebalance now, between batches
        if member.wait_for_session(lambda: stop.requested):  # stopped past the session: heard again first
            idle_since = time.monotonic()
        if not member.settled:  # partitions revoked, not yet re-assigned: that is not idleness
            idle_since = time.monotonic()
        budget = _budget(job, read)
        if budget <= 0:
            log.info("max_records_reached", max_records=job.max_records)
            break
        looking = time.monotonic()
        try:
            ranges = retrying(lookup, "ranges")
        except Stopped as exc:  # between batches: nothing runs, nothing read is uncommitted
            log.warning("stopped_while_kafka_unreachable", error=type(exc.__cause__).__name__)
            break
        formed = time.time()  # the batch's records are the ones in by now
        if lost := LOST_OFFSETS.take():  # deleted before they were read: reported by the lookup
            totals["kafka.offsets_lost"] += lost
            metrics.add_counters({"kafka.offsets_lost": lost})
        clock = {"lookup": time.monotonic() - looking}
        begun = ahead.take(ranges, budget) if ahead is not None else None
        clock["take"] = time.monotonic() - looking - clock["lookup"]
        batch = begun or cap_ranges(ranges, budget)
        if not batch:
            if job.idle_timeout is not None and time.monotonic() - idle_since >= job.idle_timeout:
                log.info("input_idle_stop", idle_timeout_s=job.idle_timeout)
                break
            _wait_for_records(member, stop, job.poll_interval, ranges, budget)
            continue
        started = time.monotonic()
        size = sum(r.stop - r.start for r in batch)
        if ahead is not None:
            ahead.plan(batch, ranges, _budget(job, read + size))
        try:
            batch_totals = _run_batch(job, build, batch, clock)
        except (Exception, KeyboardInterrupt) as exc:  # the batch is re-read from the committed offsets
            if stop.aborted or isinstance(exc, KeyboardInterrupt):
                raise _aborted(size) from None
            if isinstance(explain(exc), FATAL):  # no retry can fix these: say so at once
                raise
            failures += 1
            log.error(
                "micro_batch_failed",
                error=type(exc).__name__,
                detail=str(exc).splitlines()[0][:200] if str(exc) else "",
                attempt=failures,
            )
            if ahead is not None:
                ahead.drop()
            if failures >= MAX_FAILURES:
                raise
            _wait(member, stop, min(30.0, 2.0**failures))
            continue
        if stop.aborted:  # the second Ctrl-C's interrupt was swallowed on the way (a library's own handler)
            raise _aborted(size)
        failures = 0
        totals.update(batch_totals)
        read += size
        idle_since = time.monotonic()
        metrics.observe_batch(size, idle_since - started, batch_totals)
        log.info(
            "micro_batch",
            offsets=size,
            seconds=round(idle_since - started, 2),
            ranges=[f"{r.partition}:[{r.start},{r.stop})" for r in batch],
            written=batch_totals.get("kafka.records_written", 0),
            begun_ahead=bool(begun),
            formed_at=round(formed, 3),
            stages={k: round(v, 3) for k, v in clock.items()},
        )
    return dict(sorted(totals.items()))


def _aborted(size: int) -> Aborted:
    """What an aborted batch raises: nothing of it was committed (:data:`~transforms.kafka_io.ABORTING`)."""
    return Aborted(f"aborted; {size} records will be re-read")
