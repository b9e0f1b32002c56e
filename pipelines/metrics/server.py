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
from wsgiref.simple_server import WSGIRequestHandler

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


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` (0: a free port) and listening, for :func:`serving`. The commands
    bind it before anything loads, so that a port in use is told at once, and hand it to the server,
    so that no other process can take the port in between (a check that let it go again could not say
    so). A connection made before the server runs waits in the backlog and is answered then."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET  # "::" listens on IPv6 (and v4, where mapped)
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        # as http.server does: a restart is not refused for the connections of the last run in TIME_WAIT
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(_Server.request_queue_size)
    except (OSError, OverflowError) as exc:
        sock.close()
        raise BadUsage(f"--metrics-port {port} on {host}: {getattr(exc, 'strerror', None) or exc}") from None
    return sock


class _Server(ThreadingWSGIServer):
    """The WSGI server on a socket :func:`listen` bound already (instead of binding one of its own)."""

    def __init__(self, listener: socket.socket) -> None:
        self.address_family = listener.family
        super().__init__(listener.getsockname()[:2], _QuietHandler, bind_and_activate=False)
        self.socket.close()
        self.socket = listener
        # what HTTPServer.server_bind sets besides binding, which WSGIServer's environ is made of
        self.server_address = listener.getsockname()
        host, self.server_port = self.server_address[:2]
        self.server_name = socket.getfqdn(host)
        self.setup_environ()
        self.set_app(application())


@contextmanager
def serving(host: str, port: int, listener: socket.socket | None = None) -> Iterator[int]:
    """Serve on ``listener`` (:func:`listen`), else on ``host:port`` (0: a free port), on a daemon thread
    while in the block; yields the port. The socket is closed on the way out."""
    server = _Server(listener if listener is not None else listen(host, port))
    thread = threading.Thread(target=server.serve_forever, name="metrics-server", daemon=True)
    thread.start()
    bound = server.server_address[1]
    log.info("metrics_serving", url=f"http://{host}:{bound}/metrics", health=["/healthz", "/readyz"])
    try:
        yield bound
    finally:
        server.shutdown()
        server.server_close()
