"""A CPU-time watchdog that stops a document's work where it is, not after it.

:class:`transforms.budget.Deadline` is checked between the steps of cleaning and NER, so a step that runs
long (trafilatura's Python passes over a page of 200k elements: 35 CPU-s) holds its partition, and every
other one in the batch, until it ends. This module stops it: one daemon thread watches the CPU clock of
each thread inside :func:`cpu_limit`, and when one passes its limit it raises :class:`Expired` in that
thread (``PyThreadState_SetAsyncExc``), which Python delivers at the next bytecode boundary.

What it cannot stop is a single long call into C (lxml's parser, one regular-expression search): Python
only sees the exception when that call returns. Those calls are bounded before they are made instead: the
HTML pre-scan (:mod:`transforms.boilerplate.prescan`), the message-size limit, and linear regexes (the
ReDoS guard in the tests).

CPU time, not the wall clock, like the Deadline: the same document gets the same verdict on a loaded
machine as on an idle one. ``Expired`` derives from BaseException so that a library's ``except Exception``
cannot swallow it.
"""

from __future__ import annotations

import ctypes
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

POLL_SECONDS = 0.05
REFIRE_SECONDS = 0.25
"""CPU seconds after which Expired is raised again if the thread is still inside the block: code that
swallows exceptions (a bare ``except``, a callback from C whose errors are only printed) gets another one."""


class Expired(BaseException):
    """Raised in a thread whose CPU limit passed (caught by :func:`cpu_limit`'s caller, see ``run_step``)."""


@dataclass(eq=False)
class _Watch:
    thread_id: int
    clock: int
    limit: float  # on the thread's CPU clock
    done: bool = False
    fired_at: float | None = None  # the thread's CPU time when Expired was last raised in it

    @property
    def fired(self) -> bool:
        return self.fired_at is not None


class _Monitor:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._watches: set[_Watch] = set()
        self._thread: threading.Thread | None = None

    def add(self, watch: _Watch) -> None:
        with self._lock:
            self._watches.add(watch)
            if self._thread is None or not self._thread.is_alive():  # (again after a fork)
                self._thread = threading.Thread(target=self._run, name="cpu-watchdog", daemon=True)
                self._thread.start()
            self._wake.notify()

    def remove(self, watch: _Watch) -> bool:
        """Stops watching; True if the limit passed (a still-pending Expired is withdrawn)."""
        with self._lock:
            watch.done = True
            self._watches.discard(watch)
            if watch.fired:
                _raise_in(watch.thread_id, None)
            return watch.fired

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._watches:
                    self._wake.wait()
                for watch in list(self._watches):
                    try:
                        used = time.clock_gettime(watch.clock)
                    except OSError:  # the thread is gone
                        self._watches.discard(watch)
                        continue
                    due = watch.fired_at is None or used - watch.fired_at >= REFIRE_SECONDS
                    if used > watch.limit and not watch.done and due:
                        watch.fired_at = used
                        _raise_in(watch.thread_id, Expired)
            time.sleep(POLL_SECONDS)


def _raise_in(thread_id: int, exc: type[BaseException] | None) -> None:
    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread_id), ctypes.py_object(exc) if exc is not None else ctypes.c_void_p(0)
    )


MONITOR = _Monitor()


@contextmanager
def cpu_limit(seconds: float) -> Iterator[None]:
    """Run the block with at most ``seconds`` of this thread's CPU time; :class:`Expired` when it passes.

    Whatever happens, no Expired is left pending once the block is left: the caller sees it raised from
    the block or not at all.
    """
    thread_id = threading.get_ident()
    clock = time.pthread_getcpuclockid(thread_id)
    watch = _Watch(thread_id, clock, time.clock_gettime(clock) + seconds)
    MONITOR.add(watch)
    expired = False
    try:
        yield
    except Expired:
        expired = True
    finally:
        while True:  # an Expired delivered while stopping the watch is caught here, then withdrawn
            try:
                expired = MONITOR.remove(watch) or expired
                break
            except Expired:
                expired = True
    if expired:
        raise Expired
