"""The transform chain shared by ``stream``, ``backfill`` and ``process``.

    KafkaRecord ─► Parse+Normalise ─► Clean ─► Learned boilerplate ─► Dedup ─► Entities ─► articles
                        │               │                               └──────────────► duplicates
                        └───────────────┴──────────────── (any stage) ──────────────────► dlq

Each stage is a pure step (a small callable class) wrapped by :class:`Stage`, which turns failures into
dead letters: a :class:`PipelineError` goes to the DLQ at once (it is deterministic); any other exception
is retried ``max_attempts`` times and then goes to the DLQ, so one poison pill never blocks a partition.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator
from typing import Any

import apache_beam as beam
import structlog
from apache_beam import pvalue
from apache_beam.metrics import Metrics

from pipelines.options import Processing
from transforms.deadletter import DLQ_TAG, dead_letter
from transforms.errors import CrashLoop, PipelineError
from transforms.kafka_io import KafkaRecord
from transforms.parse import Parsed, envelope_json, parse
from transforms.records import Article, SourcePosition, stable_id, to_dict
from transforms.settings import Limits

# The cleaning, dedup and NER stages import their (heavy) libraries where they run, so commands that only
# move bytes (consume, produce, the pass-through baseline) start fast.

log = structlog.get_logger(__name__)


class ParseStep:
    def __init__(self, limits: Limits) -> None:
        self.limits = limits

    def __call__(self, record: KafkaRecord) -> Parsed:
        return parse(record.value, record.position(), max_bytes=self.limits.max_message_bytes)


class CleanStep:
    def __init__(self, limits: Limits) -> None:
        self.limits = limits

    def __call__(self, parsed: Parsed) -> Article:
        from transforms.article import build_article
        from transforms.boilerplate import count_removed

        article = build_article(parsed, self.limits)
        count_removed(article.boilerplate)
        return article


class PassThroughStep:
    """Baseline for benchmarks: the envelope's text as the body, nothing cleaned."""

    def __call__(self, parsed: Parsed) -> Article:
        body = parsed.raw.text or parsed.raw.html or ""
        return Article(
            id=stable_id(parsed.raw.url, body), body=body, url=parsed.raw.url, source_position=parsed.position
        )


class EntityStep:
    """Loads the NER models once per worker (``setup``), not per bundle; ``shared`` takes the process's one
    model (:mod:`pipelines.engine.worker_cache`), reused across the stages and runs that build new DoFns (the
    local stream's micro-batches, the backfill's entity stage)."""

    def __init__(self, limits: Limits, *, shared: bool = False) -> None:
        self.limits = limits
        self.shared = shared
        self.extractor = None

    def setup(self) -> None:
        if self.shared:
            from pipelines.engine import worker_cache

            self.extractor = worker_cache.extractor()
            return
        from transforms.entities import EntityExtractor

        self.extractor = EntityExtractor().load()

    def __call__(self, article: Article) -> Article:
        entities = self.extractor.extract(
            article.body, article.title, time_budget=self.limits.doc_time_budget
        )
        Metrics.counter("newsflow", "entities.found").inc(len(entities))
        return dataclasses.replace(article, entities=entities)


def _record_position(record: KafkaRecord) -> SourcePosition:
    return record.position()


def _record_original(record: KafkaRecord) -> bytes:
    return record.value or b""


def _parsed_position(parsed: Parsed) -> SourcePosition | None:
    return parsed.position


def _article_position(article: Article) -> SourcePosition | None:
    return article.source_position


def _parsed_original(parsed: Parsed) -> bytes:
    """The input again as a JSON envelope, for dead letters of stages after parsing."""
    return envelope_json(parsed.raw)


def _article_original(article: Article) -> bytes:
    """A failed article as JSON, for dead letters of the stages after cleaning."""
    return json.dumps(to_dict(article), default=str, ensure_ascii=False).encode("utf-8")


class Stage(beam.DoFn):
    """Apply one pure step; send failures to the DLQ output with their stage and reason."""

    def __init__(
        self,
        step: Callable[[Any], Any],
        stage: str,
        original: Callable[[Any], bytes],
        position: Callable[[Any], SourcePosition | None],
        max_attempts: int,
        journal_dir: str | None = None,
    ) -> None:
        self.step = step
        self.stage = stage
        self.original = original
        self.position = position
        self.max_attempts = max_attempts
        self.journal_dir = journal_dir

    def setup(self) -> None:
        if hasattr(self.step, "setup"):
            self.step.setup()
        self._ok = Metrics.counter("newsflow", f"{self.stage}.ok")
        self.journal = None
        if self.journal_dir:
            from transforms.crash_journal import CrashJournal

            self.journal = CrashJournal(self.journal_dir)

    def teardown(self) -> None:
        if self.journal is not None:
            self.journal.close()

    def process(self, element: Any) -> Iterator:
        pos = self.position(element) if self.journal is not None else None
        key = f"{self.stage}:{pos.topic}:{pos.partition}:{pos.offset}" if pos else None
        deaths = self.journal.begin(key) if key else 0
        if key and self.journal.should_skip(deaths):
            error = CrashLoop(deaths, self.stage)
            result, letter = None, dead_letter(self.original(element), error, pos, attempts=deaths)
        else:
            result, letter = run_step(
                self.step, element, self.stage, self.original, self.position, self.max_attempts
            )
        if key:
            self.journal.end(key)
        if letter is not None:
            yield pvalue.TaggedOutput(DLQ_TAG, letter)
        else:
            self._ok.inc()
            yield result


def run_step(
    step: Callable[[Any], Any],
    element: Any,
    stage: str,
    original: Callable[[Any], bytes],
    position: Callable[[Any], SourcePosition | None],
    max_attempts: int,
) -> tuple[Any, Any]:
    """(result, None) or (None, dead letter): the one error policy for Beam and ``newsflow process``."""
    last: Exception | None = None
    for attempt in range(1, max_attempts + 1):
        try:
            return step(element), None
        except PipelineError as exc:
            return None, dead_letter(original(element), exc, position(element), stage=stage, attempts=attempt)
        except Exception as exc:  # noqa: BLE001 - a bug or fault in one article must not stop the stream
            last = exc
            log.warning("stage_retry", stage=stage, attempt=attempt, error=type(exc).__name__)
    assert last is not None
    return None, dead_letter(original(element), last, position(element), stage=stage, attempts=max_attempts)


def entity_stage(limits: Limits, *, shared: bool, journal: str | None = None) -> Stage:
    """The entities stage (NER on each article), as the chain runs it and as a backfill runs it apart."""
    step = EntityStep(limits, shared=shared)
    return Stage(step, "entities", _article_original, _article_position, limits.max_attempts, journal)


def _stage(label: str, pcoll: beam.PCollection, stage: Stage) -> tuple[beam.PCollection, beam.PCollection]:
    outputs = pcoll | label >> beam.ParDo(stage).with_outputs(DLQ_TAG, main="ok")
    return outputs.ok, outputs[DLQ_TAG]


class ArticleChain(beam.PTransform):
    """PCollection[KafkaRecord] -> {"articles", "duplicates", "dlq"}.

    ``mode``: ``"stream"`` (keyed state, first arrival survives), ``"batch"`` (stable order) or ``"local"``
    (the local stream's micro-batches: stream semantics, with state that outlives each run: dedup in
    ``processing.state_dir``, which is then required, learned boilerplate and the NER model in this process).
    """

    def __init__(self, limits: Limits, processing: Processing, *, mode: str = "stream") -> None:
        super().__init__()
        if mode not in ("stream", "batch", "local"):
            raise ValueError("mode must be 'stream', 'batch' or 'local'")
        if mode == "local" and not processing.state_dir:
            raise ValueError("mode 'local' keeps the dedup index in processing.state_dir; set one")
        self.limits = limits
        self.processing = processing
        self.mode = mode

    def expand(self, records: beam.PCollection) -> dict[str, beam.PCollection]:
        limits, proc, attempts = self.limits, self.processing, self.limits.max_attempts
        local = self.mode == "local"
        # The local stream restarts on this machine, so its stages journal inputs in progress there: one that
        # keeps killing the process goes to the DLQ (see transforms.crash_journal).
        journal = proc.state_dir if local else None
        parsed, dlq_parse = _stage(
            "Parse",
            records,
            Stage(ParseStep(limits), "parse", _record_original, _record_position, attempts, journal),
        )
        clean_step = PassThroughStep() if proc.passthrough else CleanStep(limits)
        articles, dlq_clean = _stage(
            "Clean", parsed, Stage(clean_step, "clean", _parsed_original, _parsed_position, attempts, journal)
        )
        dead = [dlq_parse, dlq_clean]
        if proc.passthrough:
            duplicates = records.pipeline | "NoDuplicates" >> beam.Create([])
            return {
                "articles": articles,
                "duplicates": duplicates,
                "dlq": dead | "FlattenDLQ" >> beam.Flatten(),
            }
        from transforms.boilerplate.learned import RemoveLearnedBoilerplate
        from transforms.dedup import Deduplicate

        if proc.learn_boilerplate:
            articles = articles | "LearnedBoilerplate" >> RemoveLearnedBoilerplate(mode=self.mode)
        dedup = articles | "Dedup" >> Deduplicate(
            dedup_settings(proc), mode="stream" if local else self.mode, state_dir=proc.state_dir
        )
        articles = dedup.articles
        if proc.entities:
            articles, dlq_entities = _stage(
                "Entities", articles, entity_stage(limits, shared=local, journal=journal)
            )
            dead.append(dlq_entities)
        return {
            "articles": articles,
            "duplicates": dedup.duplicates,
            "dlq": dead | "FlattenDLQ" >> beam.Flatten(),
        }


def dedup_settings(processing: Processing):
    """The dedup settings, with the threshold from the command line when one was given."""
    from transforms.dedup import DedupSettings

    settings = DedupSettings()
    if processing.dedup_threshold is not None:
        settings = dataclasses.replace(settings, threshold=processing.dedup_threshold)
    return settings


class LocalChain:
    """The same steps without Beam or Kafka, for ``newsflow process``: one input at a time, in order.

    Learned boilerplate and dedup keep their state in memory across the inputs of one run (dedup in
    ``--state-dir`` when given), so a second copy of a story is reported as a duplicate here too.
    """

    def __init__(self, limits: Limits, processing: Processing) -> None:
        from transforms.boilerplate.learned import LearnedBoilerplate
        from transforms.dedup import Deduplicator, SqliteStore

        self.limits = limits
        self.processing = processing
        self.parse_step = ParseStep(limits)
        self.clean_step = PassThroughStep() if processing.passthrough else CleanStep(limits)
        self.learned = LearnedBoilerplate() if processing.learn_boilerplate else None
        store = SqliteStore(processing.state_dir) if processing.state_dir else None
        self.deduplicator = Deduplicator(dedup_settings(processing), store)
        self.entity_step = EntityStep(limits) if processing.entities else None
        if self.entity_step is not None:
            self.entity_step.setup()

    def run(self, record: KafkaRecord) -> tuple[str, Any]:
        """("article" | "duplicate" | "dead_letter", record) for one input message."""
        attempts = self.limits.max_attempts
        parsed, letter = run_step(
            self.parse_step, record, "parse", _record_original, _record_position, attempts
        )
        if letter is not None:
            return "dead_letter", letter
        article, letter = run_step(
            self.clean_step, parsed, "clean", _parsed_original, _parsed_position, attempts
        )
        if letter is not None:
            return "dead_letter", letter
        if self.processing.passthrough:
            return "article", article
        if self.learned is not None:
            article = self.learned.apply(article)
        article, verdict = self.deduplicator.check(article)
        if verdict is not None:
            return "duplicate", verdict
        if self.entity_step is not None:
            article, letter = run_step(
                self.entity_step, article, "entities", _article_original, _article_position, attempts
            )
            if letter is not None:
                return "dead_letter", letter
        return "article", article
