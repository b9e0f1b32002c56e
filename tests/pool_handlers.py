"""A handler for the worker pool's tests (``tests/integration/test_worker_pool.py``), in a module the
workers can import by name."""

from __future__ import annotations

import os
import signal
from pathlib import Path


class Doubler:
    """A handler: doubles numbers; ``"die"`` kills its worker every time, ``"die once"`` the first time
    (a marker file in the setup's directory says it already did)."""

    def __init__(self, directory: str) -> None:
        self.marker = Path(directory) / "died"

    def __call__(self, task):
        if task == "die" or (task == "die once" and not self.marker.exists()):
            self.marker.touch()
            os.kill(os.getpid(), signal.SIGKILL)
        return ("ok", os.getpid()) if task == "die once" else (task * 2, os.getpid())
