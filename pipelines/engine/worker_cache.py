"""One NER model per worker process, loaded once and, when asked early, in the background.

Beam builds DoFns anew for every fused stage (and the local runners again for every run), and loading the
model costs seconds of CPU. A batch job asks for it (:func:`preload`) when a worker has finished its part of
the reading stage: the model then loads while the worker waits at the stage barriers (the other worker's
tail, the small keyed stages of learned boilerplate and dedup), so it is ready when entities start.

Once loaded, the model and everything imported so far are frozen out of the cyclic garbage collector
(``gc.freeze``): they live as long as the process, and the collection an exiting interpreter runs over
them took 0.4 s per worker, which the DirectRunner waits for one worker after the other.
"""

from __future__ import annotations

import gc
import threading
from concurrent.futures import Future

import structlog

log = structlog.get_logger(__name__)

_lock = threading.Lock()
_model: Future | None = None


class SharedExtractor:
    """The process's loaded ``EntityExtractor``, one caller at a time (spaCy's pipeline is not thread-safe,
    and the in-process runners run several bundles on threads)."""

    def __init__(self, extractor) -> None:
        self._extractor = extractor
        self._lock = threading.Lock()

    def extract(self, body: str, title: str | None = None, *, time_budget: float = 10.0) -> list:
        with self._lock:
            return self._extractor.extract(body, title, time_budget=time_budget)


def _load(future: Future) -> None:
    try:
        from transforms.entities import EntityExtractor

        shared = SharedExtractor(EntityExtractor().load())
        gc.collect()  # the load's own cyclic garbage, which a freeze would keep for good
        gc.freeze()
        future.set_result(shared)
    except BaseException as exc:  # noqa: BLE001 - re-raised in the caller of extractor()
        future.set_exception(exc)


def _start(background: bool) -> Future:
    global _model
    with _lock:
        if _model is None:
            _model = Future()
            if background:
                threading.Thread(target=_load, args=(_model,), name="ner-model-load", daemon=True).start()
            else:
                _load(_model)
        return _model


def preload() -> Future:
    """Start loading this process's model on a background thread, unless already started."""
    return _start(background=True)


def load() -> SharedExtractor:
    """Load this process's model now, on this thread: in the fork server, whose forks then inherit it."""
    return _start(background=False).result()


def extractor() -> SharedExtractor:
    """This process's model, waiting for a load under way (or starting one); a failed load raises here."""
    return preload().result()
