"""The chain's per-article stages on N worker processes: the local stream's ``--workers``.

What costs is per article and needs no shared state: parsing and cleaning (about 20% of the CPU) and NER
(about 72%). The workers (a :class:`~pipelines.engine.worker_pool.WorkerPool` forked from the preloaded fork
server, the NER model already loaded) run those, with the chain's own stage code, retries, time budgets
and crash journal. What holds state stays in the stream process, a single writer that sees every article
in the order a one-worker run sees it:

- learned boilerplate (per-source sketches that each article updates), applied here in record order;
- dedup (the durable index in ``--state-dir``), the same ``Deduplicate`` after this transform in the graph.

So a run with N workers makes the decisions of a run with one, and routing by key (which would put a
one-source burst on one worker) is not needed. Per article, two round trips: the raw record goes out and
the cleaned article comes back; after learned boilerplate the article goes out again and only its entities
come back. Workers pull the next task the moment they answer, lowest record first, so the parent's
learned-boilerplate step and the second round trip overlap with the workers' parsing of later records.

Beam counters the stages count in a worker travel back with each result and are counted here, in the
batch's pipeline, so the summary and metrics are those of a one-worker run.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import apache_beam as beam
import structlog
from apache_beam import pvalue
from apache_beam.metrics import Metrics
from apache_beam.metrics.cells import CounterCell
from apache_beam.runners.worker import statesampler
from apache_beam.utils.windowed_value import WindowedValue

from pipelines.chain import clean_stage, entity_stage, keeping, parse_stage
from pipelines.engine.worker_forks import ForkServer
from pipelines.engine.worker_pool import WorkerPool
from pipelines.options import Processing
from transforms.deadletter import DLQ_TAG
from transforms.settings import Limits

log = structlog.get_logger(__name__)
NAMESPACE = "newsflow"
_pool: WorkerPool | None = None


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
    Answers ``(outcome, value, counters)``: ("ok", Article | entities) or ("dlq", DeadLetter)."""

    def __init__(self, setup: tuple[Limits, Processing]) -> None:
        limits, processing = setup
        journal, keep = processing.state_dir, keeping(limits, processing)
        self.parse = parse_stage(limits, journal, keep)
        self.clean = clean_stage(limits, processing, journal, keep)
        self.entities = None
        if processing.entities and not processing.passthrough:
            self.entities = entity_stage(limits, shared=True, journal=journal, keep=keep)
        for stage in (self.parse, self.clean, self.entities):
            if stage is not None:
                stage.setup()

    def __call__(self, task: tuple[str, Any]) -> tuple[str, Any, dict[str, int]]:
        kind, element = task
        tally = _Tally()
        statesampler.set_current_tracker(tally)
        try:
            if kind == "clean":
                outcome, value = _through(self.parse, element)
                if outcome == "ok":
                    outcome, value = _through(self.clean, value)
            else:
                outcome, value = _through(self.entities, element)
                if outcome == "ok":
                    value = value.entities
        finally:
            statesampler.set_current_tracker(None)
        return outcome, value, dict(tally.counts)


# ---- in the stream process --------------------------------------------------------------------------------


@contextmanager
def chain_workers(
    workers: int,
    limits: Limits,
    processing: Processing,
    forks: ForkServer | None,
    on_restart: Callable[[int], None] | None = None,
) -> Iterator[WorkerPool]:
    """The process's pool of ``workers`` chain workers, which :class:`PooledArticles` runs on while open.
    Its ``size`` and ``restarts`` (also reported to ``on_restart``) are the worker count and restarts."""
    global _pool
    handler = f"{__name__}:{ChainWork.__name__}"
    pool = WorkerPool(workers, handler, (limits, processing), forks, on_restart=on_restart)
    _pool = pool
    try:
        yield pool
    finally:
        _pool = None
        pool.close()


def _count(counts: dict[str, int]) -> None:
    for name, n in counts.items():
        Metrics.counter(NAMESPACE, name).inc(n)


@dataclasses.dataclass
class _Item:
    record: Any
    timestamp: Any
    window: Any
    pending: Any  # the Future of the stage under way, or None
    article: Any = None
    letter: Any = None


class _PooledDoFn(beam.DoFn):
    """Records -> articles (main) and dead letters: each record's stages on the pool, learned boilerplate
    here in record order; everything is emitted, in record order with its timestamp, when the bundle (the
    micro-batch) ends."""

    def __init__(self, processing: Processing) -> None:
        self.learn = processing.learn_boilerplate and not processing.passthrough
        self.entities = processing.entities and not processing.passthrough

    def setup(self) -> None:
        from transforms.boilerplate.learned import LearnedConfig, process_sketches

        self.sketches = process_sketches(LearnedConfig()) if self.learn else None

    def start_bundle(self) -> None:
        if _pool is None:
            raise RuntimeError("no chain workers: run the batch inside chain_workers()")
        self.pool = _pool
        dropped = self.pool.cancel_queued()  # left by a batch that failed: it is read again
        if dropped:
            log.info("worker_tasks_dropped", tasks=dropped, note="a failed batch's; it is read again")
        self.items: list[_Item] = []
        self.cleaned = 0  # items before this one have been through clean (and learned boilerplate)

    def process(self, record: Any, timestamp=beam.DoFn.TimestampParam, window=beam.DoFn.WindowParam):
        pending = self.pool.submit(len(self.items), ("clean", record))
        self.items.append(_Item(record, timestamp, window, pending))
        self._advance(block=False)

    def finish_bundle(self) -> Iterator[Any]:
        self._advance(block=True)
        for item in self.items:
            if item.pending is not None:
                outcome, value, counts = item.pending.result()
                _count(counts)
                if outcome == "ok":
                    item.article = dataclasses.replace(item.article, entities=value)
                else:
                    item.letter = value
            if item.letter is not None:
                yield pvalue.TaggedOutput(DLQ_TAG, WindowedValue(item.letter, item.timestamp, (item.window,)))
            else:
                yield WindowedValue(item.article, item.timestamp, (item.window,))
        self.items = []

    def _advance(self, *, block: bool) -> None:
        """Take the clean results in record order as far as they are in (all, if ``block``): learned
        boilerplate here, then NER queued on the pool."""
        from transforms.boilerplate import count_removed

        while self.cleaned < len(self.items):
            item = self.items[self.cleaned]
            if not block and not item.pending.done():
                return
            outcome, value, counts = item.pending.result()
            _count(counts)
            item.pending = None
            if outcome == "dlq":
                item.letter = value
            else:
                article = value
                if self.sketches is not None:
                    article = self.sketches.apply(value)
                    count_removed(article.boilerplate[len(value.boilerplate) :])
                item.article = article
                if self.entities:
                    item.pending = self.pool.submit(self.cleaned, ("entities", article))
            self.cleaned += 1


class PooledArticles(beam.PTransform):
    """Records -> (articles, dead letters): the chain's stages before dedup, on the open
    :func:`chain_workers`; for :class:`~pipelines.chain.ArticleChain`'s ``per_article``."""

    def __init__(self, processing: Processing) -> None:
        super().__init__()
        self.processing = processing

    def expand(self, records: beam.PCollection) -> tuple[beam.PCollection, beam.PCollection]:
        outputs = records | "OnWorkers" >> beam.ParDo(_PooledDoFn(self.processing)).with_outputs(
            DLQ_TAG, main="ok"
        )
        return outputs.ok, outputs[DLQ_TAG]
