"""A handler for the worker pool's tests (``tests/integration/test_worker_pool.py``), in a module the
workers can import by name."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path


class Doubler:
    """A handler: doubles numbers; ``"die"`` kills its worker every time, ``"die once"`` the first time
    (a marker file in the setup's directory says it already did). ``"hang once"`` blocks for good the first
    time, using no CPU (a deadlock); ``"spin once"`` writes its pid to ``spinning`` and computes for 10
    minutes the first time (to be SIGSTOPped); ``("spin", s)`` computes for ``s`` seconds of CPU."""

    def __init__(self, directory: str) -> None:
        self.directory = Path(directory)
        self.marker = self.directory / "died"

    def __call__(self, task):
        if task == "die" or (task == "die once" and not self.marker.exists()):
            self.marker.touch()
            os.kill(os.getpid(), signal.SIGKILL)
        if task in ("hang once", "spin once") and not self.marker.exists():
            self.marker.touch()
            (self.directory / "working").write_text(str(os.getpid()))
            if task == "hang once":
                threading.Event().wait()
            _spin(600)
        if isinstance(task, tuple):
            _spin(task[1])
            return ("ok", os.getpid())
        return ("ok", os.getpid()) if isinstance(task, str) else (task * 2, os.getpid())


def _spin(cpu_seconds: float) -> None:
    """Busy for ``cpu_seconds`` of this thread's CPU time."""
    end = time.thread_time() + cpu_seconds
    while time.thread_time() < end:
        pass
