"""A pool of long-lived worker processes that run one handler on tasks sent to them, for the local stream.

The local stream's micro-batches run Beam in this process (``local_stream`` says why), so its per-article
work (parsing, cleaning, NER) would get one core. The pool gives it N: each worker is forked from the
preloaded fork server (:mod:`pipelines.engine.worker_forks`, the backfill's), so it starts in milliseconds
with the NER model already in memory, and lives as long as the stream, not one batch. Per task only the
task and its result cross a socket (pickled frames), nothing is set up again.

    stream process                                      worker processes (forked, model loaded)
    submit(priority, task) ─► priority queue ─► driver thread per worker ─► socket ─► handler(task)
                        Future ◄───────────────────────── result ◄─────────────────────┘

Each driver thread keeps its worker :data:`DEPTH` tasks ahead: the next task is already in the worker when
it answers one (a worker reads its tasks as they come, on a thread of its own), so it never waits for the
stream process to take its result and send it another (a driver thread waits for the stream's GIL, up to
its switch interval, 5 ms, behind a busy thread). Tasks are taken from the queue only that far ahead, so
the workers still pull work and stay evenly loaded whatever each task costs. A worker that dies (a segfault, the
OOM killer, a kill) is replaced and counted in :attr:`WorkerPool.restarts`; its task goes back to the queue,
up to :data:`MAX_DEATHS` times (the handler's own crash journal turns a poison pill into a dead letter
before that). A worker that holds a task and makes no progress at all (SIGSTOPped, deadlocked, blocked) is
killed after :data:`STALL_SECONDS` and handled as a death (:class:`_StallWatch`): without it, the batch
waited for its answer for ever. Workers ignore SIGINT and SIGTERM: the stream decides when to stop, and they
end when it closes their sockets. Without a fork server (not Linux), a worker is a new interpreter running
:func:`main`.
"""

from __future__ import annotations

import collections
import contextlib
import importlib
import itertools
import os
import pickle
import queue
import signal
import socket
import struct
import subprocess
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

import structlog

from pipelines import logs
from pipelines.engine.worker_forks import ForkServer

log = structlog.get_logger(__name__)

ENTRY = f"{__name__}:serve_stdin"
"""What a forked worker runs: :func:`serve_stdin`, on the socket the pool passed as its standard input."""
MAX_DEATHS = 5
"""Worker deaths one task may cause before it fails (and with it the batch, which is re-read)."""
DEPTH = 2
"""Tasks sent to a worker and not yet answered, at most: the one it runs and the next, waiting in it."""
STALL_SECONDS = 30.0
"""Seconds a worker may hold a task while the thread that runs it uses no CPU at all before it counts as
hung and is killed. A task's work is CPU-bound (parsing, cleaning, NER: even on a loaded machine the
scheduler gives a runnable thread some CPU every second); the longest a working worker waits is the crash
journal's SQLite lock, held for milliseconds by another worker, or by a hung one, which is killed first."""
STALL_SAMPLE_SECONDS = 1.0
"""How often the CPU of busy workers is read. The stall is counted in samples, not by the clock, so a
stream process that was itself stopped (its workers answered meanwhile, unread) kills no one on resuming."""
_HEADER = struct.Struct(">I")


class WorkerDied(RuntimeError):
    """The worker process ended while it had a task."""


class TaskFailed(RuntimeError):
    """The handler raised (a bug: the chain's stages turn an article's failures into dead letters)."""


# ---- frames -----------------------------------------------------------------------------------------------


def send(sock: socket.socket, obj: Any) -> None:
    payload = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    sock.sendall(_HEADER.pack(len(payload)) + payload)


def receive(stream: Any) -> Any:
    """The next frame from a buffered reader of the socket; EOFError when the other end closed it."""
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        raise EOFError
    (size,) = _HEADER.unpack(header)
    payload = stream.read(size)
    if len(payload) < size:
        raise EOFError
    return pickle.loads(payload)


# ---- the worker side --------------------------------------------------------------------------------------


def serve(sock: socket.socket) -> None:
    """Build the handler the first frame names (``("module:Class", setup)``), answer ``ready`` (or the
    error), then answer each task with ``("ok", result)`` or ``("error", text)`` until the pool closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    logs.configure_from_env()
    stream = sock.makefile("rb")
    name, setup = receive(stream)
    module, _, attribute = name.partition(":")
    try:
        handler = getattr(importlib.import_module(module), attribute)(setup)
    except Exception as exc:  # noqa: BLE001 - reported to the pool, which fails the stream's start
        send(sock, ("error", f"{type(exc).__name__}: {exc}"))
        return
    send(sock, ("ready", os.getpid()))
    tasks: queue.SimpleQueue = queue.SimpleQueue()
    threading.Thread(target=_read_tasks, args=(stream, tasks), name="tasks", daemon=True).start()
    while (task := tasks.get()) is not _END:
        try:
            answer = ("ok", handler(task))
        except Exception as exc:  # noqa: BLE001 - one task's bug fails that task, not the worker
            answer = ("error", f"{type(exc).__name__}: {exc}")
        send(sock, answer)


_END = object()


def _read_tasks(stream: Any, tasks: queue.SimpleQueue) -> None:
    """Take each task off the socket as it comes (the pool sends the next one while this one runs), then
    :data:`_END` once the pool closes it."""
    try:
        while True:
            tasks.put(receive(stream))
    except (EOFError, OSError):
        tasks.put(_END)


def serve_stdin() -> None:
    """A worker's entry point: its standard input is its socket to the pool."""
    serve(socket.socket(fileno=os.dup(0)))


def main() -> int:
    """A worker as a new interpreter (no fork server): ``python -m pipelines.engine.worker_pool``."""
    serve_stdin()
    return 0


# ---- the pool side ----------------------------------------------------------------------------------------


@dataclass
class _Process:
    """One worker: our end of its socket, and how to learn its exit (the fork server's answer or Popen)."""

    sock: socket.socket
    stream: Any
    pid: int
    server: socket.socket | None = None
    lines: Any = None
    popen: subprocess.Popen | None = None

    def send(self, task: Any) -> None:
        try:
            send(self.sock, task)
        except OSError:
            raise WorkerDied(f"worker {self.pid} ended") from None

    def receive(self) -> tuple[str, Any]:
        """The answer to the oldest task sent and not yet answered."""
        try:
            return receive(self.stream)
        except (OSError, EOFError):
            raise WorkerDied(f"worker {self.pid} ended") from None

    def kill(self) -> None:
        """End the worker (hung): the fork server, its parent, kills it when our connection to the server
        is shut for writing (no pid is signalled that may have been reused), and still sends its exit code;
        Popen kills its own child."""
        if self.popen is not None:
            self.popen.kill()
        elif self.server is not None:
            self.server.shutdown(socket.SHUT_WR)

    def exit_code(self) -> int | None:
        """Closes our side (the worker's end of file) and waits for its exit."""
        self.stream.close()
        self.sock.close()
        if self.popen is not None:
            return self.popen.wait()
        assert self.server is not None
        words = self.lines.readline().split()
        self.server.close()
        return int(words[1]) if words[:1] == ["exit"] else None


def cpu_ticks(pid: int) -> int | None:
    """Clock ticks of CPU used by the main thread of process ``pid`` (where a worker runs its tasks: its
    other threads only read tasks and watch budgets), or None when unknown (gone, or no ``/proc``)."""
    try:
        with open(f"/proc/{pid}/task/{pid}/stat", "rb") as stat:
            fields = stat.read().rpartition(b")")[2].split()  # the name, in brackets, may hold spaces
        return int(fields[11]) + int(fields[12])  # utime and stime, fields 14 and 15 of stat(5)
    except (OSError, ValueError, IndexError):
        return None


class _StallWatch:
    """Kills the workers that hold a task (a driver waits for its answer) and whose main thread has used no
    CPU for ``seconds``: a SIGSTOPped or deadlocked worker never answers, and neither the worker's CPU
    watchdog (no CPU is spent) nor the pool (it waits on the socket) would ever end the wait. The worker's
    death then takes the usual path (:meth:`WorkerPool._died`): replaced, counted, its task run again, and
    the crash journal's mark makes an input that hangs every worker a dead letter."""

    def __init__(self, seconds: float, sample: float = STALL_SAMPLE_SECONDS) -> None:
        self.sample = sample
        self.limit = max(1, round(seconds / sample))  # samples in a row without progress
        self._busy: dict[int, tuple[_Process, int | None, int]] = {}  # id -> (process, ticks, still)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="worker-stall-watch", daemon=True)
        self._thread.start()

    def busy(self, process: _Process) -> None:
        """``process`` has a task and its driver now waits for an answer (called per answer: no ``/proc``
        read here, the watch's next sample takes the first reading)."""
        with self._lock:
            self._busy[id(process)] = (process, None, 0)

    def idle(self, process: _Process) -> None:
        with self._lock:
            self._busy.pop(id(process), None)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.sample):
            with self._lock:
                for key, (process, ticks, still) in list(self._busy.items()):
                    now = cpu_ticks(process.pid)
                    still = still + 1 if now is not None and now == ticks else 0
                    self._busy[key] = (process, now, still)
                    if still >= self.limit:
                        del self._busy[key]
                        log.warning(
                            "worker_hung",
                            pid=process.pid,
                            seconds_without_cpu=round(still * self.sample, 1),
                            note="killed; its task goes to a new worker",
                        )
                        with contextlib.suppress(OSError):  # it ended meanwhile: its driver sees that
                            process.kill()


@dataclass(order=True)
class _Task:
    priority: int
    order: int
    task: Any = None
    future: Future | None = None
    deaths: int = 0
    started: bool = False  # its Future is running: sent to a worker at least once


class InlinePool:
    """The pool's interface with no worker process: each task runs here, at once, as it is submitted (one
    worker, the stream process itself). ``--workers 1`` runs the chain the way N workers do, with the same
    handler, so one engine serves both; it pays no process, no pickling and no Beam stage per article step.
    A handler's exception fails the task's Future as a worker's would."""

    size = 1
    restarts = 0

    def __init__(self, handler: str, setup: Any) -> None:
        module, _, attribute = handler.partition(":")
        self.handler = getattr(importlib.import_module(module), attribute)(setup)

    def submit(self, priority: int, task: Any) -> Future:
        future: Future = Future()
        try:
            future.set_result(self.handler(task))
        except Exception as exc:  # noqa: BLE001 - as a worker answers a handler's bug
            future.set_exception(TaskFailed(f"{type(exc).__name__}: {exc}"))
        return future

    def cancel_queued(self) -> int:
        return 0  # nothing is ever queued

    def close(self) -> None:
        pass


class WorkerPool:
    """``size`` workers, each running ``handler(setup)`` (``module:Class``) on the tasks submitted."""

    def __init__(
        self,
        size: int,
        handler: str,
        setup: Any,
        forks: ForkServer | None = None,
        *,
        on_restart: Callable[[int], None] | None = None,
        stall_seconds: float = STALL_SECONDS,
    ) -> None:
        self.size = size
        self.handler = handler
        self.setup = setup
        self.forks = forks
        self.on_restart = on_restart
        self.restarts = 0
        """Workers replaced after dying: the count behind a worker-restarts metric."""
        self._queue: queue.PriorityQueue[_Task] = queue.PriorityQueue()
        self._order = itertools.count()
        self._lock = threading.Lock()
        processes = [self._start() for _ in range(size)]
        self._stalls = _StallWatch(stall_seconds)
        self._threads = [
            threading.Thread(target=self._drive, args=(p,), name=f"worker-pool-{i}", daemon=True)
            for i, p in enumerate(processes)
        ]
        for thread in self._threads:
            thread.start()
        log.info(
            "worker_pool_started", workers=size, pids=[p.pid for p in processes], forked=forks is not None
        )

    def submit(self, priority: int, task: Any) -> Future:
        """Run ``task`` on the next free worker, lowest ``priority`` first; its result comes in the Future."""
        future: Future = Future()
        self._queue.put(_Task(priority, next(self._order), task, future))
        return future

    def cancel_queued(self) -> int:
        """Cancel the tasks no worker has started (those of a batch that failed); how many there were. One
        queued again after its worker died has started: it stays queued, as its Future may be waited on."""
        cancelled = 0
        started = []
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item.future is not None and item.future.cancel():
                cancelled += 1
            elif item.future is not None and item.started:
                started.append(item)
        for item in started:
            self._queue.put(item)
        return cancelled

    def close(self) -> None:
        """Cancel the tasks not started, stop the drivers after the ones running; the workers end as their
        sockets close."""
        self.cancel_queued()
        for _ in self._threads:
            self._queue.put(_Task(sys.maxsize, next(self._order)))
        for thread in self._threads:
            thread.join()
        self._stalls.close()

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _drive(self, process: _Process | None) -> None:
        sent: collections.deque[_Task] = collections.deque()  # in the worker, oldest (the one it runs) first
        closing = False
        while True:
            while not closing and len(sent) < DEPTH:
                item = self._next(wait=not sent)
                if item is None:
                    break
                if item.future is None:  # close(): end after the tasks already sent
                    closing = True
                    break
                try:
                    if process is None:
                        process = self._start()
                        log.info("worker_replaced", pid=process.pid, restarts=self.restarts)
                    process.send(item.task)
                except WorkerDied:
                    self._died(process, [*sent, item])
                    process, sent = None, collections.deque()
                    continue
                except Exception as exc:  # noqa: BLE001 - no worker could start: this task fails, not the pool
                    item.future.set_exception(exc)
                    continue
                sent.append(item)
            if not sent:
                if closing:
                    if process is not None:
                        process.exit_code()
                    return
                continue
            self._stalls.busy(process)
            try:
                status, value = process.receive()
            except WorkerDied:
                self._stalls.idle(process)
                self._died(process, list(sent))
                process, sent = None, collections.deque()
                continue
            self._stalls.idle(process)
            item = sent.popleft()
            if status == "ok":
                item.future.set_result(value)
            else:
                item.future.set_exception(TaskFailed(value))

    def _next(self, wait: bool) -> _Task | None:
        """The next task to send (the close marker included), started; None when none is queued and not
        ``wait``."""
        while True:
            try:
                item = self._queue.get() if wait else self._queue.get_nowait()
            except queue.Empty:
                return None
            if item.future is None or item.started or item.future.set_running_or_notify_cancel():
                item.started = True
                return item
            # cancelled while queued: the next

    def _died(self, dead: _Process | None, sent: list[_Task]) -> None:
        """Count the death and queue its tasks again: the oldest sent is the one it died on (failed after
        MAX_DEATHS); the others were waiting in it, and go back as they were."""
        code = dead.exit_code() if dead is not None else None
        with self._lock:
            self.restarts += 1
            restarts = self.restarts
        item, waiting = sent[0], sent[1:]
        item.deaths += 1
        log.warning(
            "worker_died",
            pid=dead.pid if dead is not None else None,
            exit_code=code,
            restarts=restarts,
            task_deaths=item.deaths,
        )
        if self.on_restart is not None:
            self.on_restart(restarts)
        for other in waiting:
            self._queue.put(other)
        if item.deaths >= MAX_DEATHS:
            item.future.set_exception(WorkerDied(f"{item.deaths} workers died on one task"))
        else:
            self._queue.put(item)

    def _start(self) -> _Process:
        """A new worker (forked if the server takes it), set up and ready for tasks."""
        ours, theirs = socket.socketpair()
        try:
            server, lines = self._fork(theirs)
            popen = None
            if server is None:
                popen = subprocess.Popen(
                    [sys.executable, "-m", __name__], stdin=theirs, stdout=sys.stderr, cwd=os.getcwd()
                )
        finally:
            theirs.close()
        stream = ours.makefile("rb")
        process = _Process(ours, stream, popen.pid if popen else -1, server, lines, popen)
        send(ours, (self.handler, self.setup))
        try:
            status, value = receive(stream)
        except EOFError:
            raise WorkerDied(f"a worker ended while starting (exit code {process.exit_code()})") from None
        if status != "ready":
            process.exit_code()
            raise TaskFailed(f"a worker could not start: {value}")
        process.pid = value
        return process

    def _fork(self, theirs: socket.socket) -> tuple[socket.socket | None, Any]:
        """Ask the fork server for a worker on ``theirs``: its connection and line reader, or (None, None)."""
        server = self.forks.fork(ENTRY, (theirs.fileno(), 2, 2)) if self.forks is not None else None
        if server is None:
            return None, None
        lines = server.makefile("r", encoding="ascii")
        try:
            forked = lines.readline().split()[:1] == ["forked"]
        except OSError:
            forked = False
        if not forked:  # the server ended before forking
            lines.close()
            server.close()
            return None, None
        return server, lines


if __name__ == "__main__":
    sys.exit(main())
