"""Beam's local worker processes, forked from one process that has already imported and loaded everything.

Each worker of the multi-process DirectRunner is otherwise a new interpreter that imports Beam and our
transforms (0.6 s of CPU) and loads the NER model (1.5 to 2 s) before its first article: a fixed cost of
every worker, paid again by each, that a second worker cannot shorten. The fork server pays it once, on the
core left idle while the main process imports Beam and builds the graph, and forks each worker from itself:
a worker is ready in milliseconds, and the model's memory is shared copy-on-write.

    main process ──ForkServer.start()──► fork server: imports Beam's worker, the transforms, the models;
        │                                  gc.freeze(); one thread, no gRPC channel (fork-safe)
    FnApiRunner ── per worker: python -S worker_fork_client.py SOCKET ──► fork ──► sdk_worker_main.main()

The runner sees its usual subprocess workers: the client program stands in for each (exit code, kill; see
``worker_fork_client.py``). The server ends when the main process closes its control pipe or dies, and
kills any worker still running then. Linux only (forking a process with imported frameworks is unsafe on
macOS); elsewhere, or with another runner or running mode, workers start as Beam starts them.

Run as ``python -m pipelines.engine.worker_forks LISTEN_FD CONTROL_FD [--model] [--import=MODULE...]`` by
:meth:`ForkServer.start`.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib
import json
import os
import selectors
import shlex
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import structlog

from pipelines.options import DIRECT_RUNNERS

log = structlog.get_logger(__name__)

CLIENT = Path(__file__).with_name("worker_fork_client.py")
REQUEST_TIMEOUT_S = 10.0  # a client sends its request as soon as it connects
MAX_REQUEST_BYTES = 16 << 20  # an environment with the pipeline options: kilobytes
TARGET_ENV = "NEWSFLOW_FORK_TARGET"
"""In a request's environment: the ``module:function`` a worker runs instead of Beam's worker."""


def wanted(beam_args: list[str]) -> bool:
    """Whether these Beam arguments run multi-process DirectRunner workers on this machine (the backfill's
    default), read from the arguments alone so the server can start before Beam is imported."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--runner")
    parser.add_argument("--direct_running_mode", default="multi_processing")
    known, _ = parser.parse_known_args(beam_args)
    local = known.runner in DIRECT_RUNNERS
    return sys.platform.startswith("linux") and local and known.direct_running_mode == "multi_processing"


def runs_here(beam_args: list[str]) -> bool:
    """Whether these Beam arguments run the pipeline with the local runner on Linux (where forking works)."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--runner")
    known, _ = parser.parse_known_args(beam_args)
    return sys.platform.startswith("linux") and known.runner in DIRECT_RUNNERS


class ForkServer:
    """The main process's handle on the fork server: the worker command line, and the server's lifetime."""

    def __init__(self, process: subprocess.Popen, control: int, directory: str, path: str) -> None:
        self.process = process
        self._control = control
        self._directory = directory
        self.path = path

    @classmethod
    def start(cls, *, model: bool, modules: Sequence[str] = (), own_session: bool = False) -> ForkServer:
        """Start the server, importing ``modules`` (those whose DoFns the workers unpickle) and preloading
        the NER model if ``model``. The socket is bound here, before the
        server runs, so a worker can connect at once and waits in the backlog until the server is ready; it
        lives in a new directory only this user can enter (``mkdtemp``), so no other user can ask for forks.
        ``own_session``: the server and its workers leave the terminal's process group, so a Ctrl-C reaches
        only the main process (the stream, which finishes its batch on them before it stops)."""
        directory = tempfile.mkdtemp(prefix="newsflow-forks-")
        path = os.path.join(directory, "socket")
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(path)
        listener.listen(64)
        control_read, control_write = os.pipe()
        argv = [sys.executable, "-m", __name__, str(listener.fileno()), str(control_read)]
        process = subprocess.Popen(
            [*argv, *(["--model"] if model else []), *(f"--import={name}" for name in modules)],
            pass_fds=(listener.fileno(), control_read),
            stdin=subprocess.DEVNULL,
            cwd=os.getcwd(),
            start_new_session=own_session,
        )
        # Only the server holds the listener now: if it dies, workers are refused and start on their own.
        listener.close()
        os.close(control_read)
        log.debug("fork_server_started", pid=process.pid, model=model, modules=list(modules))
        return cls(process, control_write, directory, path)

    @property
    def command(self) -> str:
        """The shell command that stands in for one worker process (``exec``: the runner starts it with a
        shell, and what it kills must be the client itself)."""
        return "exec " + shlex.join([sys.executable, "-S", str(CLIENT), self.path])

    def fork(self, target: str, fds: Sequence[int]) -> socket.socket | None:
        """Ask for a worker that runs ``target`` (``module:function``, of a module the server imported) with
        ``fds`` as its standard streams. Returns the connection on which the server answers ``forked PID``
        and then ``exit CODE`` (closing it kills the worker), or None when no server takes the request."""
        from pipelines.engine.worker_fork_client import ask

        return ask(self.path, {**os.environ, TARGET_ENV: target}, fds)

    def close(self) -> None:
        """End the server (it kills workers still running) and remove its socket."""
        if self._control >= 0:
            os.close(self._control)
            self._control = -1
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self._directory, ignore_errors=True)

    def __enter__(self) -> ForkServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ---- the server process -----------------------------------------------------------------------------------


def preload(model: bool, modules: Sequence[str] = ()) -> None:
    """Import what every worker imports, and load what it loads, so that forked workers start with it.

    A failed model load is logged and left to the workers, which then load it themselves, as without a
    fork server. Nothing here may start a thread that must survive the fork, or open a gRPC channel."""
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # no BLAS thread pool, which a fork would not copy
    import apache_beam.runners.worker.sdk_worker_main  # noqa: F401 - the worker itself

    from pipelines.engine import worker_cache
    from transforms.boilerplate.language_model import identifier

    for name in modules:  # the pipeline's own modules, whose DoFns the workers unpickle
        importlib.import_module(name)
    identifier()
    if model:
        try:
            worker_cache.load()
        except Exception as exc:  # noqa: BLE001 - the workers' own load reports it again, as a failure
            log.warning("fork_server_model_failed", error=repr(exc))
    gc.collect()
    gc.freeze()  # everything loaded lives as long as the workers: off the cyclic GC, pages left unwritten


def _exit_code(status: int) -> int:
    """A wait status as a shell reports it: the exit code, or 128 + the signal that ended the process."""
    code = os.waitstatus_to_exitcode(status)
    return code if code >= 0 else 128 - code


def _read_request(conn: socket.socket) -> tuple[dict[str, str], list[int]]:
    conn.settimeout(REQUEST_TIMEOUT_S)
    header, fds, _, _ = socket.recv_fds(conn, 8, 3)
    try:
        if len(header) != 8 or len(fds) != 3:
            raise ValueError("incomplete fork request")
        (size,) = struct.unpack(">Q", header)
        if size > MAX_REQUEST_BYTES:
            raise ValueError(f"fork request of {size} bytes")
        payload = bytearray()
        while len(payload) < size:
            chunk = conn.recv(min(size - len(payload), 1 << 16))
            if not chunk:
                raise ValueError("fork request cut short")
            payload += chunk
        return json.loads(payload), fds
    except (OSError, ValueError):
        for fd in fds:
            os.close(fd)
        raise


def _run_worker(environment: dict[str, str], fds: list[int], inherited: list[int]) -> NoReturn:
    """In the forked child: become one Beam worker with the client's streams and environment."""
    code = 1
    try:
        for fd in inherited:  # the server's listener, control pipe, selector and other clients
            os.close(fd)
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        os.environ.clear()
        os.environ.update(environment)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        target = environment.get(TARGET_ENV)
        if target:
            module, _, function = target.partition(":")
            getattr(importlib.import_module(module), function)()
        else:
            from apache_beam.runners.worker import sdk_worker_main

            sdk_worker_main.main([])
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except KeyboardInterrupt:  # Ctrl-C to the process group: the main process reports it
        code = 130
    except BaseException:  # noqa: BLE001 - a worker's failure is its exit code; the runner reports it
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)  # not the server's exit path (no atexit, no GC of the shared heap)


@dataclass
class _Worker:
    pid: int
    client: socket.socket  # the stand-in the runner watches; closed when the runner killed it
    exited: int  # read end of a pipe only the worker holds: end of file when the worker has exited


class _Server:
    """The server's loop: one selector over the listener, the control pipe, each worker's client
    connection and exit pipe, so a request, a killed client and an exited worker are each handled at once."""

    def __init__(self, listener: socket.socket, control: int) -> None:
        self.listener = listener
        self.control = control
        self.selector = selectors.DefaultSelector()
        self.selector.register(listener, selectors.EVENT_READ, "request")
        self.selector.register(control, selectors.EVENT_READ, "control")
        self.workers: dict[int, _Worker] = {}

    def serve(self) -> None:
        """Fork a worker per request until the control pipe closes; then kill the workers still running."""
        try:
            while True:
                for key, _ in self.selector.select():
                    if key.data == "request":
                        self.fork()
                    elif key.data == "control":
                        if not os.read(self.control, 64):
                            return
                    elif key.data[0] == "client":
                        if not key.fileobj.recv(64):  # the runner killed the client: the worker goes too
                            self.selector.unregister(key.fileobj)
                            _kill(key.data[1])
                    else:
                        self.reap(self.workers[key.data[1]])
        finally:
            for worker in list(self.workers.values()):
                _kill(worker.pid)
                self.reap(worker)

    def fork(self) -> None:
        conn, _ = self.listener.accept()
        try:
            environment, fds = _read_request(conn)
        except (OSError, ValueError) as exc:
            log.warning("fork_request_refused", error=str(exc))
            conn.close()
            return
        exited, alive = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            ours = [self.listener.fileno(), self.control, self.selector.fileno(), conn.fileno(), exited]
            others = [fd for w in self.workers.values() for fd in (w.client.fileno(), w.exited)]
            _run_worker(environment, fds, ours + others)
        for fd in (*fds, alive):
            os.close(fd)
        worker = self.workers[pid] = _Worker(pid, conn, exited)
        self.selector.register(conn, selectors.EVENT_READ, ("client", pid))
        self.selector.register(exited, selectors.EVENT_READ, ("exited", pid))
        conn.settimeout(None)
        try:
            conn.sendall(f"forked {pid}\n".encode())
        except OSError:
            _kill(worker.pid)

    def reap(self, worker: _Worker) -> None:
        """Wait for the worker's exit and report it to its client."""
        _, status = os.waitpid(worker.pid, 0)
        del self.workers[worker.pid]
        for fd in (worker.client, worker.exited):
            with contextlib.suppress(KeyError):
                self.selector.unregister(fd)
        with contextlib.suppress(OSError):
            worker.client.sendall(f"exit {_exit_code(status)}\n".encode())
        worker.client.close()
        os.close(worker.exited)


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Fork server of local Beam workers (started by newsflow).")
    parser.add_argument("listen_fd", type=int)
    parser.add_argument("control_fd", type=int)
    parser.add_argument("--model", action="store_true", help="Preload the NER model.")
    parser.add_argument(
        "--import", dest="modules", action="append", default=[], help="A module to import before forking."
    )
    args = parser.parse_args(argv)
    listener = socket.socket(fileno=args.listen_fd)
    preload(args.model, args.modules)
    log.debug("fork_server_ready", pid=os.getpid(), cpu_s=round(time.process_time(), 2))
    try:
        _Server(listener, args.control_fd).serve()
    except KeyboardInterrupt:  # Ctrl-C to the process group: the workers are killed on the way out
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
