"""Prometheus metrics and health checks of a running ``stream`` or ``backfill`` (``--metrics-port``).

    names.py     Beam counter names -> Prometheus names and labels (a table, then a general rule)
    exporter.py  the process's registry, and the calls the commands feed it through
    lag.py       consumer lag and broker reachability, looked up on a thread
    server.py    /metrics, /healthz, /readyz

The commands call :func:`serve` around their run and the feeding functions re-exported here where they
learn something; with ``--metrics-port`` unset nothing is served and no lookups run.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from pipelines.metrics.exporter import (
    add_counters,
    committed,
    declare_counters,
    observe_batch,
    set_workers,
    watch_model,
    watch_progress,
    worker_restarted,
)
from pipelines.metrics.lag import BrokerWatch
from pipelines.metrics.server import listen, serving
from pipelines.options import Monitoring
from transforms.settings import KafkaSettings

__all__ = [
    "add_counters",
    "committed",
    "declare_counters",
    "listener",
    "observe_batch",
    "serve",
    "set_workers",
    "watch_model",
    "watch_progress",
    "worker_restarted",
]


@contextmanager
def listener(monitoring: Monitoring) -> Iterator[socket.socket | None]:
    """The metrics port bound and listening while in the block, if ``monitoring`` asks for one (else None):
    what a command takes first, so that a port in use is a usage error (exit 2) before anything loads;
    :func:`serve` then serves on it."""
    if monitoring.metrics_port is None:
        yield None
        return
    with listen(monitoring.metrics_host, monitoring.metrics_port) as sock:
        yield sock


@contextmanager
def serve(
    monitoring: Monitoring,
    kafka: KafkaSettings | None = None,
    topic: str | None = None,
    group_id: str | None = None,
    reset: str = "earliest",
    bound: socket.socket | None = None,
) -> Iterator[int | None]:
    """Serve the metrics while in the block, if ``monitoring`` asks for it, on ``bound`` (:func:`listener`)
    when given; yields the port or None. Given ``kafka``, readiness needs the brokers; given a ``topic`` and
    ``group_id`` too, the group's lag on it is published."""
    if monitoring.metrics_port is None:
        yield None
        return
    with ExitStack() as stack:
        port = stack.enter_context(serving(monitoring.metrics_host, monitoring.metrics_port, bound))
        if kafka is not None:
            stack.enter_context(BrokerWatch(kafka, topic, group_id, reset))
        yield port
