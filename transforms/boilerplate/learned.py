"""Learned per-site boilerplate: paragraphs that recur across a site's articles are page furniture.

A site is a source narrowed to the registered domain of the article's URL (:func:`sketch_key`).
A :class:`ParagraphSketch` is a count-min sketch of normalised paragraph fingerprints for one site,
split into event-time buckets so old counts expire and memory stays fixed (``buckets * width`` 8-bit
counters). :func:`strip_learned` is the pure step; :class:`LearnedBoilerplate` keeps one sketch per
source in memory (``newsflow process``, and, across runs, the local stream's micro-batches:
:func:`process_sketches`); :class:`RemoveLearnedBoilerplate` keeps it in Beam keyed state.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import threading
import zlib
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import apache_beam as beam
import numpy as np
import structlog
import xxhash
from apache_beam.coders import PickleCoder
from apache_beam.transforms.timeutil import TimeDomain
from apache_beam.transforms.userstate import ReadModifyWriteStateSpec, TimerSpec, on_timer
from apache_beam.utils.timestamp import Timestamp

from transforms.boilerplate import count_removed
from transforms.boilerplate.urls import registered_domain
from transforms.records import Article, Removed, SourcePosition

log = structlog.get_logger(__name__)
REASON = "learned:repeated-in-source"
TOKEN = re.compile(r"\w+", re.UNICODE)
DIGITS = re.compile(r"\d+")


@dataclass(frozen=True)
class LearnedConfig:
    """Learned-boilerplate settings.

    min_others: a paragraph seen in at least this many earlier distinct articles of the same site (source and
    registered domain) is boilerplate. 3, not 1: a quote or a background paragraph reused by one follow-up
    story is body, furniture recurs on every page (README, "Learned boilerplate", has the measurement).
    max_share: removal never takes more than this share of an article's body characters; when repeated
    paragraphs make up more, the article is a new version of an earlier one (an update, a correction) or
    the sketch is wrong about it, and it is left whole, for dedup to judge.
    width and hashes size each bucket's counter table: with ``n`` distinct paragraphs in a bucket the chance
    that an unseen one looks seen is about ``(1 - exp(-hashes * n / width)) ** hashes`` (0.08% for 1,500
    paragraphs in half a day with the defaults). Memory per source: ``buckets * width`` bytes at most.
    """

    min_others: int = 3
    max_share: float = 0.3
    min_words: int = 4
    window_seconds: float = 3 * 24 * 3600.0
    buckets: int = 6
    width: int = 65536
    hashes: int = 4
    max_sources: int = 1000


def paragraph_key(paragraph: str) -> str | None:
    """Case-, spacing- and number-insensitive form of a paragraph; None when there are no words."""
    tokens = TOKEN.findall(DIGITS.sub("0", paragraph.lower()))
    return " ".join(tokens) if tokens else None


def fingerprint(key: str) -> int:
    return xxhash.xxh3_64_intdigest(key.encode("utf-8"))


@dataclass
class ParagraphSketch:
    """Count-min sketch of paragraph fingerprints, one counter table per event-time bucket.

    Each table is a single row of 8-bit counters addressed by ``hashes`` positions (a counting Bloom
    filter) with conservative update, so a count is only ever over-estimated, and rarely. The estimate
    sums the per-bucket minimums; buckets that fall out of the window are dropped whole.
    """

    config: LearnedConfig
    bucket_counts: dict[int, np.ndarray] = field(default_factory=dict)

    @property
    def bucket_seconds(self) -> float:
        return self.config.window_seconds / self.config.buckets

    def _cells(self, fps: Sequence[int]) -> np.ndarray:
        """The counters of each fingerprint: one row of ``hashes`` cells per fingerprint, all in one array
        operation (one per fingerprint was most of this step's CPU in the stream's serial part)."""
        fp = np.fromiter(fps, np.uint64, len(fps))
        h1, h2 = fp & 0xFFFFFFFF, (fp >> 32) | 1
        steps = np.arange(self.config.hashes, dtype=np.uint64)
        return (h1[:, None] + steps * h2[:, None]) % self.config.width

    def estimate(self, fp: int) -> int:
        """Upper bound of the number of articles (within the window) that contained the paragraph."""
        return int(self.estimates([fp])[0])

    def estimates(self, fps: Sequence[int]) -> np.ndarray:
        """:meth:`estimate` of each of ``fps``."""
        cells = self._cells(fps)
        total = np.zeros(len(fps), np.int64)
        for counts in self.bucket_counts.values():
            total += counts[cells].min(axis=1)
        return total

    def add(self, fps: Iterable[int], event_time: float | None) -> None:
        """Count each of ``fps`` once (conservative update: only its lowest counters are raised)."""
        bucket = self._bucket(event_time)
        counts = self.bucket_counts.get(bucket)
        if counts is None:
            counts = self.bucket_counts[bucket] = np.zeros(self.config.width, np.uint8)
        fps = list(fps)
        cells = self._cells(fps)
        if np.unique(cells).size == cells.size:  # no counter shared: the updates are independent
            rows = counts[cells]
            low = rows.min(axis=1, keepdims=True)
            hit = (rows == low) & (low < 255)
            counts[cells[hit]] = np.broadcast_to(low + 1, rows.shape)[hit]
        else:  # one after the other, in the order given, as a later one sees an earlier one's counts
            for row in cells:
                low = counts[row].min()
                if low < 255:
                    counts[row[counts[row] == low]] = low + 1
        self.expire()

    def _bucket(self, event_time: float | None) -> int:
        if event_time is None:
            return max(self.bucket_counts, default=0)
        return int(event_time // self.bucket_seconds)

    def expire(self) -> None:
        """Drop buckets that fell out of the window behind the newest one."""
        if self.bucket_counts:
            newest = max(self.bucket_counts)
            for b in [b for b in self.bucket_counts if b <= newest - self.config.buckets]:
                del self.bucket_counts[b]

    def to_state(self) -> dict[int, bytes]:
        """Compressed tables: a quiet source's mostly-zero tables cost a few hundred bytes of state."""
        return {b: zlib.compress(counts.tobytes(), 1) for b, counts in self.bucket_counts.items()}

    @classmethod
    def from_state(cls, config: LearnedConfig, state: dict[int, bytes] | None) -> ParagraphSketch:
        counts = {b: np.frombuffer(zlib.decompress(raw), np.uint8).copy() for b, raw in (state or {}).items()}
        return cls(config, counts)


def sketch_key(article: Article) -> str | None:
    """Whose furniture an article carries: its source, narrowed to the registered domain of its URL, so one
    label shared by many sites (an aggregator's feed) never pools their paragraphs. None: no source."""
    if not article.source:
        return None
    domain = registered_domain(article.url or article.canonical_url)
    return f"{article.source} {domain}" if domain else article.source


def event_seconds(article: Article) -> float | None:
    when = article.published_at or article.fetched_at
    return when.timestamp() if when else None


def strip_learned(article: Article, sketch: ParagraphSketch) -> Article:
    """Remove paragraphs the source has repeated, then count this article's paragraphs in the sketch.

    An article that is mostly known paragraphs (a re-sent or updated copy) is left whole: that is dedup's job.
    """
    config = sketch.config
    paragraphs = [p for p in article.body.split("\n\n") if p.strip()]
    keys = [paragraph_key(p) for p in paragraphs]
    fps = [fingerprint(k) if k and len(k.split()) >= config.min_words else None for k in keys]
    seen = iter(sketch.estimates([fp for fp in fps if fp is not None]))
    repeated = [fp is not None and next(seen) >= config.min_others for fp in fps]
    sketch.add({fp for fp in fps if fp is not None}, event_seconds(article))
    repeated_chars = sum(len(p) for p, r in zip(paragraphs, repeated, strict=True) if r)
    if not any(repeated) or repeated_chars > config.max_share * sum(map(len, paragraphs)):
        return article
    kept = [p for p, r in zip(paragraphs, repeated, strict=True) if not r]
    gone = [
        Removed(text=p[:200], reason=REASON, chars=len(p))
        for p, r in zip(paragraphs, repeated, strict=True)
        if r
    ]
    return dataclasses.replace(article, body="\n\n".join(kept), boilerplate=[*article.boilerplate, *gone])


class LearnedBoilerplate:
    """Per-source sketches in this process (``newsflow process``, the local stream's micro-batches), least
    recently used evicted past ``max_sources``. The ``hot`` most recently used are kept as they are; the
    rest compressed, as in Beam state: an uncompressed sketch is ``buckets * width`` bytes, up to
    ``max_sources`` of them, while compressing and expanding a sketch for every article was a third of
    this step's CPU in the stream's serial part. Thread-safe, as runners call from threads."""

    def __init__(self, config: LearnedConfig | None = None, hot: int = 32) -> None:
        self.config = config or LearnedConfig()
        self.hot = hot
        self._lock = threading.Lock()
        self._states: OrderedDict[str, dict[int, bytes]] = OrderedDict()  # the colder, oldest first
        self._hot: OrderedDict[str, ParagraphSketch] = OrderedDict()  # all used since any of _states

    def apply(self, article: Article) -> Article:
        key = sketch_key(article)
        if key is None:
            return article
        with self._lock:
            sketch = self._hot.pop(key, None)
            if sketch is None:
                sketch = ParagraphSketch.from_state(self.config, self._states.pop(key, None))
            cleaned = strip_learned(article, sketch)
            self._hot[key] = sketch
            while len(self._hot) > self.hot:
                cold, cooled = self._hot.popitem(last=False)
                self._states[cold] = cooled.to_state()
            while len(self._states) + len(self._hot) > self.config.max_sources:
                (self._states or self._hot).popitem(last=False)
        return cleaned


@functools.cache
def process_sketches(config: LearnedConfig) -> LearnedBoilerplate:
    """This process's sketches for ``config``: the local stream runs one bounded pipeline per micro-batch
    here, and Beam state would die with each run."""
    return LearnedBoilerplate(config)


class _LearnedDoFn(beam.DoFn):
    """Keyed by site (:func:`sketch_key`): the sketch lives in Beam state, cleared a window after the site
    goes quiet."""

    SKETCH = ReadModifyWriteStateSpec("sketch", PickleCoder())
    EXPIRY = TimerSpec("expiry", TimeDomain.WATERMARK)

    def __init__(self, config: LearnedConfig) -> None:
        self.config = config

    def process(
        self,
        element: tuple[str, Article],
        sketch_state=beam.DoFn.StateParam(SKETCH),
        expiry=beam.DoFn.TimerParam(EXPIRY),
    ):
        _, article = element
        sketch = ParagraphSketch.from_state(self.config, sketch_state.read())
        before = len(article.boilerplate)
        cleaned = strip_learned(article, sketch)
        sketch_state.write(sketch.to_state())
        if event_seconds(article) is not None and sketch.bucket_counts:
            # Clear the state once the newest bucket has aged out of the window (an older article never
            # pulls the expiry earlier).
            newest_end = (max(sketch.bucket_counts) + 1) * sketch.bucket_seconds
            expiry.set(Timestamp.of(newest_end + self.config.window_seconds))
        count_removed(cleaned.boilerplate[before:])
        if len(cleaned.boilerplate) > before:
            log.debug(
                "learned boilerplate removed", site=element[0], blocks=len(cleaned.boilerplate) - before
            )
        yield cleaned

    @on_timer(EXPIRY)
    def expire(self, sketch_state=beam.DoFn.StateParam(SKETCH)):
        sketch_state.clear()


def arrival_order(arrival_ms: int, position: SourcePosition | None) -> tuple:
    """Where a record stands among those in flight together (one micro-batch): its Kafka timestamp, then
    its position. The local stream applies learned boilerplate in this order whichever way a runner
    bundles the batch or a worker pool returns it, so a batch's sketches, and so its cleaned bodies, do not
    depend on fetch timing."""
    return (max(arrival_ms, 0), (position.topic, position.partition, position.offset) if position else ())


def batch_order(article: Article) -> tuple:
    """Event time (undated last), then id, then position: a total order that does not depend on reading."""
    seconds = event_seconds(article)
    pos = article.source_position
    return (
        seconds is None,
        seconds or 0.0,
        article.id,
        (pos.topic, pos.partition, pos.offset) if pos else (),
    )


class _LearnedBatchDoFn(beam.DoFn):
    """(source, its articles) -> each stripped against those before it in :func:`batch_order`, so re-runs
    give the same result; no state, so any worker can run it."""

    def __init__(self, config: LearnedConfig) -> None:
        self.config = config

    def process(self, element: tuple[str, Iterable[Article]]):
        _, articles = element
        sketch = ParagraphSketch(self.config)
        for article in sorted(articles, key=batch_order):
            cleaned = strip_learned(article, sketch)
            count_removed(cleaned.boilerplate[len(article.boilerplate) :])
            yield cleaned


class RemoveLearnedBoilerplate(beam.PTransform):
    """Articles in, articles out: paragraphs repeated across a source's articles are removed and recorded.

    ``mode="stream"`` keeps each source's sketch in keyed state (arrival order); ``mode="batch"`` groups
    each source's articles and strips them in event-time order, the same result on every run. (The local
    stream strips each micro-batch in :func:`arrival_order` in :mod:`pipelines.chain_workers`.)
    """

    def __init__(self, config: LearnedConfig | None = None, *, mode: str = "stream") -> None:
        super().__init__()
        if mode not in ("stream", "batch"):
            raise ValueError("mode must be 'stream' or 'batch'")
        self.config = config or LearnedConfig()
        self.mode = mode

    def expand(self, articles):
        with_source = articles | "HasSource" >> beam.Partition(lambda a, _: 0 if a.source else 1, 2)
        keyed = with_source[0] | "KeyBySite" >> beam.Map(lambda a: (sketch_key(a), a)).with_output_types(
            tuple[str, Article]
        )
        if self.mode == "batch":
            learned = (
                keyed
                | "GroupBySite" >> beam.GroupByKey()
                | "StripInOrder" >> beam.ParDo(_LearnedBatchDoFn(self.config))
            )
        else:
            learned = keyed | "StripLearned" >> beam.ParDo(_LearnedDoFn(self.config))
        return (learned, with_source[1]) | "Merge" >> beam.Flatten()
