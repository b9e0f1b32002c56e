"""``newsflow stream``: Kafka raw topic -> chain -> clean/duplicates/DLQ topics, offsets committed after.

With no runner (or the DirectRunner) it runs here as successive micro-batches
(:mod:`pipelines.engine.local_stream`, which says why); with any other runner (Prism, Flink, Dataflow) as one
unbounded streaming pipeline.
``--idle-timeout`` and ``--max-records`` make a run end by itself once the input is drained; SIGTERM or
Ctrl-C stops a local run cleanly after its current batch.
"""

from __future__ import annotations

import dataclasses
import socket
import time
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field

import apache_beam as beam
import structlog
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions

from pipelines import metrics
from pipelines.chain import ArticleChain, article_value, keeping
from pipelines.engine.local_stream import Batches, StopRequest, is_local, run_batches
from pipelines.engine.worker_forks import ForkServer
from pipelines.local_state import changelog_for, state_dir_for
from pipelines.options import Monitoring, Processing, Topics
from pipelines.preflight import check_stream
from pipelines.summary import print_summary, print_totals
from transforms import avro
from transforms.deadletter import Keeping, dead_letter
from transforms.dedup.changelog import Changelog
from transforms.errors import LimitExceeded
from transforms.headers import dead_letter_headers, record_headers
from transforms.kafka_io import (
    GAPS_TAG,
    CommitAcks,
    OutMessage,
    ReadFromKafka,
    ReadLimits,
    StartRule,
    WriteToKafka,
    resolve_ranges,
)
from transforms.records import Article, DeadLetter, DuplicateVerdict, to_dict
from transforms.settings import KafkaSettings, Limits

log = structlog.get_logger(__name__)


@dataclass
class StreamJob:
    kafka: KafkaSettings = field(default_factory=KafkaSettings)
    topics: Topics = field(default_factory=Topics)
    limits: Limits = field(default_factory=Limits)
    processing: Processing = field(default_factory=Processing)
    group_id: str = "newsflow"
    reset: str = "earliest"
    idle_timeout: float | None = None
    max_records: int | None = None
    connect_timeout: float = 60.0
    batch_records: int = 500
    max_poll_records: int = 500
    poll_interval: float = 1.0
    dedup_changelog: str | None = None
    workers: int = 1
    max_article_bytes: int | None = None  # not a flag: the output topic's limit, read at start-up
    beam_args: list[str] = field(default_factory=list)
    monitoring: Monitoring = field(default_factory=Monitoring)


def article_message(topic: str, article: Article) -> OutMessage:
    value = article_value(article)
    return OutMessage(topic, article.id.encode(), value, article.source_position, _headers("article"))


def duplicate_message(topic: str, verdict: DuplicateVerdict) -> OutMessage:
    value = avro.encode("duplicate", to_dict(verdict))
    return OutMessage(topic, verdict.id.encode(), value, verdict.source_position, _headers("duplicate"))


def dead_letter_message(topic: str, letter: DeadLetter) -> OutMessage:
    pos = letter.source_position
    key = f"{pos.topic}:{pos.partition}:{pos.offset}".encode() if pos else None
    value = avro.encode("dead_letter", to_dict(letter))
    return OutMessage(topic, key, value, pos, tuple(dead_letter_headers(letter)))


OUTPUT_BATCHING = {"linger_ms": 100, "batch_size": 1 << 20}
"""The output writers' producer batching. A micro-batch's outputs come one by one as dedup decides them,
a few tens of milliseconds apart, over one bundle that is flushed at its end: with the default 5 ms linger
each went in a produce request of its own, and the producer's network thread spent about 1 ms of the
stream process's CPU per article on them. Held up to 100 ms, a request carries the outputs of that time.
What it delays is only when a consumer can read an output (its record's time is that of its send, and
nothing is acknowledged before the bundle's flush)."""


def _headers(schema_name: str) -> tuple[tuple[str, bytes], ...]:
    return tuple(record_headers(schema_name))


RECORD_FRAMING = 512
"""Bytes a record needs on the wire besides its value, key and headers, with room to spare: the record
batch's header (61 bytes) and the record's own lengths and offsets (at most about 30)."""


class FitArticles(beam.DoFn):
    """Article -> its message for the output topic; one the topic would refuse (over ``limit`` bytes: its
    ``max.message.bytes``) -> a dead letter for the DLQ topic, with its original input, instead. Both go
    to the same writer (a message names its topic).

    The raw topic may take larger messages than the output topic, and cleaning and entities add to an
    article: the broker refused such a record on every retry, so its batch failed until the stream gave
    up (exit 1), and a restarted stream met it again: one article held every partition for good."""

    def __init__(self, topics: Topics, limit: int, keep: Keeping | None) -> None:
        self.topics = topics
        self.limit = limit
        self.keep = keep

    def process(self, article: Article) -> Iterator[OutMessage]:
        message = article_message(self.topics.output_topic, article)
        size = len(message.value) + len(message.key or b"") + sum(len(k) + len(v) for k, v in message.headers)
        if size + RECORD_FRAMING <= self.limit:
            yield message
            return
        error = LimitExceeded(
            f"the clean article's record is {size} bytes; topic {self.topics.output_topic!r} takes "
            f"{self.limit} (its max.message.bytes)",
            stage="write",
        )
        letter = dead_letter(article.origin or b"", error, article.source_position, keeping=self.keep)
        yield dead_letter_message(self.topics.dlq_topic, letter)


class WriteOutputs(beam.PTransform):
    """The chain's three outputs -> their topics; returns the Acks of everything written. An article too
    large for the output topic (``article_bytes``, read from the topic at start-up: see
    :func:`~transforms.dlq_limit.record_bytes_limit`; the producer's request limit when not given) goes
    to the DLQ instead (:class:`FitArticles`), its dead letter keeping its original as ``keep`` says.

    Each output is encoded and written on its own, its writes fused with the step that makes its records
    (a Flatten of the three before one writer is a stage boundary on the local runner: no record was
    written until the whole batch had been decided), and only the Acks are flattened."""

    def __init__(
        self,
        kafka: KafkaSettings,
        topics: Topics,
        keep: Keeping | None = None,
        article_bytes: int | None = None,
    ) -> None:
        super().__init__()
        self.kafka = kafka
        self.topics = topics
        self.keep = keep
        self.article_bytes = article_bytes or kafka.producer_kwargs()["max_request_size"]

    def expand(self, outputs: dict[str, beam.PCollection]) -> beam.PCollection:
        t = self.topics
        # Output types declared: inferring them from the lambdas' bytecode cost every micro-batch's build.
        encoders = (
            ("articles", "Articles", beam.ParDo(FitArticles(t, self.article_bytes, self.keep))),
            ("duplicates", "Duplicates", beam.Map(lambda d: duplicate_message(t.duplicates_topic, d))),
            ("dlq", "DeadLetters", beam.Map(lambda x: dead_letter_message(t.dlq_topic, x))),
        )
        acks = tuple(
            outputs[name]
            | f"Encode{label}" >> encode.with_output_types(OutMessage)
            | f"Write{label}" >> beam.ParDo(WriteToKafka(self.kafka, batching=OUTPUT_BATCHING))
            for name, label, encode in encoders
        )
        return acks | "AllAcks" >> beam.Flatten()


def build(
    pipeline: beam.Pipeline,
    job: StreamJob,
    ranges: list,
    *,
    mode: str = "stream",
    changelog: Changelog | None = None,
) -> None:
    """Read, chain, write, commit. ``mode="local"``: one bounded micro-batch (the ranges have stops), its
    dedup index mirrored to ``changelog``."""
    if mode == "local":
        from pipelines.chain_workers import PooledChain

        chain = PooledChain(job.processing, ranges, changelog)  # takes over what was read ahead
        limits = ReadLimits(max_batch=job.max_poll_records)
        read = pipeline | "ReadKafka" >> ReadFromKafka(job.kafka, chain.unread, limits, bounded=True)
    else:
        chain = ArticleChain(job.limits, job.processing, mode=mode)
        read = pipeline | "ReadKafka" >> ReadFromKafka(
            job.kafka, ranges, ReadLimits(idle_timeout=job.idle_timeout, max_records=job.max_records)
        )
    outputs = read.records | "Chain" >> chain
    write = WriteOutputs(job.kafka, job.topics, keeping(job.limits, job.processing), job.max_article_bytes)
    acks = outputs | "WriteKafka" >> write
    # with work read ahead, the local chain acknowledges the gaps of the ranges it did not read again
    gaps = (read[GAPS_TAG], *([outputs["gaps"]] if "gaps" in outputs else []))
    ((acks, *gaps) | "AllAcks" >> beam.Flatten() | "CommitOffsets" >> CommitAcks(job.kafka, job.group_id))


def run(
    job: StreamJob,
    forks: ForkServer | None = None,
    *,
    checked: bool = False,
    bound: socket.socket | None = None,
) -> int:
    """Stream until stopped; 0 after a clean stop. A broker, credential, ACL or topic problem found at
    start-up raises its :mod:`pipelines.failures` error before anything runs (``checked``: the caller ran
    :func:`~pipelines.preflight.check_stream` already, as the CLI does before it starts the fork server). Local runs with
    ``workers`` > 1 fork their chain workers from ``forks`` (started before Beam was imported) when given.
    ``bound``: the metrics port, bound by the caller before anything loaded (:func:`metrics.listener`)."""
    t = job.topics
    if not checked:
        check_stream(job.kafka, t, job.connect_timeout)
    from transforms.dlq_limit import dead_letter_inline_bytes, record_bytes_limit

    if job.limits.max_dead_letter_bytes is None:  # never a dead letter the DLQ topic would refuse
        inline = dead_letter_inline_bytes(job.kafka, job.topics.dlq_topic)
        job = dataclasses.replace(job, limits=dataclasses.replace(job.limits, max_dead_letter_bytes=inline))
    if job.max_article_bytes is None:  # never an article the output topic would refuse
        job = dataclasses.replace(job, max_article_bytes=record_bytes_limit(job.kafka, t.output_topic))
    started = time.monotonic()
    with metrics.serve(job.monitoring, job.kafka, t.input_topic, job.group_id, job.reset, bound):
        if not is_local(job.beam_args):
            return _run_unbounded(job, started)
        stop = StopRequest()
        stop.install()
        log.info(
            "stream_start",
            input=t.input_topic,
            group_id=job.group_id,
            runner="local micro-batches",
            workers=job.workers,
        )
        metrics.declare_counters(
            "kafka.records_read", "kafka.records_written", "kafka.offset_commits", "kafka.offsets_lost"
        )
        metrics.set_workers(job.workers)
        totals = _run_batches(job, stop, forks, _watch_model(job))
        print_totals(totals, time.monotonic() - started)
        return 0


def _watch_model(job: StreamJob) -> Future | None:
    """With metrics served, the NER model's load as /readyz and the load-time metric see it. One worker:
    loaded here at start-up, in the background, which the stream process as its chain worker then waits
    for (without metrics, it loads it as that worker starts). More: the
    chain workers hold it (forked from the fork server's preload), and this process never runs NER; the
    Future returned is for :func:`_run_batches` to settle once the workers are up."""
    if job.monitoring.metrics_port is None or not job.processing.entities or job.processing.passthrough:
        return None
    if job.workers > 1:
        workers_up: Future = Future()
        metrics.watch_model(workers_up)
        return workers_up
    from pipelines.engine import worker_cache

    metrics.watch_model(worker_cache.preload())
    return None


def _run_batches(
    job: StreamJob, stop: StopRequest, forks: ForkServer | None, workers_up: Future | None = None
) -> dict[str, int]:
    """The local micro-batches (:mod:`pipelines.engine.local_stream`), each a bounded :func:`build`;
    ``workers_up`` is settled once the chain workers (and so their model) are ready."""
    state_dir = state_dir_for(job.group_id, job.topics.input_topic, job.processing.state_dir)
    job = dataclasses.replace(job, processing=dataclasses.replace(job.processing, state_dir=state_dir))
    changelog = None  # the dedup index's backup topic, restored from before the first batch
    if not job.processing.passthrough:
        changelog = changelog_for(
            job.kafka,
            job.group_id,
            job.dedup_changelog,
            state_dir,
            job.connect_timeout,
            lambda: stop.requested,
        )
    batches = Batches(
        kafka=job.kafka,
        input_topic=job.topics.input_topic,
        group_id=job.group_id,
        reset=job.reset,
        idle_timeout=job.idle_timeout,
        max_records=job.max_records,
        batch_records=job.batch_records,
        poll_interval=job.poll_interval,
        beam_args=job.beam_args,
    )

    def build_batch(pipeline: beam.Pipeline, ranges: list) -> None:
        build(pipeline, job, ranges, mode="local", changelog=changelog)

    from pipelines.chain_workers import chain_workers

    try:
        with chain_workers(
            job.workers, job.kafka, job.limits, job.processing, forks, lambda _: metrics.worker_restarted()
        ) as workers:
            if workers_up is not None:
                workers_up.set_result(workers.pool.size)
            # One worker is this process (an inline pool): nothing could run ahead of the batch in parallel.
            return run_batches(batches, build_batch, stop, workers.ahead if job.workers > 1 else None)
    except BaseException as exc:
        if workers_up is not None and not workers_up.done():
            workers_up.set_exception(exc)
        raise


def _run_unbounded(job: StreamJob, started: float) -> int:
    """One unbounded streaming pipeline, on the runner named after ``--`` (Prism, Flink, Dataflow)."""
    ranges = resolve_ranges(job.kafka, [job.topics.input_topic], job.group_id, StartRule(reset=job.reset))
    options = PipelineOptions(job.beam_args)
    options.view_as(StandardOptions).streaming = True
    log.info(
        "stream_start",
        input=job.topics.input_topic,
        group_id=job.group_id,
        partitions=len(ranges),
        runner=options.view_as(StandardOptions).runner,
    )
    if options.view_as(StandardOptions).runner == "PrismRunner":
        log.warning(
            "prism_may_hold_back_records",
            issue="apache/beam#35771",
            note="Prism can drop split bundles of stateful stages; their offsets stay uncommitted and a "
            "restart re-reads them. Without runner flags, newsflow streams locally without this.",
        )
    pipeline = beam.Pipeline(options=options)
    build(pipeline, job, ranges)
    result = pipeline.run()
    result.wait_until_finish()
    metrics.add_counters(print_summary(result, time.monotonic() - started))
    return 0
