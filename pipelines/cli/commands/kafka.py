"""``newsflow kafka up|down|status``: the local single-node KRaft broker from ``deploy/kafka/lib``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pipelines.devkafka import broker

EXIT_NOT_RUNNING = 3


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "kafka",
        help="Run a local Kafka broker (KRaft, one node, loopback only).",
        description="Starts, stops and inspects a local Apache Kafka broker run from the jars that "
        "`make kafka-jars` fetched. Its configuration, data and logs live in the data dir.",
    )
    actions = parser.add_subparsers(dest="kafka_action", metavar="ACTION", required=True)

    up = actions.add_parser(
        "up",
        help="Start the broker and create the pipeline's topics.",
        description="Formats the data dir on first use, starts the broker detached, waits until it "
        "serves requests and creates the topics that do not exist yet. Does nothing if it already runs.",
    )
    _add_data_dir(up)
    up.add_argument("--port", type=int, default=broker.DEFAULT_PORT, help="Client port on 127.0.0.1.")
    up.add_argument(
        "--partitions",
        type=int,
        default=broker.DEFAULT_PARTITIONS,
        help="Partitions of each topic created (existing topics keep theirs).",
    )
    up.add_argument(
        "--topic",
        action="append",
        dest="topics",
        metavar="NAME",
        help="Topic to create; repeat for several (default: the pipeline's four topics).",
    )
    up.add_argument("--timeout", type=float, default=90.0, help="Seconds to wait for the broker.")
    up.set_defaults(func=_up)

    down = actions.add_parser(
        "down",
        help="Stop the broker.",
        description="Sends SIGTERM for a clean shutdown and SIGKILL if the broker is still there after "
        "the timeout. Data stays in the data dir for the next `up`.",
    )
    _add_data_dir(down)
    down.add_argument("--timeout", type=float, default=30.0, help="Seconds before SIGKILL.")
    down.set_defaults(func=_down)

    status = actions.add_parser(
        "status",
        help="Show whether the broker runs, and its topics.",
        description=f"Prints the broker's pid, address and topics with their partition counts. "
        f"Exits with {EXIT_NOT_RUNNING} if it does not run.",
    )
    _add_data_dir(status)
    status.set_defaults(func=_status)


def _add_data_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=broker.DEFAULT_DATA_DIR,
        help=f"The broker's configuration, data and logs (default: {broker.DEFAULT_DATA_DIR}).",
    )


def _up(args: argparse.Namespace) -> int:
    try:
        state = broker.up(
            port=args.port,
            data_dir=args.data_dir,
            partitions=args.partitions,
            topics=args.topics,
            timeout=args.timeout,
        )
    except broker.BrokerError as exc:
        print(f"kafka up failed: {exc}", file=sys.stderr)
        return 1
    _print(state)
    return 0


def _down(args: argparse.Namespace) -> int:
    try:
        stopped = broker.down(args.data_dir, timeout=args.timeout)
    except broker.BrokerError as exc:
        print(f"kafka down failed: {exc}", file=sys.stderr)
        return 1
    print("stopped" if stopped else "not running")
    return 0


def _status(args: argparse.Namespace) -> int:
    try:
        state = broker.status(args.data_dir)
    except broker.BrokerError as exc:
        print(f"kafka status: {exc}", file=sys.stderr)
        return 1
    _print(state)
    return 0 if state.running else EXIT_NOT_RUNNING


def _print(state: broker.BrokerStatus) -> None:
    if not state.running:
        print(f"not running (data dir {state.data_dir})")
        return
    print(f"running: pid {state.pid}, bootstrap {state.bootstrap}, data dir {state.data_dir}")
    if state.ssl_bootstrap:
        print(f"ssl: {state.ssl_bootstrap}")
    for name, partitions in state.topics.items():
        print(f"  {name}: {partitions} partitions")
