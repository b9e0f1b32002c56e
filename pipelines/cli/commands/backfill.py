"""``newsflow backfill``: replay a Kafka time window or files through the chain, to Avro files or topics."""

from __future__ import annotations

import argparse
import glob
import os
import socket
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from pipelines import metrics
from pipelines.cli.flags import integer, seconds
from pipelines.durations import duration_flag
from pipelines.engine import worker_forks
from pipelines.failures import BadUsage, InputFileError, UserError
from pipelines.options import Monitoring, Processing, Topics, add_common, resolve
from pipelines.preflight import check_state_dir
from transforms.settings import KafkaSettings, Limits

if TYPE_CHECKING:
    from pipelines.backfill import BackfillJob

# Beam is imported only when the command runs (see ``_run``), so ``newsflow --help`` stays fast.


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "backfill",
        help="Re-process a Kafka time window or files (JSONL, .html/.txt, WARC) in batch, to Avro files or topics.",
        description="Batch run of the streaming chain. Kafka: --topic T --from TIME --to TIME (or --day D) reads "
        "exactly the offsets of that window, never touching the streaming group's offsets. Files: --input GLOB "
        "(repeatable; JSONL envelopes, directories of .html/.txt, WARC/WARC.gz; .gz/.zst/.bz2 read directly). "
        "--output DIR writes Avro files partitioned by publication date (a re-run replaces them); --output kafka "
        "writes the output topics keyed by article id. Dedup follows the batch survivor rule; with --state-dir "
        "it also checks, read-only, against the streaming dedup index there. Arguments after a literal -- go to "
        "Beam (the default is the DirectRunner with one worker process per core).",
    )
    what = parser.add_argument_group("What to backfill")
    what.add_argument(
        "--input", action="append", default=[], metavar="GLOB", help="Input files (repeatable)."
    )
    what.add_argument("--topic", dest="input_topic", help="Kafka topic to replay (same as --input-topic).")
    what.add_argument(
        "--from", dest="start", metavar="TIME", help="Window start, ISO 8601 (e.g. 2026-11-01T00:00Z)."
    )
    what.add_argument("--to", dest="stop", metavar="TIME", help="Window end, exclusive, ISO 8601.")
    what.add_argument(
        "--lateness",
        metavar="DURATION",
        type=duration_flag,
        default="1d",
        help="How far a record's timestamp may lag the newest one before it in its partition and still be "
        "found in the window (producers stamping the article's own time interleave days): the read goes on "
        "to --to plus this; only records stamped in [--from, --to) are kept. E.g. 0, 30m, 6h, 1d, PT6H.",
    )
    what.add_argument(
        "--day", help="A whole UTC day: YYYY-MM-DD, 'yesterday' or 'today' (instead of --from/--to)."
    )
    what.add_argument("--source", help="Publisher/domain recorded for .html/.txt/WARC inputs.")
    out = parser.add_argument_group("Where to write")
    out.add_argument(
        "--output",
        action="append",
        required=True,
        metavar="DIR|kafka",
        help="A directory for Avro files, or 'kafka' for the output topics (repeatable: both).",
    )
    out.add_argument(
        "--codec",
        default="deflate",
        help="Avro codec: deflate (default), snappy, zstandard, null, bzip2, xz.",
    )
    out.add_argument(
        "--max-records-per-file",
        type=integer(1),
        default=100_000,
        help="Records per Avro file before the next shard (default 100000).",
    )
    out.add_argument(
        "--workers",
        type=integer(1),
        default=os.cpu_count() or 1,
        help="DirectRunner worker processes (default: the core count).",
    )
    out.add_argument(
        "--connect-timeout", type=seconds, default=60.0, help="Seconds to wait for the brokers at start-up."
    )
    add_common(
        parser,
        (Topics, "Topics"),
        (Processing, "Processing"),
        (Limits, "Limits"),
        (Monitoring, "Monitoring"),
    )
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from pipelines.cli.inputs import plan_inputs
    from transforms.file_io import iter_inputs

    matches: list[str] = []
    for pattern in args.input:  # before anything loads: a backfill of nothing is almost always a typo
        found = sorted(glob.glob(os.path.expanduser(pattern), recursive=True))
        if not found:
            raise InputFileError(f"{pattern}: no such file or directory (no file matches it)")
        matches += found
    if args.input and next(iter_inputs(args.input), None) is None:  # matches, but none newsflow reads
        plan_inputs(matches)  # names what it skipped, as process and produce do
        raise InputFileError(f"{' '.join(args.input)}: nothing to read (no regular file newsflow reads)")
    processing = resolve(Processing, args)
    if processing.state_dir:  # read-only use (the stream's index) is fine: a file never is
        check_state_dir(processing.state_dir, writable=False)
    # The metrics port bound now (so a port in use is told before the model loads) and held until the
    # server takes it, so no other process can take it in between.
    with metrics.listener(resolve(Monitoring, args)) as bound:
        return _start(args, processing, bound)


def _start(args: argparse.Namespace, processing: Processing, bound: socket.socket | None) -> int:
    # The workers' fork server first: it imports and loads on the idle core while this process imports Beam.
    if not worker_forks.wanted(args.beam_args):
        return _backfill(_job(args, processing), None, bound)
    model = processing.entities and not processing.passthrough
    with worker_forks.ForkServer.start(model=model, modules=["pipelines.backfill"]) as forks:
        try:
            job = _job(args, processing)
        except UserError:
            forks.process.kill()  # a mistake in the flags: tell it now, not once the server's model is loaded
            raise
        return _backfill(job, forks, bound)


def _job(args: argparse.Namespace, processing: Processing) -> BackfillJob:
    """The job the flags describe; a window, codec or combination it cannot run is :class:`BadUsage`."""
    from pipelines.backfill import BackfillJob, day_window, parse_instant
    from transforms.avro_files import check_codec

    try:
        start, stop = (parse_instant(t) if t else None for t in (args.start, args.stop))
        if args.day:
            if start or stop:
                raise ValueError("give --day or --from/--to, not both")
            start, stop = day_window(args.day, datetime.now(UTC))
        check_codec(args.codec)
        job = BackfillJob(
            outputs=args.output,
            kafka=resolve(KafkaSettings, args),
            topics=resolve(Topics, args),
            limits=resolve(Limits, args),
            processing=processing,
            inputs=args.input,
            start=start,
            stop=stop,
            source=args.source,
            codec=args.codec,
            max_records_per_file=args.max_records_per_file,
            workers=args.workers,
            connect_timeout=args.connect_timeout,
            beam_args=args.beam_args,
            lateness=args.lateness,
            monitoring=resolve(Monitoring, args),
        )
    except ValueError as exc:
        raise BadUsage(str(exc)) from None
    for directory in job.directories:  # the workers would fail on it only once they write, in a traceback
        if os.path.lexists(directory) and not os.path.isdir(directory):
            raise InputFileError(f"--output {directory}: not a directory")
        try:
            os.makedirs(directory, exist_ok=True)
        except OSError as exc:
            raise InputFileError(f"--output {directory}: {exc.strerror or type(exc).__name__}") from None
        if not os.access(directory, os.W_OK | os.X_OK):
            raise InputFileError(f"--output {directory}: not writable")
    return job


def _backfill(job: BackfillJob, forks: worker_forks.ForkServer | None, bound: socket.socket | None) -> int:
    from pipelines.backfill import run

    return run(job, forks, bound)
