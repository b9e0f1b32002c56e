"""The transform chain shared by ``stream``, ``backfill`` and ``process``.

    KafkaRecord ─► Parse+Normalise ─► Clean ─► Learned boilerplate ─► Entities ─► Dedup ─► articles
                        │               │                                  │          └─────► duplicates
                        └───────────────┴──────────── (any stage) ─────────┴────────────────► dlq

Dedup comes last, after every stage that can dead-letter an article: a copy is only ever dropped in
favour of an article that is delivered, so a story never vanishes (transforms/dedup/README.md, "A story
never vanishes").

Each stage is a pure step (a small callable class) wrapped by :class:`Stage`, which turns failures into
dead letters: a :class:`PipelineError` goes to the DLQ at once (it is deterministic); any other exception
is retried ``max_attempts`` times and then goes to the DLQ, so one poison pill never blocks a partition.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import apache_beam as beam
import structlog
from apache_beam import pvalue
from apache_beam.metrics import Metrics

from pipelines.options import Processing
from transforms import avro
from transforms.deadletter import DLQ_TAG, Keeping, dead_letter
from transforms.errors import CrashLoop, LimitExceeded, PipelineError
from transforms.kafka_io import KafkaRecord
from transforms.parse import Parsed, envelope_json, parse
from transforms.records import Article, Dedup, Encoded, Origin, SourcePosition, stable_id, to_dict
from transforms.settings import Limits
from transforms.watchdog import Expired, cpu_limit

if TYPE_CHECKING:
    from transforms.dedup import DedupSettings

# The cleaning, dedup and NER stages import their (heavy) libraries where they run, so commands that only
# move bytes (consume, produce, the pass-through baseline) start fast.

log = structlog.get_logger(__name__)
SLOW_INPUT_SECONDS = 1.0
"""An input that takes a stage this long (wall clock) is logged as ``slow_input``: how long it held the batch."""


class ParseStep:
    def __init__(self, limits: Limits) -> None:
        self.limits = limits

    def __call__(self, record: KafkaRecord) -> Parsed:
        parsed = parse(record.value, record.position(), max_bytes=self.limits.max_message_bytes)
        parsed.origin = record.origin()
        return parsed


class CleanStep:
    """Parsed -> Article. With ``dedup`` settings, a text input that cleans to itself has dedup's body print
    made here (:func:`~transforms.article.build_article`), which its input key is taken from."""

    def __init__(self, limits: Limits, dedup: DedupSettings | None = None) -> None:
        self.limits = limits
        self.dedup = dedup
        self.printer: Callable[[str], Any] | None = None  # made in setup (its hasher is not shipped)

    def setup(self) -> None:
        if self.dedup is not None:
            from transforms.dedup.index import body_print

            self.printer = functools.partial(body_print, settings=self.dedup, hasher=self.dedup.hasher())

    def __call__(self, parsed: Parsed) -> Article:
        from transforms.article import build_article
        from transforms.boilerplate import count_removed

        article = build_article(parsed, self.limits, self.printer)
        count_removed(article.boilerplate)
        return article


class PassThroughStep:
    """Baseline for benchmarks: the envelope's text as the body, nothing cleaned."""

    def __call__(self, parsed: Parsed) -> Article:
        body = parsed.raw.text or parsed.raw.html or ""
        return Article(
            id=stable_id(parsed.raw.url, body),
            body=body,
            url=parsed.raw.url,
            source_position=parsed.position,
            metadata=parsed.raw.metadata,
            origin=parsed.origin,
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
        from transforms.budget import mask_long_tokens

        entities = self.extractor.extract(
            mask_long_tokens(article.body),
            mask_long_tokens(article.title) if article.title else article.title,
            time_budget=self.limits.doc_time_budget,
        )
        Metrics.counter("newsflow", "entities.found").inc(len(entities))
        return dataclasses.replace(article, entities=entities)


def article_value(article: Article) -> bytes:
    """The article's Avro value for its topic: the one made ahead (:func:`encoded_ahead`) when it was made
    for this ``dedup`` field, else encoded here."""
    ahead = article.encoded
    if isinstance(ahead, Encoded) and ahead.dedup == article.dedup:
        return ahead.value
    return avro.encode("article", to_dict(article))


def encoded_ahead(article: Article, content_hash: str) -> Encoded:
    """``article`` (content final, before dedup) encoded as it is delivered if it survives dedup: with its
    content hash and itself as its cluster (``transforms.dedup.verdicts.annotate``). Made where the
    article is final (a chain worker), so the stream process does not encode it; a copy dedup drops is
    never written, and any other ``dedup`` field makes :func:`article_value` encode it again."""
    dedup = Dedup(content_hash=content_hash, cluster_id=article.id)
    value = avro.encode("article", to_dict(dataclasses.replace(article, dedup=dedup)))
    return Encoded(dedup, value)


def _record_position(record: KafkaRecord) -> SourcePosition:
    return record.position()


def _record_original(record: KafkaRecord) -> Origin:
    return record.origin()


def _parsed_position(parsed: Parsed) -> SourcePosition | None:
    return parsed.position


def _article_position(article: Article) -> SourcePosition | None:
    return article.source_position


def _parsed_original(parsed: Parsed) -> Origin:
    """The message as read. (Only a Parsed built outside the chain lacks it: then its envelope as JSON.)"""
    return parsed.origin or Origin(_utf8(lambda: envelope_json(parsed.raw)))


def _article_original(article: Article) -> Origin:
    """The message as read. (Only an Article built outside the chain lacks it: then the article as JSON.)"""
    return article.origin or Origin(
        _utf8(lambda: json.dumps(to_dict(article), default=str, ensure_ascii=False).encode("utf-8"))
    )


def _utf8(encode: Callable[[], bytes]) -> bytes:
    try:
        return encode()
    except UnicodeEncodeError:
        return b""


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
        keeping: Keeping | None = None,
        cpu_budget: float | None = None,
    ) -> None:
        self.step = step
        self.stage = stage
        self.original = original
        self.position = position
        self.max_attempts = max_attempts
        self.journal_dir = journal_dir
        self.keeping = keeping
        self.cpu_budget = cpu_budget

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
            letter = dead_letter(self.original(element), error, pos, attempts=deaths, keeping=self.keeping)
            result = None
        else:
            started, cpu = time.monotonic(), time.thread_time()
            result, letter = run_step(
                self.step,
                element,
                self.stage,
                self.original,
                self.position,
                self.max_attempts,
                keeping=self.keeping,
                cpu_budget=self.cpu_budget,
            )
            self._note_slow(element, time.monotonic() - started, time.thread_time() - cpu, letter)
        if key:
            self.journal.end(key)
        if letter is not None:
            yield pvalue.TaggedOutput(DLQ_TAG, letter)
        else:
            self._ok.inc()
            yield result

    def _note_slow(self, element: Any, seconds: float, cpu_seconds: float, letter: Any) -> None:
        """One line per input that held its bundle (and, in a micro-batch, every partition) for long."""
        if seconds < SLOW_INPUT_SECONDS:
            return
        pos = self.position(element)
        log.info(
            "slow_input",
            stage=self.stage,
            position=f"{pos.topic}:{pos.partition}@{pos.offset}" if pos else None,
            seconds=round(seconds, 2),
            cpu_seconds=round(cpu_seconds, 2),
            outcome=f"dlq:{letter.error_type}" if letter is not None else "ok",
        )


def run_step(
    step: Callable[[Any], Any],
    element: Any,
    stage: str,
    original: Callable[[Any], bytes],
    position: Callable[[Any], SourcePosition | None],
    max_attempts: int,
    *,
    keeping: Keeping | None = None,
    cpu_budget: float | None = None,
) -> tuple[Any, Any]:
    """(result, None) or (None, dead letter): the one error policy for Beam and ``newsflow process``.

    ``cpu_budget``: CPU seconds after which the watchdog stops the step where it is (a LimitExceeded)."""
    last: Exception | None = None
    for attempt in range(1, max_attempts + 1):
        try:
            if cpu_budget is None:
                return step(element), None
            try:
                with cpu_limit(cpu_budget):
                    return step(element), None
            except Expired:
                raise LimitExceeded(
                    f"CPU time budget of {cpu_budget:g}s exceeded: stopped by the watchdog", stage=stage
                ) from None
        except PipelineError as exc:
            letter = dead_letter(
                original(element), exc, position(element), stage=stage, attempts=attempt, keeping=keeping
            )
            return None, letter
        except Exception as exc:  # noqa: BLE001 - a bug or fault in one article must not stop the stream
            last = exc
            log.warning("stage_retry", stage=stage, attempt=attempt, error=type(exc).__name__)
    assert last is not None
    letter = dead_letter(
        original(element), last, position(element), stage=stage, attempts=max_attempts, keeping=keeping
    )
    return None, letter


WATCHDOG_GRACE = 1.0
"""CPU seconds past ``--doc-time-budget`` before the watchdog stops a step: the budget's own checks between
steps come first, with their precise reasons."""


def hard_budget(limits: Limits) -> float:
    """CPU seconds one input may take in one stage before the watchdog stops it where it is."""
    return limits.doc_time_budget + WATCHDOG_GRACE


def keeping(limits: Limits, processing: Processing) -> Keeping:
    """Where the chain's dead letters keep their originals (see :class:`transforms.deadletter.Keeping`)."""
    return Keeping(limits.max_dead_letter_bytes, processing.state_dir)


def entity_stage(
    limits: Limits, *, shared: bool, journal: str | None = None, keep: Keeping | None = None
) -> Stage:
    """The entities stage (NER on each article), as the chain runs it and as a backfill runs it apart."""
    step = EntityStep(limits, shared=shared)
    return Stage(
        step,
        "entities",
        _article_original,
        _article_position,
        limits.max_attempts,
        journal,
        keep,
        hard_budget(limits),
    )


def parse_stage(limits: Limits, journal: str | None = None, keep: Keeping | None = None) -> Stage:
    """The parse stage (bytes -> Parsed), as the chain runs it and as a chain worker runs it."""
    return Stage(
        ParseStep(limits),
        "parse",
        _record_original,
        _record_position,
        limits.max_attempts,
        journal,
        keep,
        hard_budget(limits),
    )


def clean_stage(
    limits: Limits, processing: Processing, journal: str | None = None, keep: Keeping | None = None
) -> Stage:
    """The clean stage (Parsed -> Article; pass-through for the baseline), as the chain and a worker run it."""
    step = PassThroughStep() if processing.passthrough else CleanStep(limits, dedup_settings(processing))
    return Stage(
        step,
        "clean",
        _parsed_original,
        _parsed_position,
        limits.max_attempts,
        journal,
        keep,
        hard_budget(limits),
    )


def _stage(label: str, pcoll: beam.PCollection, stage: Stage) -> tuple[beam.PCollection, beam.PCollection]:
    outputs = pcoll | label >> beam.ParDo(stage).with_outputs(DLQ_TAG, main="ok")
    return outputs.ok, outputs[DLQ_TAG]


class ArticleChain(beam.PTransform):
    """PCollection[KafkaRecord] -> {"articles", "duplicates", "dlq"}.

    ``mode``: ``"stream"`` (runner state, delivery order) or ``"batch"`` (stable order).
    ``entities``: the transform that runs NER (articles -> (ok, dead letters)); by default the per-article
    entities stage. It always runs before dedup. (The local stream runs the same stages through
    :class:`pipelines.chain_workers.PooledChain` instead, on its workers or, with one, in its own process.)
    """

    def __init__(
        self,
        limits: Limits,
        processing: Processing,
        *,
        mode: str = "stream",
        entities: beam.PTransform | None = None,
    ) -> None:
        super().__init__()
        if mode not in ("stream", "batch"):
            raise ValueError("mode must be 'stream' or 'batch'")
        self.limits = limits
        self.processing = processing
        self.mode = mode
        self.entities = entities

    def expand(self, records: beam.PCollection) -> dict[str, beam.PCollection]:
        limits, proc = self.limits, self.processing
        keep = keeping(limits, proc)
        parsed, dlq_parse = _stage("Parse", records, parse_stage(limits, keep=keep))
        articles, dlq_clean = _stage("Clean", parsed, clean_stage(limits, proc, keep=keep))
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
        if self.entities is not None:
            articles, dlq_entities = articles | "Entities" >> self.entities
            dead.append(dlq_entities)
        elif proc.entities:
            articles, dlq_entities = _stage(
                "Entities", articles, entity_stage(limits, shared=False, keep=keep)
            )
            dead.append(dlq_entities)
        # The runner's state holds an unbounded stream's index; a backfill reads a state dir's, read-only.
        state_dir = None if self.mode == "stream" else proc.state_dir
        dedup = articles | "Dedup" >> Deduplicate(dedup_settings(proc), mode=self.mode, state_dir=state_dir)
        return {
            "articles": dedup["articles"],
            "duplicates": dedup["duplicates"],
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
    ``--state-dir`` when given), so a second copy of a story is reported as a duplicate here too: the
    inputs arrive in the order given, and the stream's rule (the first delivered copy survives) applies.
    """

    def __init__(self, limits: Limits, processing: Processing) -> None:
        from transforms.boilerplate.learned import LearnedBoilerplate
        from transforms.dedup import Deduplicator, SqliteStore

        self.limits = limits
        self.processing = processing
        self.parse_step = ParseStep(limits)
        if processing.passthrough:
            self.clean_step: PassThroughStep | CleanStep = PassThroughStep()
        else:
            self.clean_step = CleanStep(limits, dedup_settings(processing))
            self.clean_step.setup()
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
            self.parse_step,
            record,
            "parse",
            _record_original,
            _record_position,
            attempts,
            cpu_budget=hard_budget(self.limits),
        )
        if letter is not None:
            return "dead_letter", letter
        article, letter = run_step(
            self.clean_step,
            parsed,
            "clean",
            _parsed_original,
            _parsed_position,
            attempts,
            cpu_budget=hard_budget(self.limits),
        )
        if letter is not None:
            return "dead_letter", letter
        if self.processing.passthrough:
            return "article", article
        if self.learned is not None:
            article = self.learned.apply(article)
        if self.entity_step is not None:
            article, letter = run_step(
                self.entity_step,
                article,
                "entities",
                _article_original,
                _article_position,
                attempts,
                cpu_budget=hard_budget(self.limits),
            )
            if letter is not None:
                return "dead_letter", letter
        article, verdict = self.deduplicator.check(article, arrival_ms=record.timestamp_ms)
        if verdict is not None:
            return "duplicate", verdict
        return "article", article
