"""The chain's per-article stages on N worker processes: the local stream's ``--workers`` (with one, the
stream process is the worker: an :class:`~pipelines.engine.worker_pool.InlinePool` runs each task when it is
submitted, so one worker and N run this same engine).

What costs is per article and needs no shared state: parsing and cleaning (about 20% of the CPU) and NER
(about 72%). The workers (a :class:`~pipelines.engine.worker_pool.WorkerPool` forked from the preloaded fork
server, the NER model already loaded) run those, with the chain's own stage code, retries, time budgets
and crash journal. What holds state stays in the stream process, a single writer that sees every article
in the order a one-worker run sees it:

- learned boilerplate (per-source sketches that each article updates), applied here in arrival order;
- dedup (the durable index in ``--state-dir``, :class:`~transforms.dedup.beam.InArrivalOrder`), run on the
  whole batch.

So a run with N workers makes the decisions of a run with one, and routing by key (which would put a
one-source burst on one worker) is not needed. Per article, two round trips: the raw record goes out and
the cleaned article comes back (without the input it came from: the stream process has the record);
after learned boilerplate the article goes out again and only its entities come back, with dedup's print
of its final body (the costly part of the fingerprint, off the wire), which dedup here then only checks
and assembles, and the article's Avro value as delivered if it survives, which is then only framed here.
Workers pull the next task the moment they answer, lowest record first and a batch's cleaning before its
NER (:data:`NER_AFTER`), so the parent's learned-boilerplate step overlaps with the workers' parsing of
later records, and its dedup and writing with their NER.

The batch's chain (:class:`PooledChain`) keeps the articles in this process: dedup gathers the whole
batch through a grouping step that carries only their positions, so no article is copied through Beam's
coders on the way.

Dedup decides each article as soon as its NER and that of every earlier arrival are back, so the
batch's outputs are written while its last NER tasks run. What is still left in the stream process at the
end of a batch (the flushes, the commit, the next batch's pipeline) would leave the workers idle; so once
a batch's records are all through learned boilerplate, the next batch's are read and queued behind its
last NER tasks (:class:`Ahead`), and its pipeline takes over that work: it reads from Kafka only what was
not read ahead. Nothing of it is written or committed before its own batch runs, after this one's commit.

Beam counters the stages count in a worker travel back with each result and are counted here, in the
batch's pipeline, so the summary and metrics are those of a one-worker run.
"""

from __future__ import annotations

import dataclasses
import functools
import gc
import itertools
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import CancelledError
from contextlib import contextmanager
from typing import Any

import apache_beam as beam
import structlog
from apache_beam import pvalue
from apache_beam.metrics import Metrics
from apache_beam.metrics.cells import CounterCell
from apache_beam.runners.worker import statesampler
from apache_beam.transforms.window import TimestampedValue
from apache_beam.utils.timestamp import Timestamp
from apache_beam.utils.windowed_value import WindowedValue
from kafka import KafkaConsumer, TopicPartition

from pipelines.chain import clean_stage, dedup_settings, encoded_ahead, entity_stage, keeping, parse_stage
from pipelines.engine.worker_forks import ForkServer
from pipelines.engine.worker_pool import InlinePool, WorkerPool
from pipelines.options import Processing
from transforms.deadletter import DLQ_TAG
from transforms.dedup.beam import DUPLICATES, InArrivalOrder, with_arrival
from transforms.dedup.index import arrival_rank, print_of
from transforms.kafka_io import GAPS_TAG, KafkaRecord, PartitionRange, cap_ranges, gap_ack, reader_kwargs
from transforms.records import Article
from transforms.settings import KafkaSettings, Limits

log = structlog.get_logger(__name__)
NAMESPACE = "newsflow"


# ---- in a worker ------------------------------------------------------------------------------------------


class _Tally:
    """Stands in for Beam's state sampler in a worker: keeps the newsflow counters a task increments."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def update_metric(self, typed_metric_name: Any, value: int) -> None:
        name = typed_metric_name.metric_name
        if typed_metric_name.cell_type is CounterCell and name.namespace == NAMESPACE:
            self.counts[name.name] += value


def _through(stage: beam.DoFn, element: Any) -> tuple[str, Any]:
    """One element through one chain stage: ("ok", result) or ("dlq", dead letter)."""
    for out in stage.process(element):
        if isinstance(out, pvalue.TaggedOutput):
            return "dlq", out.value
        return "ok", out
    raise AssertionError(f"stage {stage.stage} gave no outcome")


class ChainWork:
    """A worker's handler: ``("clean", KafkaRecord)`` -> parse and clean; ``("entities", Article)`` -> NER.
    Answers ``(outcome, value, counters)``: ("ok", Article | (entities, body print, encoded)) or ("dlq",
    DeadLetter). The cleaned article comes back without its origin (the input message, up to the size
    limit): the stream process holds the record it came from.

    The last task of an article whose content is final (NER, after learned boilerplate; clean, when
    neither follows) also computes dedup's body print (:func:`transforms.dedup.index.body_print`), so the
    stream process's dedup only assembles the fingerprint, and encodes the article as it is delivered if it
    survives (:func:`~pipelines.chain.encoded_ahead`), so the stream process only frames it."""

    def __init__(self, setup: tuple[Limits, Processing]) -> None:
        limits, processing = setup
        journal, keep = processing.state_dir, keeping(limits, processing)
        self.parse = parse_stage(limits, journal, keep)
        self.clean = clean_stage(limits, processing, journal, keep)
        self.entities = None
        if processing.entities and not processing.passthrough:
            self.entities = entity_stage(limits, shared=True, journal=journal, keep=keep)
        self.dedup = None if processing.passthrough else dedup_settings(processing)
        self.final_after_clean = not (processing.learn_boilerplate or self.entities or self.dedup is None)
        if self.dedup is not None:
            self.hasher = self.dedup.hasher()
        for stage in (self.parse, self.clean, self.entities):
            if stage is not None:
                stage.setup()

    def __call__(self, task: tuple[str, Any]) -> tuple[str, Any, dict[str, int]]:
        kind, element = task
        tally = _Tally()
        running = statesampler.get_current_tracker()  # Beam's, when the task runs in the stream process
        statesampler.set_current_tracker(tally)
        try:
            if kind == "clean":
                outcome, value = _through(self.parse, element)
                if outcome == "ok":
                    outcome, value = _through(self.clean, value)
                if outcome == "ok":
                    if self.final_after_clean:
                        value = self._finished(value)
                    value = dataclasses.replace(value, origin=None)
            else:
                outcome, value = _through(self.entities, element)
                if outcome == "ok":
                    done = self._finished(value)
                    value = (done.entities, done.body_print, done.encoded)
        finally:
            statesampler.set_current_tracker(running)
        return outcome, value, dict(tally.counts)

    def _finished(self, article: Article) -> Article:
        """``article`` (content final) with its body print and its encoding ahead, each None where it
        cannot be made: the stream process then makes it, and meets the error there as a run without
        workers would."""
        try:
            found = print_of(article, self.dedup, self.hasher)
        except Exception as exc:  # noqa: BLE001 - the stream process computes it again
            log.debug("body_print_failed", error=type(exc).__name__)
            return article
        try:
            encoded = encoded_ahead(article, found.content_hash)
        except Exception as exc:  # noqa: BLE001 - the stream process encodes it again
            log.debug("encode_ahead_failed", error=type(exc).__name__)
            encoded = None
        return dataclasses.replace(article, body_print=found, encoded=encoded)


# ---- in the stream process --------------------------------------------------------------------------------


Position = tuple[str, int, int]
PRIORITY_STEP = 1 << 32
"""Task priorities of one batch: each batch's lie above every one of the batches before it."""
NER_AFTER = PRIORITY_STEP >> 1
"""Within a batch, NER tasks come after every cleaning task: dedup decides nothing before the whole batch
is through learned boilerplate (which waits for each cleaned article in arrival order), so a batch cleaned
first is decided, and written, while its NER runs, not all at its end with the workers idle."""
READ_AHEAD_SECONDS = 30.0
"""Longest the next batch's records may take to read before the work ahead is given up (it is then done in
the batch, as without it)."""


def _position(record: KafkaRecord) -> Position:
    return (record.topic, record.partition, record.offset)


def _arrival(record: KafkaRecord) -> tuple:
    """Where learned boilerplate takes the record (:func:`~transforms.boilerplate.learned.arrival_order`);
    records are also queued for cleaning in this order where it is known, so that its results come back in
    the order learned boilerplate waits for them."""
    from transforms.boilerplate.learned import arrival_order

    return arrival_order(record.timestamp_ms, record.position())


@dataclasses.dataclass
class _Item:
    record: KafkaRecord
    pending: Any  # the Future of the stage under way, or None
    article: Any = None
    letter: Any = None
    timestamp: Any = None  # where the batch's pipeline met the record, once it has
    window: Any = None


class _Articles:
    """One micro-batch's records on the pool: parse and clean on the workers in the order added; once all
    are added, learned boilerplate here in arrival order as the cleaned articles come back, then NER on the
    workers."""

    def __init__(self, pool: WorkerPool, sketches: Any, entities: bool, priority: int) -> None:
        self.pool = pool
        self.sketches = sketches
        self.entities = entities
        self.priority = priority
        self.items: dict[Position, _Item] = {}
        self.order: list[_Item] = []
        self.cleaned = 0  # items before this one have been through clean (and learned boilerplate)
        self.uncounted: dict[str, int] = {}  # counters of work begun ahead, until its pipeline runs

    def add(self, record: KafkaRecord) -> _Item:
        item = _Item(record, self.pool.submit(self.priority + len(self.order), ("clean", record)))
        self.items[_position(record)] = item
        self.order.append(item)
        return item

    def learn(self) -> None:
        """Every record of the batch (so far) is added: the ones not yet through learned boilerplate go
        through it in arrival order (:func:`~transforms.boilerplate.learned.arrival_order`, the order a
        one-worker run applies it in, whatever order the reader's bundles brought them), each as its clean
        result comes back; then NER is queued on the pool."""
        from transforms.boilerplate import count_removed

        self.order[self.cleaned :] = sorted(self.order[self.cleaned :], key=lambda i: _arrival(i.record))
        for item in self.order[self.cleaned :]:
            outcome, value, counts = item.pending.result()
            _count(counts)
            item.pending = None
            if outcome == "dlq":
                item.letter = value
            else:
                article = value = dataclasses.replace(value, origin=item.record.origin())
                if self.sketches is not None:
                    article = self.sketches.apply(value)
                    count_removed(article.boilerplate[len(value.boilerplate) :])
                item.article = article
                if self.entities:
                    task = ("entities", article)
                    item.pending = self.pool.submit(self.priority + NER_AFTER + self.cleaned, task)
            self.cleaned += 1

    def cancel(self) -> None:
        for item in self.order:
            if item.pending is not None:
                item.pending.cancel()


class Ahead:
    """The next micro-batch's per-article work, begun while this one is deduplicated, written and committed,
    so that the workers never wait for the stream process's serial part.

    The batch loop (:func:`pipelines.engine.local_stream.run_batches`) tells it each batch before the batch
    runs (:meth:`plan`). Once the batch's pipeline has every record of it cleaned and through learned
    boilerplate, it calls :meth:`start`: a thread reads the next batch (from this one's stops to the end
    offsets now, capped as the loop caps) with its own consumer, and queues its records on the pool behind
    this batch's last NER tasks, learned boilerplate applied in their order as they come back, after all of
    this batch's. When the batch is committed, the loop runs the next one on those ranges if they still
    follow on the committed offsets (:meth:`take`; a rebalance or failure :meth:`drop` them), and the next
    pipeline takes over the work (:meth:`adopt`, as :class:`PooledChain` is made) instead of reading its
    records again and submitting them again.

    Nothing of the next batch is written or committed before its own pipeline runs: dedup still decides it
    after this batch's commit, in arrival order, and a crash reads both batches again but writes again at
    most this one's outputs."""

    def __init__(self, kafka: KafkaSettings, pool: WorkerPool) -> None:
        self.kafka = kafka
        self.pool = pool
        self._priorities = itertools.count(1)
        self._consumer: KafkaConsumer | None = None
        self._plan: tuple[list[PartitionRange], list[PartitionRange], int] | None = None
        self._thread: threading.Thread | None = None
        self._articles: _Articles | None = None
        self._ranges: list[PartitionRange] | None = None
        self._tally = _Tally()
        self._stopped = threading.Event()
        self._read_ended = threading.Event()  # the batch's ranges are known (its cleaning may go on)

    def priority(self) -> int:
        """The base priority of a new batch's tasks: after every task queued before."""
        return next(self._priorities) * PRIORITY_STEP

    # ---- the batch loop's side

    def plan(self, batch: list[PartitionRange], known: list[PartitionRange], budget: int) -> None:
        """``batch`` runs next; the one after may start on ``known``'s partitions (the loop's look at the
        owned ones), from ``batch``'s stops, ``budget`` records at most."""
        self._plan = (batch, known, budget) if budget > 0 else None

    def take(self, fresh: list[PartitionRange], budget: int) -> list[PartitionRange] | None:
        """The next batch, if the ranges begun ahead still start at the committed offsets (``fresh``, the
        loop's look after the commit) of partitions still owned, within ``budget``: those ranges, and what
        has come in since, as far as the budget allows; otherwise the work is dropped. It waits for the
        reading to end, not for the records' cleaning (:meth:`adopt`, as the batch's pipeline is built,
        waits for that: the workers are busy with it meanwhile)."""
        if self._thread is not None:
            self._read_ended.wait()
        begun = self._ranges
        if not begun:
            self.drop()
            return None
        if sum(r.stop - r.start for r in begun) > budget or not _starts(begun, fresh):
            log.info("work_ahead_dropped", note="the next batch no longer follows on the committed offsets")
            self.drop()
            return None
        return _extend(begun, fresh, budget)

    def drop(self) -> None:
        """Forget the work begun ahead (its tasks cancelled) and any a failed batch left queued."""
        self._plan = None
        self._stopped.set()
        if self._articles is not None:
            self._articles.cancel()
        self._join()
        if self._articles is not None:
            self._articles.cancel()
        self._articles, self._ranges = None, None
        self._tally = _Tally()
        self.pool.cancel_queued()

    def close(self) -> None:
        self.drop()
        if self._consumer is not None:
            self._consumer.close(autocommit=False)
            self._consumer = None

    # ---- the pipeline's side

    def start(self, sketches: Any, entities: bool) -> None:
        """Begin the planned next batch on the workers (the running batch's records are all through clean
        and learned boilerplate)."""
        if self._plan is None or self._thread is not None:
            return
        batch, known, budget = self._plan
        self._plan = None
        self._stopped.clear()
        self._read_ended.clear()
        self._articles = _Articles(self.pool, sketches, entities, self.priority())
        self._thread = threading.Thread(
            target=self._read, args=(batch, known, budget, self._articles), name="next-batch", daemon=True
        )
        self._thread.start()

    def adopt(self, ranges: list[PartitionRange]) -> tuple[_Articles, list[PartitionRange]] | None:
        """The work begun on the first part of ``ranges`` (the batch whose pipeline is being built) and the
        ranges it read, each record of them on its way through the chain; or None. Its counters are kept
        on it (``uncounted``) for its pipeline to count."""
        if self._articles is None:
            return None
        self._join()
        articles, tally, begun = self._articles, self._tally, self._ranges
        if not begun or not _starts(begun, ranges):
            self.drop()
            return None
        self._articles, self._ranges, self._tally = None, None, _Tally()
        articles.uncounted = dict(tally.counts)
        return articles, begun

    def _join(self) -> None:
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _read(
        self, batch: list[PartitionRange], known: list[PartitionRange], budget: int, articles: _Articles
    ) -> None:
        """In the thread: read the next batch's records and queue them (cleaning in range order then offset
        order, learned boilerplate in arrival order)."""
        statesampler.set_current_tracker(self._tally)  # the counters, until its pipeline counts them
        try:
            if self._consumer is None:
                self._consumer = KafkaConsumer(**reader_kwargs(self.kafka))  # told of deleted offsets
            ranges = self._next_ranges(batch, known, budget)
            for record in sorted(self._records(ranges), key=_arrival):
                if self._stopped.is_set():
                    raise CancelledError
                articles.add(record)
            if not self._stopped.is_set():
                self._ranges = ranges
            self._read_ended.set()
            articles.learn()
            log.debug("work_ahead", records=len(articles.order))
        except CancelledError:
            return  # dropped
        except Exception as exc:  # noqa: BLE001 - the next batch then does its work itself
            log.warning("work_ahead_failed", error=type(exc).__name__, detail=str(exc)[:200])
            self._ranges = None  # so its pipeline does not adopt it
            articles.cancel()
        finally:
            self._read_ended.set()
            statesampler.set_current_tracker(None)

    def _next_ranges(
        self, batch: list[PartitionRange], known: list[PartitionRange], budget: int
    ) -> list[PartitionRange]:
        stops = {(r.topic, r.partition): r.stop for r in batch}
        tps = [TopicPartition(r.topic, r.partition) for r in known]
        ends = self._consumer.end_offsets(tps)
        ranges = [
            PartitionRange(r.topic, r.partition, stops.get((r.topic, r.partition), r.start), ends[tp])
            for r, tp in zip(known, tps, strict=True)
        ]
        return cap_ranges(ranges, budget)

    def _records(self, ranges: list[PartitionRange]) -> list[KafkaRecord]:
        """Every record in ``ranges``, as the batch's reader builds them."""
        consumer = self._consumer
        wanted = {TopicPartition(r.topic, r.partition): r for r in ranges}
        consumer.assign(list(wanted))
        for tp, r in wanted.items():
            consumer.seek(tp, r.start)
        got: dict[TopicPartition, list[KafkaRecord]] = {tp: [] for tp in wanted}
        pending = set(wanted)
        deadline = time.monotonic() + READ_AHEAD_SECONDS
        while pending:
            if self._stopped.is_set():
                raise CancelledError
            if time.monotonic() > deadline:
                raise TimeoutError(f"the next batch not read in {READ_AHEAD_SECONDS:g} s")
            for tp, records in consumer.poll(timeout_ms=200).items():
                r = wanted[tp]
                got[tp] += [KafkaRecord.of(rec) for rec in records if r.start <= rec.offset < r.stop]
            for tp in list(pending):
                if consumer.position(tp) >= wanted[tp].stop:
                    pending.discard(tp)
                    consumer.pause(tp)
        consumer.resume(*wanted)
        return [record for tp in wanted for record in got[tp]]


def _starts(begun: list[PartitionRange], ranges: list[PartitionRange]) -> bool:
    """Whether each range of ``begun`` is the start of the range of its partition in ``ranges``."""
    by_partition = {(r.topic, r.partition): r for r in ranges}
    return all(
        (theirs := by_partition.get((r.topic, r.partition))) is not None
        and theirs.start == r.start
        and theirs.stop >= r.stop
        for r in begun
    )


def _extend(begun: list[PartitionRange], fresh: list[PartitionRange], budget: int) -> list[PartitionRange]:
    """``begun`` (within ``budget``) and, with what is left of it, the offsets of ``fresh`` after them,
    shared as :func:`cap_ranges` shares them: one contiguous range per partition, in ``fresh``'s order."""
    stops = {(r.topic, r.partition): r.stop for r in begun}
    left = budget - sum(r.stop - r.start for r in begun)
    rest = [
        PartitionRange(f.topic, f.partition, stops.get((f.topic, f.partition), f.start), f.stop)
        for f in fresh
    ]
    stops.update({(r.topic, r.partition): r.stop for r in cap_ranges(rest, left)} if left > 0 else {})
    out = []
    for f in fresh:
        stop = stops.get((f.topic, f.partition), f.start)
        if stop > f.start:
            out.append(PartitionRange(f.topic, f.partition, f.start, stop))
    return out


@dataclasses.dataclass
class ChainWorkers:
    """The stream's chain workers: the pool, and the batch loop's work ahead on it."""

    pool: WorkerPool
    ahead: Ahead
    batch: _Articles | None = None
    """The running micro-batch's articles, which its dedup step (:class:`_Decide`) takes by position."""


_workers: ChainWorkers | None = None


@contextmanager
def chain_workers(
    workers: int,
    kafka: KafkaSettings,
    limits: Limits,
    processing: Processing,
    forks: ForkServer | None,
    on_restart: Callable[[int], None] | None = None,
) -> Iterator[ChainWorkers]:
    """The process's pool of ``workers`` chain workers, which :class:`PooledChain` runs on while open.
    The pool's ``size`` and ``restarts`` (also reported to ``on_restart``) are the worker count and
    restarts; ``ahead`` is for the batch loop."""
    global _workers
    handler = f"{__name__}:{ChainWork.__name__}"
    if workers == 1:
        pool: WorkerPool | InlinePool = InlinePool(handler, (limits, processing))
    else:
        pool = WorkerPool(workers, handler, (limits, processing), forks, on_restart=on_restart)
    _freeze_start_up()
    _workers = ChainWorkers(pool, Ahead(kafka, pool))
    try:
        yield _workers
    finally:
        _workers.ahead.close()
        _workers = None
        pool.close()


FULL_PASS_EVERY = 100
"""Middle-generation collections between two full ones (Python's default is 10)."""


def _freeze_start_up() -> None:
    """Take what start-up loaded (Beam, the Kafka clients, the pool; with one worker the NER model too) out
    of the cyclic garbage collector, as a process with the NER model does
    (:mod:`pipelines.engine.worker_cache`): it lives as long as the stream, and the collector's full
    passes over it, each batch and once more at exit, were CPU of the serial part of the stream.

    Full passes are also made rarer. Once start-up is frozen, the collector measures what survives against
    what the batch in flight holds (its 500 articles, up to 180,000 objects), not against everything: it
    made a full pass every 120 articles, 0.1 s each, 0.6 ms per article, three times what ``newsflow
    process`` (one article in flight) spends on collection. The batch's objects are freed by reference
    counting when it ends; the full passes found almost no cycles."""
    gc.collect()  # start-up's own cyclic garbage, which a freeze would keep for good
    gc.freeze()
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, FULL_PASS_EVERY)


def _count(counts: dict[str, int]) -> None:
    for name, n in counts.items():
        _counter(name).inc(n)


@functools.cache
def _counter(name: str) -> Any:
    """The newsflow counter ``name``, made once (it counts into whichever pipeline runs when incremented):
    making one was three quarters of the cost of a count, twice per article in the stream process."""
    return Metrics.counter(NAMESPACE, name)


class _PooledDoFn(beam.DoFn):
    """Records -> the positions of the batch's records, keyed for gathering: each record's parse and clean
    queued on the pool at the end of its bundle; the articles stay here (``ChainWorkers.batch``), only
    their positions travel on to :class:`_Decide`. The reader's bundles each hold part of the batch, in
    fetch order; the records read ahead do not come through here (:class:`_ReadAhead`)."""

    def start_bundle(self) -> None:
        self.articles = _running_batch()
        self.fresh: list[tuple[Any, Any, Any]] = []

    def process(self, record: Any, timestamp=beam.DoFn.TimestampParam, window=beam.DoFn.WindowParam):
        self.fresh.append((record, timestamp, window))
        yield 0, _position(record)

    def finish_bundle(self) -> None:
        """The bundle's records queued for cleaning in arrival order (the reader brings each partition's
        in turn), the order learned boilerplate then takes them in."""
        for record, timestamp, window in sorted(self.fresh, key=lambda f: _arrival(f[0])):
            item = self.articles.add(record)
            item.timestamp, item.window = timestamp, window
        self.fresh = []


class _ReadAhead(beam.DoFn):
    """A range of the batch read ahead (:class:`Ahead`) -> its records' positions, keyed for gathering, at
    their Kafka timestamps, and (tagged ``gaps``) the acks of the offsets between them that hold no record:
    what the reader and :class:`_PooledDoFn` make of the same range, without reading it again (reading was
    a tenth of the stream process's CPU, and the records are already here, on their way through the
    chain). They count as read here, in the batch's pipeline."""

    def setup(self) -> None:
        self._read = _counter("kafka.records_read")
        self._bytes = _counter("kafka.bytes_read")

    def process(self, part: PartitionRange, window=beam.DoFn.WindowParam) -> Iterator[Any]:
        articles = _running_batch()
        _count(articles.uncounted)
        articles.uncounted = {}
        items = sorted(
            (
                item
                for item in articles.order
                if (item.record.topic, item.record.partition) == (part.topic, part.partition)
                and part.start <= item.record.offset < part.stop
            ),
            key=lambda item: item.record.offset,
        )
        expected = part.start
        for item in items:
            record = item.record
            yield from gap_ack(part, expected, record.offset)  # compacted away: as the reader does
            expected = record.offset + 1
            self._read.inc()
            self._bytes.inc(len(record.value or b""))
            item.timestamp, item.window = Timestamp(micros=max(record.timestamp_ms, 0) * 1000), window
            yield TimestampedValue((0, _position(record)), item.timestamp)
        yield from gap_ack(part, expected, part.stop)  # the range may end in markers, without a record


def _running_batch() -> _Articles:
    if _workers is None or _workers.batch is None:
        raise RuntimeError("no chain workers: run the batch inside chain_workers()")
    return _workers.batch


class _Decide(beam.DoFn):
    """The batch's record positions, gathered on one key (so every record of it is read) -> survivors
    (main), duplicates and dead letters. Learned boilerplate here, over the whole batch in arrival order as
    the cleaned articles come back, and NER queued on the pool behind it; then the next batch's work begins
    (:class:`Ahead`) while this one's NER ends; meanwhile dedup in arrival order against the durable
    index (:class:`~transforms.dedup.beam.InArrivalOrder`), on the articles
    :class:`_PooledDoFn` holds, each decided (and emitted, with its record's timestamp, to be written) as
    soon as its NER and that of every earlier arrival are back, not after the batch's last. Only positions
    cross the grouping step, not the articles through Beam's coders (with passthrough, nothing is decided:
    the articles go on as they are)."""

    def __init__(self, processing: Processing, changelog: Any) -> None:
        self.dedup = None
        if not processing.passthrough:
            self.dedup = InArrivalOrder(dedup_settings(processing), processing.state_dir, changelog)

    def setup(self) -> None:
        if self.dedup is not None:
            self.dedup.setup()

    def teardown(self) -> None:
        if self.dedup is not None:
            self.dedup.teardown()

    def process(self, element: tuple[int, Iterable[Position]]) -> Iterator[Any]:
        batch = _running_batch()
        items = [batch.items[position] for position in element[1]]
        batch.learn()
        _workers.ahead.start(batch.sketches, batch.entities)  # this batch is through learned boilerplate
        for item in items:  # cleaning's dead letters, at once
            if item.letter is not None:
                yield pvalue.TaggedOutput(DLQ_TAG, _stamped(item.letter, item))
        cleaned = [item for item in items if item.letter is None]
        for group in _arrival_groups(cleaned):
            ready = []
            for item in group:
                _finish(item)
                if item.letter is not None:
                    yield pvalue.TaggedOutput(DLQ_TAG, _stamped(item.letter, item))
                else:
                    ready.append(item)
            if self.dedup is None:
                yield from (_stamped(item.article, item) for item in ready)
                continue
            for out in self.dedup.decide(with_arrival(i.article, i.timestamp) for i in ready):
                if isinstance(out, pvalue.TaggedOutput):  # a duplicate's verdict
                    yield pvalue.TaggedOutput(out.tag, _stamped(out.value, batch.items[_at(out.value)]))
                else:
                    yield _stamped(out, batch.items[_at(out)])
        if self.dedup is not None:
            self.dedup.flush()


def _arrival_groups(items: list[_Item]) -> Iterator[list[_Item]]:
    """The batch's cleaned articles in dedup's arrival order (:func:`~transforms.dedup.index.arrival_rank`
    of the record's timestamp and position, which NER leaves as they are), any of equal rank together
    (only records without a position can tie; dedup breaks a tie on what it reads after NER). Dedup decides each group as soon as its NER is
    back: the outputs go out while the rest of the batch is still on the workers, and decisions are those
    of the whole batch decided at once."""

    def rank(item: _Item) -> bytes:
        return arrival_rank(*with_arrival(item.article, item.timestamp))

    for _, group in itertools.groupby(sorted(items, key=rank), key=rank):
        yield list(group)


def _finish(item: _Item) -> None:
    """Wait for the item's NER, if under way, and take in its entities (or its dead letter)."""
    if item.pending is None:
        return
    outcome, value, counts = item.pending.result()
    _count(counts)
    item.pending = None
    if outcome == "ok":
        entities, found, encoded = value
        item.article = dataclasses.replace(item.article, entities=entities, body_print=found, encoded=encoded)
    else:
        item.letter = value


def _at(record: Any) -> Position:
    """Where an article or verdict of the batch came from, as its :class:`_Item` is found."""
    pos = record.source_position
    return (pos.topic, pos.partition, pos.offset)


def _stamped(value: Any, item: _Item) -> WindowedValue:
    """``value`` with the timestamp and window of the record it came from."""
    return WindowedValue(value, item.timestamp, (item.window,))


def _open_batch(processing: Processing, ranges: list[PartitionRange]) -> list[PartitionRange]:
    """Make the batch of ``ranges`` the running one (``ChainWorkers.batch``): the work begun ahead on its
    first part if it follows on, else a new one; the ranges read ahead."""
    if _workers is None:
        return []
    adopted = _workers.ahead.adopt(ranges)
    if adopted is not None:
        _workers.batch, begun = adopted
        return begun
    from transforms.boilerplate.learned import LearnedConfig, process_sketches

    learn = processing.learn_boilerplate and not processing.passthrough
    _workers.batch = _Articles(
        _workers.pool,
        process_sketches(LearnedConfig()) if learn else None,
        processing.entities and not processing.passthrough,
        _workers.ahead.priority(),
    )
    return []


class PooledChain(beam.PTransform):
    """Records -> {"articles", "duplicates", "dlq"} (and "gaps", below): the local stream's chain (the stages of
    :class:`~pipelines.chain.ArticleChain`), its per-article stages on the open :func:`chain_workers`, for
    the batch of ``ranges``; dedup's index in ``processing.state_dir``, mirrored to ``changelog``.

    Made as the batch's pipeline is built, it takes over the work begun ahead on the batch (:class:`Ahead`),
    if any: the records of those ranges are already here, so its input is only what is left to read
    (:attr:`unread`), and "gaps" acknowledges the offsets of the ranges read ahead that hold no record."""

    def __init__(self, processing: Processing, ranges: list[PartitionRange], changelog: Any = None) -> None:
        super().__init__()
        if not processing.state_dir:
            raise ValueError("the local chain keeps the dedup index in processing.state_dir; set one")
        self.processing = processing
        self.changelog = changelog
        self.begun = _open_batch(processing, ranges)
        """The ranges read ahead (none without :func:`chain_workers`: the batch's steps then say so)."""
        stops = {(r.topic, r.partition): r.stop for r in self.begun}
        self.unread = [
            PartitionRange(r.topic, r.partition, stops.get((r.topic, r.partition), r.start), r.stop)
            for r in ranges
            if stops.get((r.topic, r.partition), r.start) < r.stop
        ]
        """The batch's ranges less what was read ahead: what the batch reads from Kafka."""

    def expand(self, records: beam.PCollection) -> dict[str, beam.PCollection]:
        positions = records | "OnWorkers" >> beam.ParDo(_PooledDoFn())
        if self.begun:
            begun = (
                records.pipeline
                | "Begun" >> beam.Create(self.begun, reshuffle=False)
                | "ReadAhead" >> beam.ParDo(_ReadAhead()).with_outputs(GAPS_TAG, main="positions")
            )
            positions = (positions, begun.positions) | "Positions" >> beam.Flatten()
        decided = (
            positions
            | "Gather" >> beam.GroupByKey()
            | "Decide"
            >> beam.ParDo(_Decide(self.processing, self.changelog)).with_outputs(
                DUPLICATES, DLQ_TAG, main="articles"
            )
        )
        outputs = {"articles": decided.articles, "duplicates": decided[DUPLICATES], "dlq": decided[DLQ_TAG]}
        if self.begun:
            outputs["gaps"] = begun[GAPS_TAG]
        return outputs
