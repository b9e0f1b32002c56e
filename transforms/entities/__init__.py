"""Named entities of an article body: recognised, normalised within the document, linked and ranked.

``EntityExtractor`` is the one entry point; the Beam stage, ``newsflow entities`` and ``benchmarks/ner.py``
all call its ``extract``.
"""

from __future__ import annotations

import time
from pathlib import Path

import structlog

from transforms.budget import Deadline
from transforms.entities import salience
from transforms.entities.decode import GreedyDecoder
from transforms.entities.gazetteer import Gazetteer, gazetteer
from transforms.entities.link import entity_ids
from transforms.entities.normalize import normalize
from transforms.entities.recognize import MODEL_DIR, load_model, recognize
from transforms.records import Entity

log = structlog.get_logger(__name__)

__all__ = ["EntityExtractor"]


class EntityExtractor:
    """Loads models once (call from DoFn.setup); picklable before load()."""

    def __init__(self, model_dir: str | Path = MODEL_DIR) -> None:
        self.model_dir = Path(model_dir)
        self._nlp = None
        self._gaz: Gazetteer | None = None
        self._decoder: GreedyDecoder | None = None

    def __getstate__(self) -> dict:
        # A pickled extractor travels to workers without its models; each worker calls load().
        return {"model_dir": self.model_dir, "_nlp": None, "_gaz": None, "_decoder": None}

    def load(self) -> EntityExtractor:
        if self._nlp is None:
            t0 = time.perf_counter()
            self._nlp = load_model(self.model_dir)
            self._decoder = GreedyDecoder.of(self._nlp.get_pipe("ner"))
            self._gaz = gazetteer()
            log.info("entities.loaded", model=str(self.model_dir), seconds=round(time.perf_counter() - t0, 2))
        return self

    def extract(self, body: str, title: str | None = None, *, time_budget: float = 10.0) -> list[Entity]:
        """Entities of ``body`` by decreasing salience; mention offsets index ``body``; ``title`` only
        weighs in salience. Raises LimitExceeded when it takes more than ``time_budget`` seconds of CPU time."""
        if self._nlp is None or self._gaz is None:
            self.load()
        deadline = Deadline(time_budget, stage="entities")
        raw = recognize(self._nlp, body, deadline, self._decoder)
        clusters = normalize(body, raw, self._gaz)
        deadline.check("normalisation")
        lede = salience.lede_end(body)
        scores = [
            salience.raw_score(
                (m.start for m in c.mentions),
                len(body),
                lede,
                salience.title_hits(title, {m.text for m in c.mentions} | {c.name}),
            )
            for c in clusters
        ]
        entities = [
            Entity(
                name=c.name,
                type=c.type,
                mentions=c.mentions,
                count=len(c.mentions),
                first_offset=c.mentions[0].start,
                salience=s,
                ids=entity_ids(c.place if c.type in ("LOC", "MISC") else None),
                located_in=c.within.geonameid if c.within is not None and c.type == "LOC" else None,
            )
            for c, s in zip(clusters, salience.normalise(scores), strict=True)
        ]
        return sorted(entities, key=lambda e: (-e.salience, e.first_offset))
