"""``newsflow backfill``: replay a Kafka time window or a set of files through the chain, in batch mode.

    Kafka window (exact offsets via offsets_for_times) ─┐
                                                        ├─► ArticleChain(mode="batch") ─► Avro files and/or topics
    files: JSONL, .html/.txt dirs, WARC/WARC.gz ────────┘

A backfill is bounded, precise and idempotent: it reads exactly the records of the window (no consumer
group, so the streaming job's committed offsets are never touched), its Avro files have deterministic names
and bytes (a re-run replaces them), and topic messages are keyed by article id (compaction keeps one).
On the DirectRunner it runs multi-process with one worker per core. Workers report progress through small
files in a board directory that the main process sums into a rate and an ETA.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO

import apache_beam as beam
import structlog
from apache_beam.metrics import Metrics
from apache_beam.options.pipeline_options import DirectOptions, PipelineOptions, StandardOptions

from pipelines import metrics
from pipelines.chain import ArticleChain, entity_stage, keeping
from pipelines.engine import worker_cache
from pipelines.engine.local_runner import local_runner
from pipelines.engine.worker_forks import ForkServer
from pipelines.options import DIRECT_RUNNERS, Monitoring, Processing, Topics
from pipelines.preflight import check
from pipelines.stream import WriteOutputs
from pipelines.summary import print_summary
from transforms.avro_files import DEFAULT_CODEC, DEFAULT_MAX_RECORDS, WriteAvroFiles
from transforms.deadletter import DLQ_TAG
from transforms.dlq_limit import record_bytes_limit
from transforms.file_io import UNREADABLE, FileRange, ReadFiles, expand_inputs, plan_ranges
from transforms.kafka_io import (
    GAPS_TAG,
    KafkaRecord,
    PartitionRange,
    ReadBoundedPartitions,
    ReadLimits,
    StartRule,
    resolve_ranges,
)
from transforms.settings import KafkaSettings, Limits

log = structlog.get_logger(__name__)

KAFKA_OUTPUT = "kafka"
CPU_KEY = "cpu_s"
PIECES_PER_WORKER = 64  # input ranges per worker: dealt out in turn, many small pieces even out their costs


# ---- the time window --------------------------------------------------------------------------------------


def parse_instant(text: str) -> datetime:
    """ISO 8601 (``2026-11-01T00:00Z``, ``2026-11-01``, with offsets), naive times meaning UTC."""
    try:
        parsed = datetime.fromisoformat(text.strip().replace("z", "Z"))
    except ValueError as exc:
        raise ValueError(f"not an ISO 8601 time: {text!r} (e.g. 2026-11-01T00:00Z)") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def day_window(day: str, now: datetime) -> tuple[datetime, datetime]:
    """``yesterday``, ``today`` or ``YYYY-MM-DD`` -> [00:00Z that day, 00:00Z the next day)."""
    try:
        if day in ("yesterday", "today"):
            start = datetime(now.year, now.month, now.day, tzinfo=UTC) - timedelta(days=day == "yesterday")
        else:
            start = parse_instant(day).astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        return start, start + timedelta(days=1)
    except OverflowError:  # a usage error (exit 2), not a crash (exit 1)
        raise ValueError(f"--day {day}: not a day of years 1-9999 in UTC") from None


DEFAULT_LATENESS = timedelta(days=1)
"""How far behind the newest timestamp already in a partition a record's own may lie and still be found by
``--from/--to``. Producers that stamp records with the article's time (CreateTime from ``fetched_at``)
interleave days; a crawler a day behind is still found, at the cost of reading one more day of offsets
(dropped before any parsing)."""


def epoch_ms(instant: datetime) -> int:
    return int(instant.timestamp() * 1000)


def in_window(record: KafkaRecord, start_ms: int, stop_ms: int) -> bool:
    """[start, stop): offsets_for_times bounds are exact only where producer timestamps are in order."""
    return start_ms <= record.timestamp_ms < stop_ms


def lookup_ms(instant: datetime) -> int:
    """``instant`` as a time to look offsets up by: Kafka stamps no record before 1970 and its client
    refuses a negative time (in the protocol, -1 and -2 even mean the latest and the earliest offset), so a
    window from before 1970 starts at 0."""
    return max(epoch_ms(instant), 0)


def kafka_rule(job: BackfillJob) -> StartRule:
    """Where the Kafka window's read starts and stops (offsets looked up by time)."""
    assert job.start is not None
    return StartRule(use_committed=False, start_ms=lookup_ms(job.start), stop_ms=lookup_stop_ms(job))


def lookup_stop_ms(job: BackfillJob) -> int:
    """The time whose offset ends the read: ``--to`` plus the lateness. Kafka's offset lookup by time gives
    each partition's *first* offset stamped at or after a time, so a window record after the offset that
    ``--to`` resolves to (a late one, behind a newer record) would be missed; reading on to ``--to +
    lateness`` finds every record at most that far behind. The start needs no widening: every record before
    the offset ``--from`` resolves to is stamped before ``--from``. :class:`InWindowDoFn` then keeps exactly
    [from, to)."""
    try:
        end = job.stop + job.lateness
    except OverflowError:  # past year 9999: to the end of every partition
        end = datetime.max.replace(tzinfo=UTC)
    return lookup_ms(end)


# ---- the job ----------------------------------------------------------------------------------------------


@dataclass
class BackfillJob:
    """One backfill: a Kafka window or file globs in; Avro directories and/or the topics out."""

    outputs: list[str]
    kafka: KafkaSettings = field(default_factory=KafkaSettings)
    topics: Topics = field(default_factory=Topics)
    limits: Limits = field(default_factory=Limits)
    processing: Processing = field(default_factory=Processing)
    inputs: list[str] = field(default_factory=list)
    start: datetime | None = None
    stop: datetime | None = None
    source: str | None = None
    codec: str = DEFAULT_CODEC
    max_records_per_file: int = DEFAULT_MAX_RECORDS
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    connect_timeout: float = 60.0
    beam_args: list[str] = field(default_factory=list)
    lateness: timedelta = DEFAULT_LATENESS
    monitoring: Monitoring = field(default_factory=Monitoring)

    def __post_init__(self) -> None:
        if self.lateness < timedelta(0):
            raise ValueError("--lateness cannot be negative")
        if bool(self.inputs) == (self.start is not None):
            raise ValueError("give either input files (--input) or a Kafka time window (--from/--to, --day)")
        if (self.start is None) != (self.stop is None):
            raise ValueError("a Kafka window needs both --from and --to (or --day)")
        if self.start is not None and self.stop is not None and self.start >= self.stop:
            raise ValueError(f"empty window: --from {self.start.isoformat()} is not before --to")
        if not self.outputs:
            raise ValueError("give at least one --output: a directory for Avro files, or 'kafka'")

    @property
    def directories(self) -> list[str]:
        return [o for o in self.outputs if o != KAFKA_OUTPUT]

    @property
    def to_kafka(self) -> bool:
        return KAFKA_OUTPUT in self.outputs

    @property
    def from_kafka(self) -> bool:
        return self.start is not None

    def spec(self) -> dict[str, Any]:
        """What the backfill reads: the same spec is the same run, whose files a re-run replaces."""
        if self.from_kafka:
            return {
                "source": "kafka",
                "topic": self.topics.input_topic,
                "from": self.start.astimezone(UTC).isoformat(),
                "to": self.stop.astimezone(UTC).isoformat(),
            }
        return {"source": "files", "inputs": sorted(os.path.abspath(p) for p in self.inputs)}

    def run_id(self) -> str:
        return hashlib.sha256(json.dumps(self.spec(), sort_keys=True).encode()).hexdigest()[:12]


def beam_options(beam_args: list[str], workers: int) -> tuple[PipelineOptions, bool]:
    """Batch options; on the DirectRunner, ``workers`` processes unless the Beam arguments say otherwise.

    Returns the options and whether the runner is the local DirectRunner (whose workers share our disk).
    """
    args = list(beam_args)
    runner = PipelineOptions(args).view_as(StandardOptions).runner
    local = runner in DIRECT_RUNNERS
    if local:
        if not any(a.startswith("--direct_num_workers") for a in args):
            args.append(f"--direct_num_workers={workers}")
        if not any(a.startswith("--direct_running_mode") for a in args):
            args.append("--direct_running_mode=multi_processing")
        if not any(a.startswith("--default_sdk_harness_log_level") for a in args):
            args.append("--default_sdk_harness_log_level=WARNING")  # workers' start-up chatter hides progress
    options = PipelineOptions(args)
    options.view_as(StandardOptions).streaming = False
    return options, local


# ---- progress ---------------------------------------------------------------------------------------------


class _Board:
    """This process's progress counts, written to ``<board>/<pid>.json`` at most every ``interval`` s."""

    def __init__(self, interval: float = 0.5) -> None:
        self.interval = interval
        self.counts: dict[str, dict[str, int]] = {}
        self.flushed = 0.0
        self.lock = threading.Lock()

    def add(self, board: str, kind: str, n: int = 1) -> None:
        with self.lock:
            counts = self.counts.setdefault(board, {})
            counts[kind] = counts.get(kind, 0) + n
        if time.monotonic() - self.flushed >= self.interval:
            self.flush(board)

    def flush(self, board: str) -> None:
        with self.lock:
            self.flushed = time.monotonic()
            data = json.dumps({**self.counts.get(board, {}), CPU_KEY: round(time.process_time(), 2)})
            path = os.path.join(board, f"{os.getpid()}.json")
            temporary = f"{path}.tmp"
            try:
                with open(temporary, "w") as out:
                    out.write(data)
                os.replace(temporary, path)
            except OSError:  # no board here (a remote worker), or the run ended and removed it
                pass


BOARD = _Board()


def _board_files(board: str) -> Iterator[dict[str, Any]]:
    for name in sorted(os.listdir(board)) if os.path.isdir(board) else []:
        if not name.endswith(".json"):
            continue
        try:
            with open(os.path.join(board, name)) as f:
                yield json.load(f)
        except (OSError, ValueError):  # being replaced right now: next time
            continue


def read_board(board: str) -> dict[str, int]:
    """The counts of all worker processes, summed."""
    totals: dict[str, int] = {}
    for counts in _board_files(board):
        for kind, n in counts.items():
            if kind != CPU_KEY:
                totals[kind] = totals.get(kind, 0) + n
    return totals


def worker_cpu(board: str) -> list[float]:
    """CPU seconds of each worker process at its last report: even shares mean every core did its part."""
    return sorted(counts[CPU_KEY] for counts in _board_files(board) if CPU_KEY in counts)


class TallyDoFn(beam.DoFn):
    """Pass elements on unchanged, counting them on the progress board."""

    def __init__(self, board: str, kind: str) -> None:
        self.board = board
        self.kind = kind

    def process(self, element: Any) -> Iterator[Any]:
        BOARD.add(self.board, self.kind)
        yield element

    def finish_bundle(self) -> None:
        BOARD.flush(self.board)


def format_progress(
    counts: dict[str, int], total: int | None, elapsed: float, out_elapsed: float | None = None
) -> dict[str, Any]:
    """Counts, rate and ETA. Batch runners go stage by stage: first records enter the chain ("read", the
    rate and ETA follow them); the outputs then come after dedup's grouping (the rate and ETA follow them,
    timed from the first output, ``out_elapsed`` ago). Files read in the stage that processes them are
    counted as found when read: until the outputs start, their total (and so the ETA) is unknown."""
    read = counts.get("read", 0)
    dropped = counts.get("duplicates", 0) + counts.get("dlq", 0)
    processed = counts.get("articles", 0) + dropped
    found = counts.get("found", 0)
    if total is None:
        total = found if found > read or processed else None
    if total is None or read < total or not processed:
        phase, done, seconds = "read", read, elapsed
    else:
        phase, done, seconds = "write", processed, out_elapsed or 0.0
    rate = done / seconds if seconds > 0 else 0.0
    eta = max(total - done, 0) / rate if rate > 0 and total is not None else None
    return {
        "phase": phase,
        "read": read,
        "total": total,
        "articles": counts.get("articles", 0),
        "duplicates": counts.get("duplicates", 0),
        "dead_letters": counts.get("dlq", 0),
        "dropped": dropped,
        "rate": round(rate, 1),
        "eta_s": None if eta is None else round(eta),
    }


def progress_line(progress: dict[str, Any]) -> str:
    eta = progress["eta_s"]
    eta_text = "--:--:--" if eta is None else str(timedelta(seconds=eta))
    total = progress["total"]
    of = "" if total is None else f"/{total:,}" + (f" {100 * progress['read'] / total:.0f}%" if total else "")
    return (
        f"read {progress['read']:,}{of}  out {progress['articles']:,}  "
        f"dropped {progress['dropped']:,} (dup {progress['duplicates']:,}, dlq {progress['dead_letters']:,})  "
        f"{progress['phase']} {progress['rate']:.1f}/s  ETA {eta_text}"
    )


class ProgressMonitor:
    """Sums the board every second: a rewritten status line on a TTY, a structlog line every 10 s otherwise."""

    def __init__(self, board: str, total: int | None, stream: TextIO = sys.stderr) -> None:
        self.board = board
        self.total = total
        self.stream = stream
        self.tty = stream.isatty()
        self.started = time.monotonic()
        self.out_started: float | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="backfill-progress", daemon=True)

    def __enter__(self) -> ProgressMonitor:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.report(final=True)
        log.info("backfill_workers", cpu_s=worker_cpu(self.board), main_cpu_s=round(time.process_time(), 2))

    def _loop(self) -> None:
        interval = 1.0 if self.tty else 10.0
        while not self._stop.wait(interval):
            self.report()

    def report(self, final: bool = False) -> None:
        counts = read_board(self.board)
        now = time.monotonic()
        if self.out_started is None and any(counts.get(k) for k in ("articles", "duplicates", "dlq")):
            self.out_started = now
        out_elapsed = None if self.out_started is None else now - self.out_started
        progress = format_progress(counts, self.total, now - self.started, out_elapsed)
        if self.tty:
            print(
                "\r\033[K" + progress_line(progress), end="\n" if final else "", file=self.stream, flush=True
            )
        else:
            log.info("backfill_progress", final=final, **progress)


# ---- the pipeline -----------------------------------------------------------------------------------------


class ReadKafkaWindow(beam.PTransform):
    """Bounded ranges -> KafkaRecords (gaps of compacted offsets need no acks in batch)."""

    def __init__(self, settings: KafkaSettings, ranges: list[PartitionRange]) -> None:
        super().__init__()
        self.settings = settings
        self.ranges = ranges

    def expand(self, pbegin: beam.pvalue.PBegin) -> beam.PCollection:
        return (
            pbegin
            | "Partitions" >> beam.Create(self.ranges)
            | "Read"
            >> beam.ParDo(ReadBoundedPartitions(self.settings, ReadLimits())).with_outputs(
                GAPS_TAG, main="records"
            )
        ).records


class InWindowDoFn(beam.DoFn):
    """Drop records stamped outside [start, stop) (producers' out-of-order timestamps), counting them."""

    def __init__(self, start_ms: int, stop_ms: int) -> None:
        self.start_ms = start_ms
        self.stop_ms = stop_ms

    def setup(self) -> None:
        self._outside = Metrics.counter("newsflow", "backfill.outside_window")

    def process(self, record: KafkaRecord) -> Iterator[KafkaRecord]:
        if in_window(record, self.start_ms, self.stop_ms):
            yield record
        else:
            self._outside.inc()


def needs_spread(files: list[FileRange], workers: int) -> bool:
    """Whether records must be reshuffled after reading: never with one worker; otherwise when one range (an
    unsplittable file) holds more than a quarter of a worker's share of the bytes, so that its reader would
    hold up the others (ranges dealt out in turn, largest first, differ by at most the largest range)."""
    total = sum(f.size for f in files)
    return workers > 1 and max((f.size for f in files), default=0) * workers * 4 > total


class PreloadModelDoFn(beam.DoFn):
    """Pass elements on; when this worker's share of the reading stage is done, start loading the NER model
    in the background, so it loads while the worker waits at the barriers before the entities stage."""

    def process(self, element: Any) -> Iterator[Any]:
        yield element

    def finish_bundle(self) -> None:
        worker_cache.preload()


class DealByCostDoFn(beam.DoFn):
    """Key each article by the bin with the least body text dealt so far: grouped by these keys, each of
    the DirectRunner's workers gets one bin, so NER (its cost grows with the text) ends at the same time
    on all of them rather than after the worker that happened to get the long articles."""

    def __init__(self, bins: int) -> None:
        self.bins = bins

    def start_bundle(self) -> None:
        self.loads = [0] * self.bins

    def process(self, article: Any) -> Iterator[tuple[int, Any]]:
        index = min(range(self.bins), key=self.loads.__getitem__)
        self.loads[index] += len(article.body) + 1
        yield index, article


class BatchEntities(beam.PTransform):
    """Articles -> (with entities, dead letters): the chain's entity stage, on the process's shared model,
    its input dealt evenly by cost over ``bins`` workers first (when more than one)."""

    def __init__(self, limits: Limits, bins: int) -> None:
        super().__init__()
        self.limits = limits
        self.bins = bins

    def expand(self, articles: beam.PCollection) -> tuple[beam.PCollection, beam.PCollection]:
        if self.bins > 1:
            articles = (
                articles
                | "Deal" >> beam.ParDo(DealByCostDoFn(self.bins))
                | "Bins" >> beam.GroupByKey()
                | "Unbin" >> beam.FlatMap(lambda kv: kv[1])
            )
        stage = entity_stage(self.limits, shared=True)
        outputs = articles | "Extract" >> beam.ParDo(stage).with_outputs(DLQ_TAG, main="ok")
        return outputs.ok, outputs[DLQ_TAG]


def build(
    pipeline: beam.Pipeline,
    job: BackfillJob,
    ranges: list[PartitionRange],
    files: list[FileRange],
    board: str,
    bins: int = 1,
    claims: str | None = None,
) -> None:
    """The backfill graph. File ranges are read where they are processed (one fused stage) unless they
    need spreading, claimed one at a time by the workers given ``claims`` (a directory they share); ``bins``
    > 1 deals the NER work evenly over that many workers."""
    unreadable = None  # dead letters of input files that could not be read to their end, or over the limit
    if job.from_kafka:
        records = (
            pipeline
            | "ReadKafka" >> ReadKafkaWindow(job.kafka, ranges)
            | "InWindow" >> beam.ParDo(InWindowDoFn(epoch_ms(job.start), epoch_ms(job.stop)))
        )
    else:
        read = pipeline | "ReadFiles" >> ReadFiles(
            files,
            job.source,
            claims=claims,
            readers=job.workers,
            limit=job.limits.max_message_bytes,
            store_dir=job.processing.state_dir,  # where the chain keeps originals too large for the DLQ
        )
        unreadable = read[UNREADABLE]
        records = read.records | "TallyFound" >> beam.ParDo(TallyDoFn(board, "found"))
        if needs_spread(files, job.workers):
            records = records | "Spread" >> beam.Reshuffle()
    records = records | "TallyRead" >> beam.ParDo(TallyDoFn(board, "read"))
    processing = job.processing
    entities = None
    if processing.entities and not processing.passthrough:
        records = records | "PreloadModel" >> beam.ParDo(PreloadModelDoFn())
        entities = BatchEntities(job.limits, bins)  # balanced over the workers, on the shared model
    outputs = records | "Chain" >> ArticleChain(job.limits, processing, mode="batch", entities=entities)
    outputs = {name: outputs[name] for name in ("articles", "duplicates", "dlq")}
    if unreadable is not None:
        outputs["dlq"] = (outputs["dlq"], unreadable) | "WithUnreadable" >> beam.Flatten()
    outputs = {name: outputs[name] | f"Tally{name}" >> beam.ParDo(TallyDoFn(board, name)) for name in outputs}
    spec = json.dumps(job.spec(), sort_keys=True)
    for index, directory in enumerate(job.directories):
        outputs | f"WriteAvro{index}" >> WriteAvroFiles(
            directory,
            job.run_id(),
            codec=job.codec,
            max_records=job.max_records_per_file,
            metadata={"newsflow.backfill": spec},
        )
    if job.to_kafka:
        article_bytes = record_bytes_limit(job.kafka, job.topics.output_topic)
        outputs | "WriteKafka" >> WriteOutputs(
            job.kafka, job.topics, keeping(job.limits, processing), article_bytes
        )


def claims_dir(options: PipelineOptions, board: str) -> str | None:
    """A directory for the local runner's workers' range claims (``ReadFiles``), when there are several;
    never when it repeats bundles (a debugging option), as a repeated bundle would find its ranges taken."""
    direct = options.view_as(DirectOptions)
    if direct.direct_num_workers == 1 or direct.direct_runner_bundle_repeat:
        return None
    path = os.path.join(board, "claims")
    os.makedirs(path, exist_ok=True)
    return path


def run(job: BackfillJob, forks: ForkServer | None = None, bound: socket.socket | None = None) -> int:
    """Resolve the input, run the pipeline with live progress, print the summary; 0 on success. On the
    DirectRunner, ``forks`` (started before Beam was imported) forks the worker processes. ``bound``: the
    metrics port, bound by the caller before anything loaded (:func:`metrics.listener`)."""
    ranges: list = []
    files: list[FileRange] = []
    if job.from_kafka or job.to_kafka:
        t = job.topics
        check(
            job.kafka,
            read=[t.input_topic] if job.from_kafka else [],
            write=[t.output_topic, t.duplicates_topic, t.dlq_topic] if job.to_kafka else [],
            timeout=job.connect_timeout,
        )
    if job.from_kafka:
        ranges = resolve_ranges(job.kafka, [job.topics.input_topic], None, kafka_rule(job))
        total = sum(r.stop - r.start for r in ranges)
    else:
        paths = expand_inputs(job.inputs)
        files = plan_ranges(paths, job.workers * PIECES_PER_WORKER)
        total = None  # known once the files are read ("found")
    options, local = beam_options(job.beam_args, job.workers)
    log.info(
        "backfill_start",
        run_id=job.run_id(),
        spec=job.spec(),
        outputs=job.outputs,
        files=len({f.path for f in files}) or None,
        ranges=len(files) or None,
        records=total,
        runner=options.view_as(StandardOptions).runner or "DirectRunner",
        workers=job.workers if local else None,
        forked_workers=forks is not None if local else None,
    )
    board = tempfile.mkdtemp(prefix="newsflow-progress-")
    started = time.monotonic()
    metrics.set_workers(job.workers if local else 1)
    metrics.watch_progress(lambda: read_board(board))
    kafka = job.kafka if job.from_kafka or job.to_kafka else None
    try:
        with metrics.serve(job.monitoring, kafka, bound=bound):
            pipeline = beam.Pipeline(runner=local_runner(options, forks) if local else None, options=options)
            build(
                pipeline,
                job,
                ranges,
                files,
                board,
                bins=job.workers if local else 1,
                claims=claims_dir(options, board) if local else None,
            )
            with ProgressMonitor(board, total):
                result = pipeline.run()
                result.wait_until_finish()
    finally:
        shutil.rmtree(board, ignore_errors=True)
    print_summary(result, time.monotonic() - started)
    return 0
