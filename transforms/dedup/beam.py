"""Beam wrappers of the dedup rule: ``Deduplicate`` in ``stream`` or ``batch`` mode, and
:class:`InArrivalOrder` for the local stream's bounded micro-batches (index in SQLite under ``state_dir``),
which :mod:`pipelines.chain_workers` runs over each batch in arrival order against the durable index: the
same rule as ``newsflow process``, no chains.

``stream`` (an unbounded pipeline on a portable runner; the index in runner state) is keyed stages:

1. ``Probe``, keyed by index key (canonical URL, content hash, or one LSH band bucket). It holds the key's
   elements until the watermark passes their timestamp (the Kafka timestamp), then takes them in arrival
   order: each reports its candidates among the entries already in the key (earlier arrivals), and is
   added unless one of them is a certain match. Every key sees the same arrivals in the same order, so
   two copies can never drop each other.
2. ``Decide``, keyed by the record: once the article and the reports of all its keys are in, settles the
   verdict by the same rule as the local stream (``verify.settle``) and emits the survivor or the verdict;
   unless a candidate within the margin of the threshold has to be measured on its shingle sample:
3. ``Samples``, keyed by article id, keeps every article's shingle sample for one horizon and answers
   each request for it (held until the sample is in, at the latest until the watermark passes the
   request), and ``Verify``, keyed by the record, settles the verdict once all the samples it asked for
   are in.

Because stage 1 cannot know what the other keys found, a near copy dropped through one key is still added
to the keys where it matched nothing certain; a later copy may then point at it. Following
``duplicate_of`` always ends at a survivor (each step goes to a strictly earlier arrival); README,
"Chains", bounds it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import apache_beam as beam
import structlog
from apache_beam import pvalue
from apache_beam.coders import BytesCoder, PickleCoder, VarIntCoder
from apache_beam.metrics import Metrics
from apache_beam.transforms.timeutil import TimeDomain
from apache_beam.transforms.userstate import BagStateSpec, ReadModifyWriteStateSpec, TimerSpec, on_timer
from apache_beam.utils.timestamp import MAX_TIMESTAMP, MIN_TIMESTAMP, Duration, Timestamp
from apache_beam.utils.windowed_value import WindowedValue

from transforms.dedup.batch import Member, Pair, member, pairs_in_group, resolve, token
from transforms.dedup.best_pairs import keep_best
from transforms.dedup.changelog import Changelog, ChangelogStore
from transforms.dedup.deduplicator import Deduplicator
from transforms.dedup.index import (
    Fingerprint,
    Match,
    candidates,
    count_evicted,
    fingerprint,
    insert,
    newest_second,
)
from transforms.dedup.settings import DedupSettings
from transforms.dedup.store import DB_NAME, SqliteStore
from transforms.dedup.verdicts import annotate, verdict
from transforms.dedup.verify import settle, unsure, verified
from transforms.records import Article

log = structlog.get_logger(__name__)
ARTICLES, DUPLICATES = "articles", "duplicates"
_PROBES, _SAMPLES, _ASKS, _PENDING = "probes", "samples", "asks", "pending"


def _millis(timestamp: Timestamp) -> int:
    """An element's timestamp (the Kafka record's) in epoch ms; 0 when it has none."""
    return max(0, int(timestamp.micros // 1000)) if MIN_TIMESTAMP < timestamp < MAX_TIMESTAMP else 0


def with_arrival(article: Article, timestamp: Timestamp) -> tuple[Article, int]:
    """An article and its arrival, epoch ms from its element timestamp (the Kafka record's): what
    :class:`InArrivalOrder` takes."""
    return article, _millis(timestamp)


def _held_micros(timestamp: Timestamp) -> int:
    """When a held element is due: its timestamp in epoch µs (the watermark has passed it), 0 when it has
    none."""
    return max(0, int(timestamp.micros)) if timestamp > MIN_TIMESTAMP else 0


def _horizon_after(seconds: int, settings: DedupSettings) -> Timestamp:
    """When state kept for an element of second ``seconds`` expires: one horizon later, in event time."""
    return Timestamp(seconds=seconds) + Duration(seconds=settings.horizon_ms // 1000)


@dataclasses.dataclass(frozen=True)
class _Held:
    """What a keyed stage holds until the watermark passes a time: the bag of elements, the time its
    watermark timer is set for (a timer's setting cannot be read back) and the timer. One per call, over
    the DoFn's own state and timer params."""

    bag: Any
    until: Any
    timer: Any

    def add(self, item: Any, micros: int, *, latest: bool = False) -> None:
        """Hold ``item`` until ``micros``: the timer fires at the earliest held time, or with ``latest`` at
        the latest (everything held is then due at once)."""
        self.bag.add(item)
        current = self.until.read()
        if current is None or (micros > current if latest else micros < current):
            self._arm(micros)

    def take(self) -> list[Any]:
        """Everything held, and nothing held any more (a timer still set then fires on an empty bag)."""
        items = list(self.bag.read())
        self.bag.clear()
        self.until.clear()
        return items

    def due(self, fired: Timestamp) -> list[Any]:
        """The held ``(micros, ...)`` items the watermark has passed (``fired``); the rest stay held, the
        timer at the earliest of them."""
        items = self.take()
        rest = [i for i in items if i[0] > fired.micros]
        for item in rest:
            self.bag.add(item)
        if rest:
            self._arm(min(i[0] for i in rest))
        return [i for i in items if i[0] <= fired.micros]

    def _arm(self, micros: int) -> None:
        self.until.write(micros)
        self.timer.set(Timestamp(micros=micros))


def _verdict_counters() -> dict[str, Any]:
    """One Beam counter per verdict type (``dedup.url|exact|near|unique``)."""
    return {m: Metrics.counter("newsflow", f"dedup.{m}") for m in ("url", "exact", "near", "unique")}


class _Counted(beam.DoFn):
    """Emits survivors and verdicts and counts each verdict type."""

    def __init__(self) -> None:
        self.counters = _verdict_counters()

    def emit(self, article: Article, fp: Fingerprint, match: Match | None) -> Iterator[Any]:
        annotated = annotate(article, fp, match)
        if match is None:
            self.counters["unique"].inc()
            yield annotated
            return
        self.counters[match.method].inc()
        log.debug("duplicate", id=article.id, duplicate_of=match.article_id, method=match.method)
        yield pvalue.TaggedOutput(DUPLICATES, verdict(annotated, match))


class _Fingerprint(beam.DoFn):
    """``(token, article)`` for stage 2, one ``(index key, probe)`` per key for stage 1, and
    ``(id, sample)`` for the samples stage."""

    def __init__(self, settings: DedupSettings) -> None:
        self.settings = settings

    def setup(self) -> None:
        self.hasher = self.settings.hasher()

    def process(self, article: Article, timestamp: Timestamp = beam.DoFn.TimestampParam) -> Iterator[Any]:
        fp = fingerprint(article, self.settings, self.hasher, _millis(timestamp))
        tok = token(fp)
        yield (tok, ("article", article, fp))
        slim = dataclasses.replace(fp, sample=b"")  # samples are kept once, by id, not on every key
        for key, kind in fp.keys:
            yield pvalue.TaggedOutput(_PROBES, (key, (tok, kind, slim)))
        yield pvalue.TaggedOutput(_SAMPLES, (fp.id_bytes, ("keep", fp.sample, fp.arrival_s)))


@beam.typehints.with_input_types(tuple[bytes, Any])
@beam.typehints.with_output_types(tuple[str, Any])
class _Probe(beam.DoFn):
    """Stage 1, keyed by index key, in runner state: arrivals are held until the watermark passes them,
    then probed and added in arrival order (:attr:`Fingerprint.order`)."""

    ENTRIES = ReadModifyWriteStateSpec("entries", BytesCoder())
    NEWEST = ReadModifyWriteStateSpec("newest", VarIntCoder())
    HELD = BagStateSpec("held", PickleCoder())
    HELD_UNTIL = ReadModifyWriteStateSpec("held_until", VarIntCoder())
    EXPIRY = TimerSpec("expiry", TimeDomain.WATERMARK)
    FLUSH = TimerSpec("flush", TimeDomain.WATERMARK)

    def __init__(self, settings: DedupSettings) -> None:
        self.settings = settings

    def process(
        self,
        element: tuple[bytes, tuple[str, str, Fingerprint]],
        timestamp: Timestamp = beam.DoFn.TimestampParam,
        held: Any = beam.DoFn.StateParam(HELD),
        held_until: Any = beam.DoFn.StateParam(HELD_UNTIL),
        flush: Any = beam.DoFn.TimerParam(FLUSH),
    ) -> None:
        _, (tok, kind, fp) = element
        micros = _held_micros(timestamp)
        _Held(held, held_until, flush).add((micros, tok, kind, fp), micros)

    @on_timer(FLUSH)
    def release(
        self,
        fired: Timestamp = beam.DoFn.TimestampParam,
        held: Any = beam.DoFn.StateParam(HELD),
        held_until: Any = beam.DoFn.StateParam(HELD_UNTIL),
        entries: Any = beam.DoFn.StateParam(ENTRIES),
        newest: Any = beam.DoFn.StateParam(NEWEST),
        flush: Any = beam.DoFn.TimerParam(FLUSH),
        expiry: Any = beam.DoFn.TimerParam(EXPIRY),
    ) -> Iterator[tuple[str, tuple[str, list[Match]]]]:
        """Everything held up to the watermark (all arrivals up to ``fired`` are in), in arrival order:
        each reports its candidates, and is added unless one is certain (an uncertain one may turn out
        different on the samples, and then the article is delivered and must be found here)."""
        due = sorted(_Held(held, held_until, flush).due(fired), key=lambda i: i[3].order)
        blob = entries.read()
        for micros, tok, kind, fp in due:
            found = candidates(blob, fp, kind, self.settings)
            if not any(m.certain for m in found):
                newest_s = max(fp.arrival_s, newest_second(blob or b"", kind, self.settings))
                blob, evicted = insert(blob, fp, kind, self.settings, newest_s)
                count_evicted(evicted, fp)
                self._push_expiry(micros // 1_000_000, newest, expiry)
            yield (tok, ("match", found))
        if blob is not None:
            entries.write(blob)

    def _push_expiry(self, seconds: int, newest: Any, expiry: Any) -> None:
        """Clear the key one horizon after the end of its newest element's second (element time, never
        moved backwards; kept in whole seconds, a 5-byte varint next to the entries): ``index.candidates``
        counts whole seconds, so an arrival anywhere in the horizon's last second still matches."""
        if seconds > (newest.read() or 0):
            newest.write(seconds)
            expiry.set(_horizon_after(seconds + 1, self.settings))

    @on_timer(EXPIRY)
    def expire(
        self,
        entries: Any = beam.DoFn.StateParam(ENTRIES),
        newest: Any = beam.DoFn.StateParam(NEWEST),
        held: Any = beam.DoFn.StateParam(HELD),
    ) -> None:
        """Nothing was added for a whole horizon of event time: every entry of the key has expired. Unless
        arrivals are still held (a bounded run's watermark jumps to the end, so this can fire before the
        key's later flushes): then the next flush sets it again."""
        newest.clear()
        if next(iter(held.read()), None) is not None:
            return
        entries.clear()


class InArrivalOrder:
    """The local stream's dedup: a micro-batch's articles through the :class:`Deduplicator` in arrival
    order, against the durable index in ``state_dir``, mirrored to ``changelog`` when given. The chain
    workers' ``_Decide`` runs it inline on the batch it holds (:mod:`pipelines.chain_workers`), with its own
    ``setup``/``teardown``."""

    def __init__(self, settings: DedupSettings, state_dir: str, changelog: Changelog | None = None) -> None:
        self.counters = _verdict_counters()
        self.settings = settings
        self.state_dir = state_dir
        self.changelog = changelog

    def setup(self) -> None:
        store = SqliteStore(self.state_dir)
        self.mirror = ChangelogStore(store, self.changelog) if self.changelog else None
        self.dedup = Deduplicator(self.settings, self.mirror or store)
        self.logged = Metrics.counter("newsflow", "dedup.changelog_records")

    def teardown(self) -> None:
        self.dedup.close()

    def decide(self, items: Iterable[tuple[Article, int]]) -> Iterator[Any]:
        """``items``, arrivals after every one decided before, decided in arrival order: survivors (main)
        and verdicts. Their index writes are sent to the changelog but not yet waited for (:meth:`flush`),
        so a batch may be decided in parts, each as soon as its articles are ready."""
        for annotated, found in self.dedup.check_many(items):
            if found is None:
                self.counters["unique"].inc()
                yield annotated
            else:
                self.counters[found.method].inc()
                yield pvalue.TaggedOutput(DUPLICATES, found)

    def flush(self) -> None:
        """The batch's index writes on the changelog: before its outputs are acknowledged."""
        if self.mirror is not None:
            self.logged.inc(self.mirror.flush())


@beam.typehints.with_input_types(tuple[str, Any])
class _Decide(_Counted):
    """Stage 2, keyed by record: waits for the article and one report per index key, then settles the
    verdict, or asks for the samples it has to measure (:func:`verify.unsure`) and hands it to
    :class:`_Verify`."""

    PARTS = BagStateSpec("parts", PickleCoder())

    def __init__(self, settings: DedupSettings) -> None:
        super().__init__()
        self.settings = settings

    def process(self, element: tuple[str, tuple], parts: Any = beam.DoFn.StateParam(PARTS)) -> Iterator[Any]:
        tok, part = element
        parts.add(part)
        got = list(parts.read())
        head = next((p for p in got if p[0] == "article"), None)
        reports = [p[1] for p in got if p[0] == "match"]
        if head is None or len(reports) < len(head[2].keys):
            return
        parts.clear()
        _, article, fp = head
        found = [m for report in reports for m in report]
        ids = unsure(found)
        if not ids:
            yield from self.emit(article, fp, settle(found, fp, self.settings, {}))
            return
        yield pvalue.TaggedOutput(_PENDING, (tok, ("pending", article, fp, found, len(ids))))
        for id_bytes in ids:
            yield pvalue.TaggedOutput(_ASKS, (id_bytes, ("ask", tok)))


@beam.typehints.with_input_types(tuple[bytes, Any])
@beam.typehints.with_output_types(tuple[str, Any])
class _Samples(beam.DoFn):
    """Keyed by article id: the article's shingle sample, kept for one horizon after its arrival (no
    candidate further back is ever asked for, ``index.candidates``), and the answers to requests for it.

    A request that comes before the sample is held; the sample comes straight from the fingerprints with
    the article's own timestamp, never later than the request's (the asking article's, which arrived
    after it), so once the watermark passes the request the sample is in, or never will be (a record
    behind the watermark): then the answer is that there is none, and the estimate decides.
    """

    SAMPLE = ReadModifyWriteStateSpec("sample", BytesCoder())
    ASKED = BagStateSpec("asked", PickleCoder())
    ASKED_UNTIL = ReadModifyWriteStateSpec("asked_until", VarIntCoder())
    ANSWER = TimerSpec("answer", TimeDomain.WATERMARK)
    EXPIRY = TimerSpec("expiry", TimeDomain.WATERMARK)

    def __init__(self, settings: DedupSettings) -> None:
        self.settings = settings

    def process(
        self,
        element: tuple[bytes, tuple],
        timestamp: Timestamp = beam.DoFn.TimestampParam,
        sample: Any = beam.DoFn.StateParam(SAMPLE),
        asked: Any = beam.DoFn.StateParam(ASKED),
        asked_until: Any = beam.DoFn.StateParam(ASKED_UNTIL),
        answer: Any = beam.DoFn.TimerParam(ANSWER),
        expiry: Any = beam.DoFn.TimerParam(EXPIRY),
    ) -> Iterator[tuple[str, tuple]]:
        id_bytes, part = element
        if part[0] == "keep":
            _, blob, arrival_s = part
            sample.write(blob)
            # through the end of the horizon's last second: a request from an article of that second
            # (``index.candidates`` counts whole seconds) is stamped up to a second after its start
            expiry.set(_horizon_after(arrival_s + 1, self.settings))
            yield from self._answer(id_bytes, blob, _Held(asked, asked_until, answer))
            return
        blob = sample.read()
        if blob is not None:
            yield (part[1], ("sample", id_bytes, blob))
            return
        _Held(asked, asked_until, answer).add(part[1], _held_micros(timestamp), latest=True)

    @on_timer(ANSWER)
    def answer_held(
        self,
        key: bytes = beam.DoFn.KeyParam,
        sample: Any = beam.DoFn.StateParam(SAMPLE),
        asked: Any = beam.DoFn.StateParam(ASKED),
        asked_until: Any = beam.DoFn.StateParam(ASKED_UNTIL),
        answer: Any = beam.DoFn.TimerParam(ANSWER),
    ) -> Iterator[tuple[str, tuple]]:
        yield from self._answer(key, sample.read(), _Held(asked, asked_until, answer))

    @staticmethod
    def _answer(id_bytes: bytes, blob: bytes | None, asked: _Held) -> Iterator[tuple[str, tuple]]:
        for tok in asked.take():
            yield (tok, ("sample", id_bytes, blob))

    @on_timer(EXPIRY)
    def expire(self, sample: Any = beam.DoFn.StateParam(SAMPLE)) -> None:
        sample.clear()


@beam.typehints.with_input_types(tuple[str, Any])
class _Verify(_Counted):
    """Keyed by record: the verdict :class:`_Decide` handed over, settled once every sample it asked for
    has been answered (by the same :func:`verify.settle` as every other mode)."""

    PARTS = BagStateSpec("parts", PickleCoder())

    def __init__(self, settings: DedupSettings) -> None:
        super().__init__()
        self.settings = settings
        self.measured = Metrics.counter("newsflow", "dedup.measured")

    def process(self, element: tuple[str, tuple], parts: Any = beam.DoFn.StateParam(PARTS)) -> Iterator[Any]:
        _, part = element
        parts.add(part)
        got = list(parts.read())
        head = next((p for p in got if p[0] == "pending"), None)
        answers = {p[1]: p[2] for p in got if p[0] == "sample"}
        if head is None or len(answers) < head[4]:
            return
        parts.clear()
        _, article, fp, found, _ = head
        self.measured.inc()
        stored = {i: blob for i, blob in answers.items() if blob is not None}
        yield from self.emit(article, fp, settle(found, fp, self.settings, stored))


class _Prepare(beam.DoFn):
    """Batch: each article with its :class:`Member` and, given ``state_dir``, what the live (streaming)
    index already delivered that it duplicates (the store is opened read-only)."""

    def __init__(self, settings: DedupSettings, state_dir: str | None) -> None:
        self.settings = settings
        self.state_dir = state_dir

    def setup(self) -> None:
        self.hasher = self.settings.hasher()
        self.store = None
        if self.state_dir and (Path(self.state_dir) / DB_NAME).exists():
            self.store = SqliteStore(self.state_dir, read_only=True)
        elif self.state_dir:
            log.warning("dedup_no_live_index", state_dir=self.state_dir)

    def teardown(self) -> None:
        if self.store:
            self.store.close()

    def process(
        self, article: Article, timestamp: Timestamp = beam.DoFn.TimestampParam
    ) -> Iterator[tuple[Article, Member, Match | None]]:
        fp = fingerprint(article, self.settings, self.hasher, _millis(timestamp))
        live = None
        if self.store:
            blobs = self.store.get_many([k for k, _ in fp.keys])
            found = [
                m
                for b, (_, kind) in zip(blobs, fp.keys, strict=True)
                for m in candidates(b, fp, kind, self.settings, own=True)
            ]
            live = verified(found, fp, self.settings, self.store.get_many)
        yield article, member(article, fp), live


def _by_key(item: tuple[Article, Member, Match | None]) -> Iterator[tuple[tuple[bytes, str], Member]]:
    """The member once per index key, without its list of keys (16 by default): pair verification never
    reads it, and it would travel once per key."""
    m = item[1]
    slim = dataclasses.replace(m, fp=dataclasses.replace(m.fp, keys=()))
    return ((key, slim) for key in m.fp.keys)


class _BestPairs(beam.DoFn):
    """Batch: (index key, its members) -> verified pairs, one per (later, earlier) article pair and window
    in this bundle (emitted when the bundle ends), so the survivor decision reads few pairs."""

    def __init__(self, settings: DedupSettings) -> None:
        self.settings = settings

    def start_bundle(self) -> None:
        self.best: dict[Any, dict[tuple[str, str], Pair]] = {}

    def process(
        self, element: tuple[tuple[bytes, str], Iterable[Member]], window: Any = beam.DoFn.WindowParam
    ) -> None:
        (_, kind), members = element
        keep_best(self.best.setdefault(window, {}), pairs_in_group(kind, members, self.settings))

    def finish_bundle(self) -> Iterator[WindowedValue]:
        for window, best in self.best.items():
            for pair in best.values():
                yield WindowedValue(pair, window.max_timestamp(), [window])


class _Split(_Counted):
    """Batch: survivors and verdicts, from the live match or the survivor decision over all verified pairs
    (a side input; each DoFn instance resolves it once per window, not per bundle: a batch side input of a
    window does not change, and a runner with many small bundles would otherwise resolve it again each time)."""

    def setup(self) -> None:
        self.dropped: dict[Any, dict[str, Match]] = {}

    def process(
        self,
        item: tuple[Article, Member, Match | None],
        pairs: list[Pair],
        window: Any = beam.DoFn.WindowParam,
    ) -> Iterator[Any]:
        article, m, live = item
        if window not in self.dropped:
            self.dropped[window] = resolve(pairs)
        yield from self.emit(article, m.fp, live or self.dropped[window].get(m.token))


class Deduplicate(beam.PTransform):
    """``PCollection[Article]`` -> outputs ``articles`` (survivors, ``dedup`` filled) and ``duplicates``
    (``DuplicateVerdict``).

    ``mode="stream"``: the rule of :class:`InArrivalOrder` sharded by index key in runner state (see the
    module doc). ``mode="batch"``: survivors by the stable rule of ``batch.py``; a ``state_dir`` is then only
    read, so what the live pipeline already delivered comes out as a duplicate of it.
    """

    def __init__(
        self,
        settings: DedupSettings | None = None,
        *,
        mode: str = "stream",
        state_dir: str | None = None,
    ):
        super().__init__()
        if mode not in ("stream", "batch"):
            raise ValueError("mode must be 'stream' or 'batch'")
        self.settings = settings or DedupSettings()
        self.mode = mode
        self.state_dir = state_dir

    def expand(self, articles: beam.PCollection) -> pvalue.DoOutputsTuple | dict[str, beam.PCollection]:
        return self._stream(articles) if self.mode == "stream" else self._batch(articles)

    def _stream(self, articles: beam.PCollection) -> dict[str, beam.PCollection]:
        split = articles | "Fingerprint" >> beam.ParDo(_Fingerprint(self.settings)).with_outputs(
            _PROBES, _SAMPLES, main="heads"
        )
        # Both stages hold keyed state. Beam types a DoFn's tagged outputs as Any, whose coder (pickling)
        # is not deterministic; declared key types give them deterministic key coders (bytes, str).
        split[_PROBES].element_type = beam.typehints.Tuple[bytes, Any]
        split["heads"].element_type = beam.typehints.Tuple[str, Any]
        split[_SAMPLES].element_type = beam.typehints.Tuple[bytes, Any]
        reports = split[_PROBES] | "Probe" >> beam.ParDo(_Probe(self.settings))
        decided = (
            (split["heads"], reports)
            | "Join" >> beam.Flatten()
            | "Decide"
            >> beam.ParDo(_Decide(self.settings)).with_outputs(DUPLICATES, _ASKS, _PENDING, main=ARTICLES)
        )
        decided[_ASKS].element_type = beam.typehints.Tuple[bytes, Any]
        decided[_PENDING].element_type = beam.typehints.Tuple[str, Any]
        answers = (
            (split[_SAMPLES], decided[_ASKS])
            | "Requests" >> beam.Flatten()
            | "Samples" >> beam.ParDo(_Samples(self.settings))
        )
        settled = (
            (decided[_PENDING], answers)
            | "Answers" >> beam.Flatten()
            | "Verify" >> beam.ParDo(_Verify(self.settings)).with_outputs(DUPLICATES, main=ARTICLES)
        )
        return {
            tag: (decided[tag], settled[tag]) | f"All{tag.title()}" >> beam.Flatten()
            for tag in (ARTICLES, DUPLICATES)
        }

    def _batch(self, articles: beam.PCollection) -> pvalue.DoOutputsTuple:
        settings = self.settings
        prepared = articles | "Fingerprint" >> beam.ParDo(_Prepare(settings, self.state_dir))
        pairs = (
            prepared
            | "NotLive" >> beam.Filter(lambda item: item[2] is None)
            | "ByKey" >> beam.FlatMap(_by_key)
            | "Group" >> beam.GroupByKey()
            | "Pairs" >> beam.ParDo(_BestPairs(settings))
        )
        return prepared | "Split" >> beam.ParDo(_Split(), pvalue.AsList(pairs)).with_outputs(
            DUPLICATES, main=ARTICLES
        )
