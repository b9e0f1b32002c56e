"""``newsflow stream``: run the streaming pipeline on the raw topic."""

from __future__ import annotations

import argparse

from pipelines.options import Consumption, Monitoring, Processing, Topics, add_common, resolve
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
    from pipelines.stream import StreamJob, run  # Beam is imported only by the commands that run it

    consumption = resolve(Consumption, args)
    job = StreamJob(
        kafka=resolve(KafkaSettings, args),
        topics=resolve(Topics, args),
        limits=resolve(Limits, args),
        processing=resolve(Processing, args),
        group_id=consumption.group_id,
        reset=consumption.auto_offset_reset,
        idle_timeout=consumption.idle_timeout,
        max_records=consumption.max_records,
        connect_timeout=consumption.connect_timeout,
        batch_records=consumption.batch_records,
        poll_interval=consumption.poll_interval,
        dedup_changelog=consumption.dedup_changelog,
        beam_args=args.beam_args,
        monitoring=resolve(Monitoring, args),
    )
    return run(job)
