"""The metrics HTTP server: ``/metrics`` (Prometheus text format), ``/healthz`` and ``/readyz``.

``/healthz`` answers 200 while the process serves at all (a liveness probe: a hung or dead process does
not answer). ``/readyz`` answers 200 once the brokers answer and the NER model is loaded (where the command
needs them), 503 otherwise; both give the checks as JSON. It binds 127.0.0.1 unless told otherwise: the
metrics name topics and partitions, which a host need not show to its whole network.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

import structlog
from prometheus_client import make_wsgi_app
from prometheus_client.exposition import ThreadingWSGIServer

from pipelines.failures import BadUsage
from pipelines.metrics.exporter import PROCESS, REGISTRY, broker_reachable

log = structlog.get_logger(__name__)


def readiness() -> dict[str, Any]:
    """Each check that applies to this command, true when passed."""
    checks: dict[str, Any] = {}
    if PROCESS.broker_required:
        checks["broker_reachable"] = broker_reachable()
    if PROCESS.model_required:
        model = PROCESS.model
        checks["model_loaded"] = bool(model and model.done() and model.exception() is None)
    return checks


def _json(start_response, status: str, body: dict[str, Any]) -> list[bytes]:
    data = json.dumps(body).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


def application():
    """The WSGI app: health paths here, everything else Prometheus's exposition (``/metrics``)."""
    metrics = make_wsgi_app(REGISTRY)

    def app(environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path == "/healthz":
            return _json(start_response, "200 OK", {"alive": True})
        if path == "/readyz":
            checks = readiness()
            ready = all(checks.values())
            status = "200 OK" if ready else "503 Service Unavailable"
            return _json(start_response, status, {"ready": ready, **checks})
        if path == "/metrics":
            return metrics(environ, start_response)
        return _json(start_response, "404 Not Found", {"paths": ["/metrics", "/healthz", "/readyz"]})

    return app


class _QuietHandler(WSGIRequestHandler):
    """Scrapes every few seconds: their access lines at debug level only."""

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("metrics_request", line=format % args)


@contextmanager
def serving(host: str, port: int) -> Iterator[int]:
    """Serve on ``host:port`` (0: a free port) on a daemon thread while in the block; yields the port."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET  # "::" listens on IPv6 (and v4, where mapped)
    server_class = type("MetricsServer", (ThreadingWSGIServer,), {"address_family": family})
    try:
        server = make_server(host, port, application(), server_class, handler_class=_QuietHandler)
    except (OSError, OverflowError) as exc:
        raise BadUsage(f"--metrics-port {port} on {host}: {getattr(exc, 'strerror', None) or exc}") from None
    thread = threading.Thread(target=server.serve_forever, name="metrics-server", daemon=True)
    thread.start()
    bound = server.server_address[1]
    log.info("metrics_serving", url=f"http://{host}:{bound}/metrics", health=["/healthz", "/readyz"])
    try:
        yield bound
    finally:
        server.shutdown()
        server.server_close()
