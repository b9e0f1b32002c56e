"""The process's Prometheus metrics, and the calls that feed them.

One registry per process, as Prometheus clients keep: the running command (``stream`` or ``backfill``)
feeds it through the functions below, wherever it learns something (a batch finished, a commit seen, the
model loaded), and the HTTP server (:mod:`pipelines.metrics.server`) renders it when scraped. Feeding it
costs next to nothing, so the callers feed it whether or not ``--metrics-port`` serves it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future

from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from pipelines.metrics.names import prometheus_name

disable_created_metrics()  # the *_created series: noise to every query here, and twice the series
REGISTRY = CollectorRegistry(auto_describe=True)
for _collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
    REGISTRY.register(_collector)


class BeamCounters(Collector):
    """The running totals of the ``newsflow`` Beam counters, as Prometheus counter families."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._totals: dict[str, int] = {}

    def add(self, totals: Mapping[str, int]) -> None:
        """Add one run's (one micro-batch's) counter values to the totals."""
        with self._lock:
            for name, value in totals.items():
                self._totals[name] = self._totals.get(name, 0) + int(value)

    def declare(self, names: Iterable[str]) -> None:
        """Show these counters at 0 before they first count, so that ``rate()`` sees their first increase."""
        self.add(dict.fromkeys(names, 0))

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            totals = dict(self._totals)
        families: dict[str, CounterMetricFamily] = {}
        for beam_name, value in sorted(totals.items()):
            name, help_text, labels = prometheus_name(beam_name)
            family = families.get(name)
            if family is None:
                family = families[name] = CounterMetricFamily(name, help_text, labels=list(labels))
            family.add_metric(list(labels.values()), value)
        yield from families.values()


class ProgressCounts(Collector):
    """A backfill's progress board (records read, found, and written by kind), read when scraped."""

    def __init__(self) -> None:
        self.source: Callable[[], Mapping[str, int]] | None = None

    def collect(self) -> Iterator[Metric]:
        family = CounterMetricFamily(
            "newsflow_backfill_records",
            "A running backfill's records, by kind: found, read, articles, duplicates, dlq.",
            labels=["kind"],
        )
        if self.source is not None:
            for kind, value in sorted(self.source().items()):
                family.add_metric([kind], value)
        yield family


class ConsumerLag(Collector):
    """Per partition: the end offset minus the group's committed offset, as last polled."""

    def __init__(self) -> None:
        self.lags: dict[tuple[str, int], int] = {}

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(
            "newsflow_consumer_lag",
            "Records in the partition after the group's committed offset (end offset - committed offset).",
            labels=["topic", "partition"],
        )
        for (topic, partition), lag in sorted(dict(self.lags).items()):
            family.add_metric([topic, str(partition)], lag)
        yield family


BEAM_COUNTERS = BeamCounters()
PROGRESS = ProgressCounts()
LAG = ConsumerLag()
for _collector in (BEAM_COUNTERS, PROGRESS, LAG):
    REGISTRY.register(_collector)

BATCH_SECONDS = Histogram(
    "newsflow_batch_duration_seconds",
    "Wall-clock time of one local micro-batch: read, process, write, commit.",
    buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600),
    registry=REGISTRY,
)
BATCH_RECORDS = Histogram(
    "newsflow_batch_records",
    "Input records (offsets) in one local micro-batch.",
    buckets=(1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000),
    registry=REGISTRY,
)
MODEL_LOAD_SECONDS = Gauge(
    "newsflow_ner_model_load_seconds",
    "Seconds the NER model took to load in this process.",
    registry=REGISTRY,
)
WORKERS = Gauge("newsflow_workers", "Worker processes running the chain.", registry=REGISTRY)
WORKER_RESTARTS = Counter(
    "newsflow_worker_restarts", "Worker processes restarted after they died.", registry=REGISTRY
)
WORKERS.set(1)


class _Process:
    """What the health checks and the commit age read: set by the functions below."""

    def __init__(self) -> None:
        self.last_commit = time.monotonic()  # since start-up: a stream that never commits shows its age
        self.model: Future | None = None
        self.model_required = False
        self.broker_required = False
        self.broker_seen: float | None = None


PROCESS = _Process()
SINCE_COMMIT = Gauge(
    "newsflow_seconds_since_last_commit",
    "Seconds since the consumer group's offsets last moved (since start-up before the first commit).",
    registry=REGISTRY,
)
SINCE_COMMIT.set_function(lambda: time.monotonic() - PROCESS.last_commit)

BROKER_STALE_S = 15.0
"""An answer from the brokers older than this no longer counts (a look takes milliseconds, every 2 s; one
that hangs on a lost broker gives up only after its bootstrap timeout)."""


def broker_reachable() -> bool:
    """The last look at the brokers answered, and recently."""
    seen = PROCESS.broker_seen
    return seen is not None and time.monotonic() - seen < BROKER_STALE_S


BROKER_UP = Gauge(
    "newsflow_broker_reachable", "1 when the brokers answered the last look, recently.", registry=REGISTRY
)
BROKER_UP.set_function(lambda: 1.0 if broker_reachable() else 0.0)


# ---- what the commands call -------------------------------------------------------------------------------


def observe_batch(records: int, seconds: float, counters: Mapping[str, int]) -> None:
    """A local micro-batch of ``records`` offsets finished in ``seconds``; ``counters`` are its newsflow
    counters (from its ``PipelineResult``)."""
    BATCH_SECONDS.observe(seconds)
    BATCH_RECORDS.observe(records)
    BEAM_COUNTERS.add(counters)
    if counters.get("kafka.offset_commits"):
        committed()


def add_counters(counters: Mapping[str, int]) -> None:
    """A finished run's newsflow counters (a backfill's, an unbounded stream's summary)."""
    BEAM_COUNTERS.add(counters)


def declare_counters(*names: str) -> None:
    """Counters shown at 0 from start-up (Beam counters appear only once they first count)."""
    BEAM_COUNTERS.declare(names)


def committed() -> None:
    """The group's committed offsets just moved."""
    PROCESS.last_commit = time.monotonic()


def set_workers(count: int) -> None:
    """How many worker processes run the chain now."""
    WORKERS.set(count)


def worker_restarted() -> None:
    """A worker process died and was replaced."""
    WORKER_RESTARTS.inc()


def watch_model(loading: Future) -> None:
    """The NER model is loading into ``loading`` (from now): ready, and its load time, once it is done."""
    started = time.monotonic()
    PROCESS.model = loading
    PROCESS.model_required = True

    def done(future: Future) -> None:
        if future.exception() is None:
            MODEL_LOAD_SECONDS.set(time.monotonic() - started)

    loading.add_done_callback(done)


def watch_progress(source: Callable[[], Mapping[str, int]]) -> None:
    """A running backfill's progress counts, read at each scrape."""
    PROGRESS.source = source


def set_lag(lags: Mapping[tuple[str, int], int]) -> None:
    """Consumer lag by (topic, partition), from the last look at the brokers."""
    LAG.lags = dict(lags)


def broker_answered(ok: bool) -> None:
    """Whether the last look at the brokers got an answer."""
    PROCESS.broker_seen = time.monotonic() if ok else None


def require_broker() -> None:
    """Readiness needs the brokers (a command that reads or writes Kafka)."""
    PROCESS.broker_required = True
