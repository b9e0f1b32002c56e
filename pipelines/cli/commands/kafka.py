"""``newsflow kafka up|down|status``: the local single-node KRaft broker from ``deploy/kafka/lib``."""

from __future__ import annotations

import argparse
from pathlib import Path

from pipelines.cli.flags import PORT, integer, seconds
from pipelines.devkafka import broker
from pipelines.failures import BrokerUnreachable, UserError


class BrokerFailed(UserError):
    """The local broker could not be started or stopped (the message has its log's end)."""

    exit_code = 1
    kind = "kafka_broker_failed"


EXIT_NOT_RUNNING = BrokerUnreachable.exit_code


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
    up.add_argument(
        "--partitions",
        type=integer(1),
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
    up.add_argument("--timeout", type=seconds, default=90.0, help="Seconds to wait for the broker.")
    up.set_defaults(func=_up)

    down = actions.add_parser(
        "down",
        help="Stop the broker.",
        description="Sends SIGTERM for a clean shutdown and SIGKILL if the broker is still there after "
        "the timeout. Data stays in the data dir for the next `up`. Only a broker started from this data "
        "dir is ever stopped; another process on the port is left alone.",
    )
    _add_data_dir(down)
    down.add_argument("--timeout", type=seconds, default=30.0, help="Seconds before SIGKILL.")
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
        "--port", type=PORT, default=broker.DEFAULT_PORT, help="The broker's client port on 127.0.0.1."
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        help=f"The broker's configuration, data and logs (env {broker.DATA_DIR_ENV}; default: one per user "
        f"and port, {broker.default_data_dir(broker.DEFAULT_PORT).parent}/kafka-PORT, so every checkout "
        "finds the broker of a port).",
    )


def _data_dir(args: argparse.Namespace) -> Path:
    return args.data_dir if args.data_dir is not None else broker.default_data_dir(args.port)


def _up(args: argparse.Namespace) -> int:
    try:
        state = broker.up(
            port=args.port,
            data_dir=_data_dir(args),
            partitions=args.partitions,
            topics=args.topics,
            timeout=args.timeout,
        )
    except broker.BrokerError as exc:
        raise BrokerFailed(f"kafka up failed: {exc}") from None
    _print(state)
    return 0


def _down(args: argparse.Namespace) -> int:
    data_dir = _data_dir(args)
    try:
        stopped = broker.down(data_dir, timeout=args.timeout)
    except broker.BrokerError as exc:
        raise BrokerFailed(f"kafka down failed: {exc}") from None
    if stopped:
        print(f"stopped (data dir {data_dir})")
    else:
        print(f"not running (data dir {data_dir}){_port_note(args.port)}")
    return 0


def _status(args: argparse.Namespace) -> int:
    data_dir = _data_dir(args)
    try:
        state = broker.status(data_dir)
    except broker.BrokerError as exc:
        raise BrokerFailed(f"kafka status: {exc}") from None
    _print(state)
    if not state.running:
        print(_port_note(args.port).strip("; ") or f"nothing listens on port {args.port}")
    return 0 if state.running else EXIT_NOT_RUNNING


def _port_note(port: int) -> str:
    """Whether something this data dir did not start holds the port (another checkout's, another user's)."""
    if broker.port_in_use(port):
        return f"; port {port} is in use by another process, which this data dir did not start: left alone"
    return ""


def _print(state: broker.BrokerStatus) -> None:
    if not state.running:
        print(f"not running (data dir {state.data_dir})")
        return
    print(f"running: pid {state.pid}, bootstrap {state.bootstrap}, data dir {state.data_dir}")
    if state.ssl_bootstrap:
        print(f"ssl: {state.ssl_bootstrap}")
    if state.sasl_bootstrap:
        print(f"sasl_ssl: {state.sasl_bootstrap}")
    for name, partitions in state.topics.items():
        print(f"  {name}: {partitions} partitions")
