"""``newsflow stream``: run the streaming pipeline on the raw topic."""

from __future__ import annotations

import argparse
import socket
from typing import NamedTuple

from pipelines import metrics
from pipelines.engine import worker_forks
from pipelines.engine.local_stream import is_local
from pipelines.local_state import default_state_dir
from pipelines.options import Consumption, Monitoring, Processing, Topics, add_common, resolve
from pipelines.preflight import check_state_dir, check_stream
from transforms.settings import KafkaSettings, Limits


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "stream",
        help="Stream raw articles from Kafka through the pipeline to the output topics.",
        description="Read --input-topic, clean, dedup and annotate each article, write Avro to the output, "
        "duplicates and DLQ topics, and commit offsets only after the output is written. "
        "Arguments after a literal -- go to Beam, e.g. -- --runner=FlinkRunner.",
    )
    add_common(
        parser,
        (Topics, "Topics"),
        (Consumption, "Consumption"),
        (Processing, "Processing"),
        (Limits, "Limits"),
        (Monitoring, "Monitoring"),
    )
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    # Every setting now, so that a mistyped variable is told at once, not after a minute's wait for brokers.
    settings = Settings(
        resolve(Consumption, args),
        resolve(Processing, args),
        resolve(KafkaSettings, args),
        resolve(Topics, args),
        resolve(Limits, args),
        resolve(Monitoring, args),
    )
    consumption, processing = settings.consumption, settings.processing
    if is_local(args.beam_args):  # other runners keep their state themselves
        given = processing.state_dir
        path = given or str(default_state_dir(consumption.group_id, settings.topics.input_topic))
        check_state_dir(path, default=not given)
    # The metrics port next, bound now (so a port in use is told before the brokers are asked or the model
    # loads) and held until the server takes it, so no other process can take it in between.
    with metrics.listener(settings.monitoring) as bound:
        return _start(args, settings, bound)


def _start(args: argparse.Namespace, settings: Settings, bound: socket.socket | None) -> int:
    consumption, processing = settings.consumption, settings.processing
    if consumption.workers == 1 or not worker_forks.runs_here(args.beam_args):
        return _stream(args, settings, None, bound)
    # Brokers, credentials and ACLs first (once: the stream is told so), so that a run that cannot start
    # fails with its one line and loads nothing. Then the chain workers' fork server: it imports and loads
    # on another core while this process imports Beam; in its own session, so that a Ctrl-C reaches only
    # this process, which finishes its batch.
    check_stream(settings.kafka, settings.topics, consumption.connect_timeout)
    model = processing.entities and not processing.passthrough
    with worker_forks.ForkServer.start(
        model=model, modules=["pipelines.chain_workers"], own_session=True
    ) as forks:
        return _stream(args, settings, forks, bound)


class Settings(NamedTuple):
    """What the flags and variables resolve to, each class once."""

    consumption: Consumption
    processing: Processing
    kafka: KafkaSettings
    topics: Topics
    limits: Limits
    monitoring: Monitoring


def _stream(
    args: argparse.Namespace,
    settings: Settings,
    forks: worker_forks.ForkServer | None,
    bound: socket.socket | None,
) -> int:
    from pipelines.stream import StreamJob, run  # Beam is imported only by the commands that run it

    consumption = settings.consumption
    job = StreamJob(
        kafka=settings.kafka,
        topics=settings.topics,
        limits=settings.limits,
        processing=settings.processing,
        group_id=consumption.group_id,
        reset=consumption.auto_offset_reset,
        idle_timeout=consumption.idle_timeout,
        max_records=consumption.max_records,
        connect_timeout=consumption.connect_timeout,
        batch_records=consumption.batch_records,
        max_poll_records=consumption.max_poll_records,
        poll_interval=consumption.poll_interval,
        dedup_changelog=consumption.dedup_changelog,
        workers=consumption.workers,
        beam_args=args.beam_args,
        monitoring=settings.monitoring,
    )
    return run(job, forks, checked=forks is not None, bound=bound)
