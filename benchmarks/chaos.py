"""Chaos run: SIGKILL the streaming pipeline at random points, stop the broker, feed it hostile input; lose nothing.

The run is a table of scenarios (``--scenario``, repeatable; all by default), each on fresh topics with its own
consumer group and state dir:

* ``kills``: N articles and every known hostile input, ``--kills`` SIGKILLs and an optional broker outage;
* ``surrogates``: lone surrogates in every field and the HTML title, stray bytes in one field of a UTF-8
  message (the cp775 case), a legacy-charset message, overlong UTF-8, a field that is not text;
* ``attribute_bomb``: one tag with 1M and with 100k attributes, a page of 240k elements (the watchdog),
  10k entities on one line, and the ReDoS cases;
* ``state_wipe``: articles, then their copies under new URLs and a few new stories; the state dir is
  deleted between the two batches and again after a SIGKILL in the second (:func:`wipe_between_batches`):
  the dedup index comes back from its changelog topic, so every copy must still be caught.

* ``two-instances``: two streams with one group id, the second started ``--second-after`` seconds after
  the first, one of them SIGKILLed and restarted while both run (:func:`two_instances`). It also reports
  the longest time a partition with input waiting saw no commit, and any committed offset that went back.

A scenario is its inputs plus a driver (:func:`kill_and_drain` by default).

For each scenario the report gives: inputs, kills, lost, delivered twice, the longest time any input held
its batch (every partition of a micro-batch waits for it: the ``slow_input`` log lines, wall clock and CPU),
dead letters by reason, garbled records (mojibake, or a known phrase that did not come through), and
whether every dead letter holds its input's exact bytes (replayable).

Per scenario: produces N articles (each with its own URL) mixed with hostile inputs of every kind to a fresh raw topic on a
real broker, while ``newsflow stream`` runs as a subprocess with a fixed consumer group and a dedup state
dir. The harness kills its process group with SIGKILL at random moments once it is writing output (``--kills``
times), restarts it each time, optionally stops the broker for ``--outage`` seconds under a running
pipeline, and finally drains with ``--idle-timeout``. Then it reads the clean, duplicates and DLQ topics
and accounts for every input by its source position (topic, partition, offset): an input is lost if no
output names it, and delivered twice if several do. Twice-delivered inputs must all have been in flight at
a kill: written before the kill at an offset at or above the committed offset read right after it.

    .venv/bin/python benchmarks/chaos.py --articles 5000 --kills 8 --outage 20

Prints one JSON report (``--json-out`` also writes it to a file); exits 1 if anything was lost, a duplicate
was not explained by a kill, a hostile input ended in the wrong place, or the final offsets are not at
the end. Uses its own broker in a temporary directory unless ``--bootstrap`` and ``--data-dir`` name one.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipelines.cli.topic_reader import records_to_end  # noqa: E402
from pipelines.devkafka import broker  # noqa: E402
from pipelines.options import Topics  # noqa: E402
from transforms import avro  # noqa: E402
from transforms.crash_journal import MAX_CRASHES  # noqa: E402
from transforms.entities.conll import stories  # noqa: E402
from transforms.kafka_io import ReadLimits  # noqa: E402
from transforms.original_store import OriginalStore  # noqa: E402
from transforms.settings import KafkaSettings, Limits  # noqa: E402

BENCH = ROOT / ".." / "shared" / "bench"
FETCH_PRISM = ROOT / "deploy" / "flink" / "fetch-portable-runner.sh"
PARTITIONS = 4
BIG_TOPIC_BYTES = 64 * 1024 * 1024
PIPELINE_ERRORS = {"ParseError", "LimitExceeded", "CleanError"}
HOLD_SLACK_SECONDS = 5.0
"""Target: no input holds its batch for more CPU seconds than --doc-time-budget plus this, in any stage."""
MOJIBAKE = re.compile("â€|Ã[\u0080-\u00bf]|ŌĆ|Ð[\u0080-\u00bf]Ð|Ã©")
"""UTF-8 read as cp1252/latin-1/cp775: what a garbling charset guess leaves in the text."""
"""The only error types a hostile input may end with: a precise, deliberate reason, never a crash type."""


# ---------------------------------------------------------------- inputs


def articles(n: int, seed: int) -> list[bytes]:
    """N envelopes with unique URLs: real HTML pages, two-story texts, and every 10th an exact re-post."""
    rng = random.Random(seed)
    pages = sorted((BENCH / "extraction" / "scrapinghub" / "html").glob("*.html.gz"))
    docs = stories(BENCH / "ner" / "conllpp-2003" / "conllpp_train.txt", min_words=60)
    out: list[bytes] = []
    for i in range(n):
        url = f"https://chaos.example/{seed}/{i}"
        if i % 25 == 7 and pages:
            html = gzip.decompress(pages[(i // 25) % len(pages)].read_bytes()).decode("utf-8", "replace")
            envelope = {"url": url, "html": html}
        elif i % 10 == 3 and i > 10:
            envelope = {**json.loads(out[rng.randrange(i - 1)]), "url": url}
        else:
            text = docs[i % len(docs)] + "\n\n" + docs[(i * 7 + 3) % len(docs)]
            envelope = {"url": url, "source": "wire", "text": text}
        out.append(json.dumps(envelope).encode())
    return out


@dataclass(frozen=True)
class Hostile:
    """One hostile input, and what must become of it: a DLQ reason containing one of ``expect``, or
    ``expect=()`` for inputs that may legitimately become articles (still: never a crash type)."""

    kind: str
    value: bytes | None
    expect: tuple[str, ...] = ()
    publish: bool = False  # must become an article (clean or duplicate), never a dead letter
    phrase: str | None = None  # must come through unchanged in the published title or body


def _env(**fields: object) -> bytes:
    return json.dumps(fields).encode()


def hostile_inputs(big_mb: int) -> list[Hostile]:
    """Every kind of broken or malicious input the pipeline must survive."""
    laughs = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10)
    )
    billion = f'<?xml version="1.0"?><!DOCTYPE lolz [{laughs}]><html><body><p>&lol9;</p></body></html>'
    xxe = (
        '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        "<html><body><p>&x; leaked?</p></body></html>"
    )
    story = "The minister said on Tuesday that the talks would resume next week in Geneva. " * 20
    cases = [
        Hostile("not_json", b"not json at all", ("not JSON",)),
        Hostile("not_json", b'{"text": "unterminated', ("not JSON",)),
        Hostile("not_json", b"<html><body>no envelope</body></html>", ("not JSON",)),
        Hostile("empty", None, ("empty message",)),
        Hostile("empty", b"", ("empty message",)),
        Hostile("wrong_types", _env(text=42), ("'text' must be a string",)),
        Hostile("wrong_types", _env(url=["a"], text=story), ("'url' must be a string",)),
        Hostile("wrong_types", _env(text=story, metadata={"k": 1}), ("'metadata' must be a map",)),
        Hostile("wrong_types", b"[1, 2, 3]", ("must be a JSON object",)),
        Hostile("wrong_types", _env(text=story, published_at=True), ("got bool",)),
        Hostile("wrong_types", _env(text=story, fetched_at="next tuesday"), ("not a valid timestamp",)),
        Hostile("missing_body", _env(url="https://chaos.example/nobody"), ("missing body",)),
        Hostile("missing_body", _env(text="   \n\t ", html=""), ("missing body",)),
        Hostile("invalid_utf8", b"\xff\xfe\xfd\xc3\x28\xa0\xa1 broken", ("not JSON", "charset")),
        Hostile("invalid_utf8", b"\x81\x8d\x8f\x90\x9d" * 50, ("not JSON", "charset")),
        Hostile("invalid_utf8", ('{"text": "caf\xe9 ' + story + '"}').encode("latin-1")),
        Hostile("odd_charset", _env(text="Привет, мир. " + story).decode().encode("utf-16")),
        Hostile("odd_charset", ('{"text": "Новости дня. ' + story + '"}').encode("cp1251")),
        Hostile("odd_charset", ('{"text": "東京で会議が開かれた。' + story + '"}').encode("shift_jis")),
        Hostile("oversized", _env(text="x" * (big_mb * 1024 * 1024)), ("limit is",)),
        Hostile("deep_html", _env(html="<div>" * 100_000 + story)),
        Hostile("deep_html", _env(html="<table><tr><td>" * 20_000 + story)),
        Hostile("entity_bomb", _env(html="<p>" + "&amp;&lt;&#65;&#x10FFFF;&#xD800;&#0;" * 100_000 + "</p>")),
        Hostile("entity_bomb", _env(html="<p>" + story + "&nosuchentity;" * 200_000 + "</p>")),
        Hostile("billion_laughs", _env(html=billion)),
        Hostile("billion_laughs", _env(html=xxe)),
        Hostile("redos", _env(text="a" * 500_000)),
        Hostile("redos", _env(text=" " * 200_000 + "x")),
        Hostile("redos", _env(text="\n" * 200_000 + story)),
        Hostile("redos", _env(text="." * 200_000 + story)),
        Hostile("redos", _env(text="http://" + "a." * 100_000 + "!")),
        Hostile("redos", _env(text=("By " + "A" * 50 + " ") * 5_000)),
        Hostile("redos", _env(html="<" * 200_000 + story)),
        Hostile("redos", _env(html="<!--" * 100_000 + story)),
        Hostile("redos", _env(html='<p class="' + "a " * 100_000 + '">' + story)),
        Hostile("redos", _env(html="<p>" + "-" * 300_000 + story + "</p>")),
        Hostile("nul_control", b'{"text": "a\x00b\x01c"}', ("not JSON",)),
        Hostile("nul_control", b"\x00" * 4096, ("not JSON",)),
        Hostile("nul_control", _env(text="\x00\x07\x1b[31m" + story + "\u202e\ufeff\x7f")),
        Hostile("nul_control", _env(html="<p>\x00" + story + "\x00</p>\x00")),
    ]
    return cases


STORY = "The minister said on Tuesday that the talks would resume next week in Geneva. " * 20


def surrogate_inputs() -> list[Hostile]:
    """Lone surrogates (as JSON escapes) in every field, stray bytes in one field, charsets, overlong UTF-8."""
    s = "\ud800"
    title = "It’s a “test” – of the title"
    body = (
        "Heavy rain flooded the streets of Lisbon overnight, and the mayor’s office asked residents to stay "
        "at home. “We have never seen this much water,” a firefighter said – the river rose two metres. "
    ) * 8
    page = f"<html><head><title>{title}</title></head><body><p>{body}</p></body></html>"
    cp775 = json.dumps({"url": "https://chaos.example/cp775/XYZ", "html": page * 700}, ensure_ascii=False)
    cases = [
        Hostile("surrogate_text", _env(text=STORY + s + " one"), publish=True),
        Hostile("surrogate_url", _env(url="https://chaos.example/s" + s, text=STORY + " two"), publish=True),
        Hostile("surrogate_source", _env(source="wire" + s, text=STORY + " three"), publish=True),
        Hostile(
            "surrogate_metadata", _env(text=STORY + " four", metadata={"k" + s: "v\udfff"}), publish=True
        ),
        Hostile(
            "surrogate_title",
            _env(html=f"<html><head><title>Title {s}</title></head><body><p>{STORY} five</p></body></html>"),
            publish=True,
        ),
        Hostile("surrogate_not_text", _env(text=STORY, source=s * 20), ("is not text",)),
        Hostile("cp775_url", cp775.encode().replace(b"XYZ", b"X\x8d\xe6\xf0"), publish=True, phrase=title),
        Hostile(
            "legacy_charset",
            json.dumps(
                {"text": "Новости дня. Правительство заявило во вторник, что переговоры продолжатся. " * 8},
                ensure_ascii=False,
            ).encode("cp1251"),
            publish=True,
            phrase="Новости дня",
        ),
        Hostile(
            "overlong_utf8",
            _env(text=STORY + " six").replace(b" six", b" \xc0\xaf\xe0\x80\xaf six"),
            publish=True,
        ),
    ]
    return cases


def bomb_inputs() -> list[Hostile]:
    """Inputs that ask for unbounded work: attribute bombs, an element flood, 10k entities on one line, ReDoS."""
    rng = random.Random(20)
    names = [
        "Angela Merkel",
        "Paris",
        "Reuters",
        "Barack Obama",
        "Geneva",
        "Siemens AG",
        "Tokyo",
        "John Smith",
    ]
    line = ", ".join(f"{rng.choice(names)} {i}" for i in range(10_000))
    cases = [
        Hostile(
            "attribute_bomb",
            _env(html="<html><body><p " + " ".join(f"a{i}" for i in range(1_000_000)) + f">{STORY}</p>"),
            ("attributes",),
        ),
        Hostile(
            "attribute_bomb",
            _env(
                html="<div " + " ".join(f'data-{i}="{i}"' for i in range(100_000)) + f"><p>{STORY}</p></div>"
            ),
            ("attributes",),
        ),
        Hostile(
            "element_flood",
            _env(html="<html><body>" + "<p class='a' id='b'>x</p>" * 240_000 + f"<p>{STORY}</p>"),
            ("CPU time budget",),
        ),
        Hostile(
            "entities_per_line", _env(text=STORY + "\n\n" + line + ".\n\nMore talks followed."), publish=True
        ),
    ]
    return cases + [c for c in hostile_inputs(1) if c.kind == "redos"]


# ---------------------------------------------------------------- Kafka plumbing


def create_topics(settings: KafkaSettings, topics: Topics) -> None:
    """Fresh topics; the raw one takes messages up to 64 MB (a batch must fit a segment too), so the oversized
    input reaches the pipeline."""
    admin = KafkaAdminClient(**settings.client_kwargs())
    try:
        admin.create_topics(
            [
                NewTopic(
                    name,
                    PARTITIONS,
                    1,
                    topic_configs={
                        "max.message.bytes": str(BIG_TOPIC_BYTES),
                        "segment.bytes": str(2 * BIG_TOPIC_BYTES),
                    }
                    if name == topics.input_topic
                    else {},
                )
                for name in topics.all()
            ]
        )
        admin.wait_for_topics(topics.all(), timeout_ms=30_000)
    finally:
        admin.close()


@contextlib.contextmanager
def consumer(settings: KafkaSettings, group: str | None = None) -> Iterator[KafkaConsumer]:
    c = KafkaConsumer(**settings.consumer_kwargs(group))
    try:
        yield c
    finally:
        c.close(autocommit=False)


def end_total(settings: KafkaSettings, names: list[str]) -> int:
    """Records in the given topics (sum of end offsets): grows when the pipeline writes output."""
    with consumer(settings) as c:
        tps = [TopicPartition(t, p) for t in names for p in range(PARTITIONS)]
        return sum(c.end_offsets(tps).values())


def committed(settings: KafkaSettings, group: str, topic: str) -> dict[int, int]:
    with consumer(settings, group) as c:
        return {p: c.committed(TopicPartition(topic, p)) or 0 for p in range(PARTITIONS)}


@dataclass(frozen=True)
class Output:
    """One output record, reduced to what accounting needs."""

    topic: str  # clean | duplicates | dlq
    partition: int  # source position
    offset: int
    timestamp_ms: int  # CreateTime: when the pipeline produced it
    error_type: str | None = None
    message: str | None = None
    text: str = ""  # a clean article's title and body
    original: bytes | None = field(
        default=None, repr=False
    )  # a dead letter's complete original, if it has one


def read_outputs(settings: KafkaSettings, topics: Topics, store: OriginalStore | None = None) -> list[Output]:
    names = {topics.output_topic: "clean", topics.duplicates_topic: "duplicates", topics.dlq_topic: "dlq"}
    out = []
    for rec in records_to_end(settings, names):
        _, record = avro.decode(rec.value)
        pos = record["source_position"]
        if pos is None or pos["topic"] != topics.input_topic:
            continue
        text = (
            f"{record.get('title') or ''}\n{record.get('body') or ''}" if names[rec.topic] == "clean" else ""
        )
        out.append(
            Output(
                names[rec.topic],
                pos["partition"],
                pos["offset"],
                rec.timestamp,
                record.get("error_type"),
                record.get("message"),
                text,
                complete_original(record, store) if names[rec.topic] == "dlq" else None,
            )
        )
    return out


def complete_original(letter: dict, store: OriginalStore | None) -> bytes | None:
    """The dead letter's original as ``dlq replay`` would send it, or None if it cannot."""
    if letter.get("original_ref"):
        try:
            return store.get(letter["original_ref"]) if store else None
        except (OSError, ValueError):
            return None
    size = letter.get("original_size")
    return letter["original"] if size is None or size == len(letter["original"]) else None


class Feeder(threading.Thread):
    """Produces the inputs at a steady rate, recording where each one landed."""

    def __init__(self, settings: KafkaSettings, topic: str, values: list[bytes | None], rate: float):
        super().__init__(daemon=True)
        self.settings, self.topic, self.values, self.rate = settings, topic, values, rate
        self.landed: dict[tuple[int, int], int] = {}  # (partition, offset) -> index in values
        self.landed_ms: dict[tuple[int, int], int] = {}  # (partition, offset) -> its timestamp (create time)
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            producer = KafkaProducer(
                **{**self.settings.producer_kwargs(), "max_request_size": BIG_TOPIC_BYTES}
            )
            started = time.monotonic()
            futures = []
            for i, value in enumerate(self.values):
                delay = started + i / self.rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                key = b"tombstone" if value is None else None  # Kafka needs a key or a value
                futures.append(producer.send(self.topic, key=key, value=value, partition=i % PARTITIONS))
            producer.flush()
            for i, future in enumerate(futures):
                meta = future.get(timeout=0)
                self.landed[(meta.partition, meta.offset)] = i
                self.landed_ms[(meta.partition, meta.offset)] = meta.timestamp
            producer.close()
        except BaseException as exc:  # noqa: BLE001 - reported by the harness, which then fails
            self.error = exc


# ---------------------------------------------------------------- the pipeline under test


def prism_location() -> str:
    """Beam's Prism runner, built once by ``deploy/flink/fetch-portable-runner.sh`` (``--runner prism``)."""
    run = subprocess.run(["bash", str(FETCH_PRISM)], capture_output=True, text=True, timeout=1500)
    found = dict(line.split("=", 1) for line in run.stdout.splitlines() if "=" in line)
    if "prism_location" not in found:
        raise SystemExit(f"no Prism runner (needed to stream): {run.stderr[-2000:]}")
    return found["prism_location"]


def runner_args(runner: str) -> list[str]:
    """No runner flags: the local micro-batch stream; or one unbounded pipeline on Prism."""
    if runner == "local":
        return []
    return [
        "--",
        "--runner=PrismRunner",
        f"--prism_location={prism_location()}",
        "--environment_type=LOOPBACK",
    ]


@dataclass
class Pipeline:
    """Starts ``newsflow stream`` runs (each in its own process group) with one group id and state dir."""

    bootstrap: str
    topics: Topics
    group: str
    state_dir: Path
    log_dir: Path
    extra: list[str] = field(default_factory=list)
    beam: list[str] = field(default_factory=list)
    runs: int = 0

    def start(self, *more: str) -> tuple[subprocess.Popen, Path]:
        self.runs += 1
        log_path = self.log_dir / f"run-{self.runs}.log"
        t = self.topics
        cmd = [sys.executable, "-m", "pipelines.cli", "--log-format", "json", "stream"]
        cmd += ["--bootstrap-servers", self.bootstrap, "--group-id", self.group]
        cmd += ["--input-topic", t.input_topic, "--output-topic", t.output_topic]
        cmd += ["--duplicates-topic", t.duplicates_topic, "--dlq-topic", t.dlq_topic]
        cmd += ["--state-dir", str(self.state_dir), *self.extra, *more, *self.beam]
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(
                cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True,
            )  # fmt: skip
        return proc, log_path


def wait_for_line(proc: subprocess.Popen, log_path: Path, text: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in log_path.read_text(errors="replace"):
            return
        if proc.poll() is not None:
            raise RuntimeError(f"pipeline exited ({proc.returncode}) before {text!r}:\n{_tail(log_path)}")
        time.sleep(0.2)
    raise RuntimeError(f"no {text!r} after {timeout}s:\n{_tail(log_path)}")


def wait_for_growth(settings: KafkaSettings, names: list[str], base: int, timeout: float) -> float | None:
    """Seconds until the output topics hold more than ``base`` records, or None after ``timeout``."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if end_total(settings, names) > base:
            return time.monotonic() - started
        time.sleep(0.2)
    return None


def kill(proc: subprocess.Popen) -> int:
    """SIGKILL the whole process group, as the OOM killer or a lost machine would; returns the time (ms)."""
    at = int(time.time() * 1000)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    return at


def _tail(path: Path, lines: int = 30) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


# ---------------------------------------------------------------- accounting (pure)


@dataclass(frozen=True)
class Kill:
    at_ms: int
    committed: dict[int, int]  # read right after the kill: what a restart resumes from

    def caught(self, pos: tuple[int, int], at_ms: int) -> bool:
        """Whether a record at ``pos``, stamped ``at_ms``, was there before this kill and not yet committed."""
        return at_ms < self.at_ms and pos[1] >= self.committed.get(pos[0], 0)


def account(sent: dict[tuple[int, int], str], outputs: list[Output], kills: list[Kill]) -> dict:
    """Lost, twice-delivered, and whether every extra copy is explained by a kill's in-flight window."""
    seen = Counter((o.partition, o.offset) for o in outputs)
    lost = sorted(set(sent) - set(seen))
    twice = {pos: n for pos, n in seen.items() if n > 1}
    in_flight: list[set[tuple[int, int]]] = []
    for k in kills:
        in_flight.append(
            {(o.partition, o.offset) for o in outputs if k.caught((o.partition, o.offset), o.timestamp_ms)}
        )
    explained = set().union(*in_flight) if in_flight else set()
    extra_copies = sum(n - 1 for n in twice.values())
    return {
        "inputs": len(sent),
        "lost": len(lost),
        "lost_positions": [f"{p}@{o}" for p, o in lost[:20]],
        "duplicated_inputs": len(twice),
        "extra_copies": extra_copies,
        "in_flight_at_kills": [len(w) for w in in_flight],
        "in_flight_bound": sum(len(w) for w in in_flight),
        "duplicates_not_in_flight": len(set(twice) - explained),
        "unknown_outputs": len(set(seen) - set(sent)),
    }


def killed_in_flight(landed_ms: dict[tuple[int, int], int], kills: list[Kill]) -> dict[tuple[int, int], int]:
    """Per input: at how many kills it was in the topic and not yet committed, i.e. possibly in progress."""
    return {pos: sum(k.caught(pos, at) for k in kills) for pos, at in landed_ms.items()}


def hostile_outcomes(
    cases: dict[tuple[int, int], Hostile], outputs: list[Output], in_flight_kills: dict[tuple[int, int], int]
) -> tuple[dict, list[str]]:
    """Per kind: where its inputs ended (topic and error type); and every case that ended wrongly.

    A ``CrashLoop`` dead letter is right for an input that was in flight at ``MAX_CRASHES`` kills or more
    (``in_flight_kills``): the crash journal cannot tell a kill from a crash the input caused (both are a
    SIGKILL: the OOM killer's is what it is for), so a slow input that three kills land on is dead-lettered,
    complete, as documented. It is counted as ``dlq:CrashLoop(killed)``; any other CrashLoop is wrong."""
    by_pos: dict[tuple[int, int], Output] = {}
    for o in outputs:
        by_pos.setdefault((o.partition, o.offset), o)
    outcomes: dict[str, Counter] = defaultdict(Counter)
    wrong = []
    for pos, case in cases.items():
        out = by_pos.get(pos)
        if out is None:
            continue  # counted as lost by account()
        label = f"dlq:{out.error_type}" if out.topic == "dlq" else out.topic
        killed = out.error_type == "CrashLoop" and in_flight_kills.get(pos, 0) >= MAX_CRASHES
        outcomes[case.kind][f"{label}(killed)" if killed and out.topic == "dlq" else label] += 1
        if out.topic == "dlq" and killed:
            continue
        if out.topic == "dlq" and out.error_type not in PIPELINE_ERRORS:
            wrong.append(f"{case.kind}@{pos}: crash type {out.error_type}: {out.message}")
        elif case.publish and out.topic == "dlq":
            wrong.append(f"{case.kind}@{pos}: must be published, went to the DLQ: {out.message}")
        elif case.phrase and out.topic == "clean" and case.phrase not in out.text:
            wrong.append(f"{case.kind}@{pos}: {case.phrase!r} did not come through unchanged")
        elif case.expect and (out.topic != "dlq" or not any(e in (out.message or "") for e in case.expect)):
            wrong.append(f"{case.kind}@{pos}: expected DLQ reason {case.expect}, got {label}: {out.message}")
    return {k: dict(v) for k, v in sorted(outcomes.items())}, wrong


# ---------------------------------------------------------------- the run


@dataclass(frozen=True)
class Scenario:
    """One row of the chaos table: what is fed to the stream, how many kills, and the driver that runs it."""

    name: str
    about: str
    hostile: Callable[[argparse.Namespace], list[Hostile]]
    articles: Callable[[argparse.Namespace], int]
    kills: Callable[[argparse.Namespace], int]
    outage: bool = False
    driver: Callable[..., dict] | None = None  # default: kill_and_drain


SCENARIOS = {
    s.name: s
    for s in (
        Scenario(
            "kills",
            "articles and every known hostile input; SIGKILLs at random points, then an optional broker outage",
            lambda a: hostile_inputs(a.big_mb) if a.hostile else [],
            lambda a: a.articles,
            lambda a: a.kills,
            outage=True,
        ),
        Scenario(
            "surrogates",
            "lone surrogates in every field and the title, stray bytes in one field (cp775), legacy charsets",
            lambda a: surrogate_inputs(),
            lambda a: a.scenario_articles,
            lambda a: a.scenario_kills,
        ),
        Scenario(
            "attribute_bomb",
            "1M and 100k attributes on one tag, 240k elements, 10k entities on a line, the ReDoS cases",
            lambda a: bomb_inputs(),
            lambda a: a.scenario_articles,
            lambda a: a.scenario_kills,
        ),
        Scenario(
            "state_wipe",
            "articles, then copies of each and new stories; the state dir deleted before and during the copies",
            lambda a: [],
            lambda a: a.scenario_articles,
            lambda a: a.scenario_kills,
            driver=lambda *a: wipe_between_batches(*a),
        ),
        Scenario(
            "two-instances",
            "two streams with one group id, the second started --second-after s later; one SIGKILLed and "
            "restarted while both run",
            lambda a: [],
            lambda a: a.instance_articles,
            lambda a: a.scenario_kills,
            driver=lambda *a: two_instances(*a),
        ),
    )
}


def run(args: argparse.Namespace) -> dict:
    """Every chosen scenario in turn, each on fresh topics; ``ok`` only if every one met its targets."""
    work = Path(args.work_dir or tempfile.mkdtemp(prefix="newsflow-chaos-"))
    reports = {}
    for name in args.scenario or list(SCENARIOS):
        scenario = SCENARIOS[name]
        print(f"scenario {name}: {scenario.about}", file=sys.stderr, flush=True)
        driver = scenario.driver or kill_and_drain
        reports[name] = driver(args, scenario, work / name)
    return {
        "scenarios": reports,
        "summary": {name: summary(r) for name, r in reports.items()},
        "ok": all(r["ok"] for r in reports.values()),
        "work_dir": str(work),
    }


def summary(report: dict) -> dict:
    """The figures the issue asks for, per scenario, in one line each."""
    keys = ("inputs", "kills", "lost", "duplicated_inputs", "extra_copies", "in_flight_bound")
    keys += ("longest_hold_seconds", "longest_hold_cpu_seconds", "garbled", "dead_letters_replayable", "ok")
    return {k: report[k] for k in keys} | {"dead_letters_by_reason": report["dead_letters_by_reason"]}


def setup(args: argparse.Namespace, scenario: Scenario) -> tuple[KafkaSettings, str, Topics, list[str]]:
    """A scenario's own fresh topics and group id (the prefix), so that no run sees another's records;
    also the names of the three output topics that the waits watch."""
    settings = KafkaSettings(bootstrap_servers=args.bootstrap)
    prefix = f"chaos-{scenario.name.replace('_', '-')}-{uuid.uuid4().hex[:8]}"
    topics = Topics(*(f"{prefix}.{name}" for name in ("raw", "clean", "duplicates", "dlq")))
    create_topics(settings, topics)
    return settings, prefix, topics, [topics.output_topic, topics.duplicates_topic, topics.dlq_topic]


def scenario_seed(args: argparse.Namespace, scenario: Scenario) -> int:
    """Each scenario draws other articles from the same ``--seed``."""
    return args.seed + list(SCENARIOS).index(scenario.name)


def stream_flags(args: argparse.Namespace) -> list[str]:
    """The stream options every scenario's runs share."""
    return ["--batch-records", str(args.batch_records), "--doc-time-budget", str(args.doc_time_budget)]


def run_then_kill(
    args: argparse.Namespace,
    rng: random.Random,
    settings: KafkaSettings,
    pipeline: Pipeline,
    outputs_names: list[str],
) -> Kill:
    """Start a run, wait for its first new output, SIGKILL it at a random point up to --max-kill-delay
    later; the kill carries the committed offsets a restart resumes from."""
    proc, log_path = pipeline.start()
    wait_for_line(proc, log_path, "stream_start", 180)
    wait_for_growth(settings, outputs_names, end_total(settings, outputs_names), 120)
    time.sleep(rng.uniform(0.0, args.max_kill_delay))
    if proc.poll() is not None:
        raise RuntimeError(f"pipeline exited by itself ({proc.returncode}):\n{_tail(log_path)}")
    return Kill(kill(proc), committed(settings, pipeline.group, pipeline.topics.input_topic))


def output_figures(outputs: list[Output], originals: dict[tuple[int, int], bytes]) -> dict:
    """What every scenario reports on its outputs: counts per topic, dead letters by reason and how many
    carry their complete original bytes (``originals`` by source position), and garbled clean texts."""
    letters = [o for o in outputs if o.topic == "dlq"]
    replayable = sum(
        o.original is not None and o.original == originals.get((o.partition, o.offset)) for o in letters
    )
    garbled = [f"{o.partition}@{o.offset}" for o in outputs if o.topic == "clean" and MOJIBAKE.search(o.text)]
    return {
        "outputs_by_topic": dict(Counter(o.topic for o in outputs)),
        "dead_letters_by_reason": dict(Counter(reason(o) for o in letters).most_common()),
        "dead_letters_replayable": f"{replayable}/{len(letters)}",
        "garbled": len(garbled),
        "garbled_positions": garbled[:20],
    }


def delivered_ok(report: dict) -> bool:
    """The targets every scenario shares: nothing lost, every duplicate in flight at a kill, no output
    for an unknown input, every offset committed at the end, nothing garbled, every dead letter replayable."""
    replayable, letters = report["dead_letters_replayable"].split("/")
    return (
        report["lost"] == 0
        and report["duplicates_not_in_flight"] == 0
        and report["unknown_outputs"] == 0
        and report["committed_at_end"]
        and report["garbled"] == 0
        and replayable == letters
    )


def held_within_budget(report: dict, args: argparse.Namespace) -> bool:
    """No input held its batch for more CPU seconds than --doc-time-budget (plus the slack)."""
    return report["longest_hold_cpu_seconds"] <= args.doc_time_budget + HOLD_SLACK_SECONDS


def kill_and_drain(args: argparse.Namespace, scenario: Scenario, work: Path) -> dict:
    rng = random.Random(args.seed)
    settings, prefix, topics, outputs_names = setup(args, scenario)

    hostile = scenario.hostile(args)
    n_articles, n_kills = scenario.articles(args), scenario.kills(args)
    outage_seconds = args.outage if scenario.outage else 0
    seed = scenario_seed(args, scenario)
    inputs: list[tuple[str, bytes | None, Hostile | None]] = [
        ("article", v, None) for v in articles(n_articles, seed)
    ]
    for case in hostile:  # spread the hostile inputs through the stream
        inputs.insert(rng.randrange(len(inputs) + 1), (case.kind, case.value, case))
    rate = args.rate or max(5.0, len(inputs) / max(10.0, 9.0 * (n_kills + (2 if outage_seconds else 0))))
    feeder = Feeder(settings, topics.input_topic, [value for _, value, _ in inputs], rate)
    (work / "logs").mkdir(parents=True, exist_ok=True)
    extra = stream_flags(args)
    extra += ["--passthrough", "true"] if args.passthrough else []
    extra += ["--workers", str(args.workers)] if args.workers else []
    pipeline = Pipeline(
        args.bootstrap, topics, prefix, work / "state", work / "logs", extra, runner_args(args.runner)
    )

    started = time.monotonic()
    feeder.start()
    kills: list[Kill] = []
    run_seconds = []
    for _ in range(n_kills):
        spawned = time.monotonic()
        kills.append(run_then_kill(args, rng, settings, pipeline, outputs_names))
        run_seconds.append(round(time.monotonic() - spawned, 1))
        if feeder.error is not None:
            raise RuntimeError(f"producing the inputs failed: {feeder.error!r}")
        print(f"kill {len(kills)}/{n_kills} after {run_seconds[-1]}s", file=sys.stderr, flush=True)

    outage = None
    if outage_seconds:
        outage = broker_outage(args, settings, pipeline, outputs_names, rng, kills)

    feeder.join()
    if feeder.error is not None:
        raise RuntimeError(f"producing the inputs failed: {feeder.error!r}")
    drains = drain(args, settings, pipeline, topics, kills)

    outputs = read_outputs(settings, topics, OriginalStore(work / "state"))
    sent = {pos: inputs[i][0] for pos, i in feeder.landed.items()}
    report = account(sent, outputs, kills)
    cases = {pos: inputs[i][2] for pos, i in feeder.landed.items() if inputs[i][2] is not None}
    outcomes, wrong = hostile_outcomes(cases, outputs, killed_in_flight(feeder.landed_ms, kills))
    values = {pos: inputs[i][1] or b"" for pos, i in feeder.landed.items()}
    end, raw_end = committed(settings, prefix, topics.input_topic), raw_ends(settings, topics)
    report.update(
        scenario=scenario.name,
        chain="passthrough" if args.passthrough else "full",
        runner=args.runner,
        articles=n_articles,
        kills=n_kills + (1 if outage else 0),
        kills_survived=n_kills + (1 if outage else 0),
        early_drain_stops=drains - 1,
        pipeline_runs=pipeline.runs,
        drain_runs=drains,
        seconds_before_each_kill=run_seconds,
        static_in_flight_bound_per_kill=static_bound(args),
        outage=outage,
        hostile_tried=len(hostile),
        hostile_by_kind=dict(Counter(c.kind for c in hostile)),
        hostile_outcomes=outcomes,
        hostile_wrong=wrong,
        committed_at_end=end == raw_end,
        **output_figures(outputs, values),
        doc_time_budget=args.doc_time_budget,
        **hold_times(pipeline.log_dir, topics.input_topic, sent),
        wall_seconds=round(time.monotonic() - started, 1),
        work_dir=str(work),
    )
    report["ok"] = (
        delivered_ok(report)
        and not wrong
        and (outage is None or outage["pipeline_survived"])
        and held_within_budget(report, args)
    )
    return report


def wipe_between_batches(args: argparse.Namespace, scenario: Scenario, work: Path) -> dict:
    """Batch 1 (articles) is drained; the state dir is deleted; batch 2 (an exact copy of every batch-1
    article under a new URL, and a quarter as many new stories) is fed to a run that is SIGKILLed once output
    flows (``--scenario-kills`` times), the state dir deleted after each kill, then drained. Every copy must
    end on the duplicates topic: a copy on the clean topic is one the wiped index let through."""
    rng = random.Random(args.seed)
    settings, prefix, topics, outputs_names = setup(args, scenario)
    n = scenario.articles(args)
    seed = scenario_seed(args, scenario)
    first = articles(n, seed)
    copies = [
        json.dumps({**json.loads(v), "url": f"https://copies.example/{seed}/{i}"}).encode()
        for i, v in enumerate(first)
    ]
    fresh = articles(n + max(1, n // 4), seed + 1000)[n:]
    second = [("copy", v) for v in copies] + [("new", v) for v in fresh]
    rng.shuffle(second)
    (work / "logs").mkdir(parents=True, exist_ok=True)
    pipeline = Pipeline(
        args.bootstrap,
        topics,
        prefix,
        work / "state",
        work / "logs",
        stream_flags(args),
        runner_args(args.runner),
    )
    started = time.monotonic()
    kills: list[Kill] = []

    feeders = [Feeder(settings, topics.input_topic, first, rate=200.0)]
    feeders[0].run()
    drain(args, settings, pipeline, topics, kills)
    wipes = 1
    shutil.rmtree(pipeline.state_dir)
    feeders.append(
        Feeder(settings, topics.input_topic, [v for _, v in second], rate=max(5.0, len(second) / 20.0))
    )
    feeders[1].start()
    n_kills = scenario.kills(args)
    for _ in range(n_kills):
        kills.append(run_then_kill(args, rng, settings, pipeline, outputs_names))
        shutil.rmtree(pipeline.state_dir, ignore_errors=True)
        wipes += 1
    feeders[1].join()
    for feeder in feeders:
        if feeder.error is not None:
            raise RuntimeError(f"producing the inputs failed: {feeder.error!r}")
    drains = drain(args, settings, pipeline, topics, kills)

    outputs = read_outputs(settings, topics, OriginalStore(work / "state"))
    sent = {pos: "article" for pos in feeders[0].landed}
    sent |= {pos: second[i][0] for pos, i in feeders[1].landed.items()}
    report = account(sent, outputs, kills)
    values = {pos: first[i] for pos, i in feeders[0].landed.items()}
    values |= {pos: second[i][1] for pos, i in feeders[1].landed.items()}
    where: dict[tuple[int, int], set[str]] = defaultdict(set)
    for o in outputs:
        where[(o.partition, o.offset)].add(o.topic)
    copy_positions = [pos for pos, kind in sent.items() if kind == "copy"]
    let_through = [f"{p}@{o}" for p, o in copy_positions if "clean" in where[(p, o)]]
    restores = [
        json.loads(line)
        for path in sorted(pipeline.log_dir.glob("run-*.log"))
        for line in path.read_text(errors="replace").splitlines()
        if '"dedup_restored"' in line
    ]
    end, raw_end = committed(settings, prefix, topics.input_topic), raw_ends(settings, topics)
    report.update(
        scenario=scenario.name,
        chain="full",
        runner=args.runner,
        articles=n,
        kills=n_kills,
        wipes=wipes,
        copies=len(copy_positions),
        copies_caught=sum("duplicates" in where[pos] for pos in copy_positions),
        copies_let_through=len(let_through),
        copies_let_through_positions=let_through[:20],
        restores=[{k: r.get(k) for k in ("records", "keys_written", "seconds")} for r in restores],
        pipeline_runs=pipeline.runs,
        drain_runs=drains,
        committed_at_end=end == raw_end,
        **output_figures(outputs, values),
        **hold_times(pipeline.log_dir, topics.input_topic, sent),
        wall_seconds=round(time.monotonic() - started, 1),
        work_dir=str(work),
    )
    report["ok"] = (
        delivered_ok(report)
        and not let_through
        and sum(r.get("records", 0) > 0 for r in restores) == wipes
        and held_within_budget(report, args)
    )
    return report


class CommitWatch(threading.Thread):
    """Samples the group's committed offsets and the raw topic's end offsets every 0.25 s: how long a
    partition with input waiting saw no commit (a dead member's partitions wait for its session to time
    out, a rebalance for the running batch), and whether a committed offset ever went back."""

    def __init__(self, settings: KafkaSettings, group: str, topic: str) -> None:
        super().__init__(daemon=True)
        self.settings, self.group, self.topic = settings, group, topic
        self.stalls: dict[int, float] = dict.fromkeys(range(PARTITIONS), 0.0)
        self.went_back: list[str] = []
        self.done = threading.Event()

    def run(self) -> None:
        tps = [TopicPartition(self.topic, p) for p in range(PARTITIONS)]
        last: dict[int, int] = {}
        since: dict[int, float] = {}
        with consumer(self.settings, self.group) as c:
            while not self.done.wait(0.25):
                now, ends = time.monotonic(), c.end_offsets(tps)
                for tp in tps:
                    p, offset = tp.partition, c.committed(tp) or 0
                    if offset < last.get(p, 0):
                        self.went_back.append(f"{p}: {last[p]} -> {offset}")
                    if offset != last.get(p) or offset >= ends[tp]:
                        since[p] = now  # moved, or nothing waiting
                    self.stalls[p] = max(self.stalls[p], now - since.setdefault(p, now))
                    last[p] = offset

    def stop(self) -> None:
        self.done.set()
        if self.is_alive():
            self.join(timeout=30)


def two_instances(args: argparse.Namespace, scenario: Scenario, work: Path) -> dict:
    """Instance A streams; B joins with the same group id ``--second-after`` seconds later; once both run,
    one of them is SIGKILLed and restarted (``--scenario-kills`` times, alternating). Both share one state
    dir (one machine). When the input is all in, both are stopped with SIGTERM once the committed offsets
    reach the end of the raw topic."""
    rng = random.Random(args.seed)
    settings, prefix, topics, outputs_names = setup(args, scenario)
    n_articles, n_kills = scenario.articles(args), scenario.kills(args)
    values = articles(n_articles, scenario_seed(args, scenario))
    rate = args.rate or max(2.0, n_articles / (args.second_after + 20.0 + 15.0 * n_kills))
    feeder = Feeder(settings, topics.input_topic, values, rate)
    extra = [*stream_flags(args), "--poll-interval", "0.5"]
    extra += ["--passthrough", "true"] if args.passthrough else []
    instances = []
    for name in ("a", "b"):
        (work / f"logs-{name}").mkdir(parents=True, exist_ok=True)
        instances.append(
            Pipeline(args.bootstrap, topics, prefix, work / "state", work / f"logs-{name}", extra)
        )
    watch = CommitWatch(settings, prefix, topics.input_topic)

    started = time.monotonic()
    feeder.start()
    procs = [instances[0].start()]
    kills: list[Kill] = []
    try:
        wait_for_line(*procs[0], "stream_start", 180)
        wait_for_growth(settings, outputs_names, 0, 180)
        watch.start()  # from A's first output: its start-up (imports, the NER model) is no stall
        time.sleep(max(0.0, args.second_after - (time.monotonic() - started)))
        procs.append(instances[1].start())
        wait_for_line(*procs[1], "group_partitions_assigned", 180)
        for k in range(n_kills):
            victim = k % 2
            wait_for_growth(settings, outputs_names, end_total(settings, outputs_names), 120)
            time.sleep(rng.uniform(0.0, args.max_kill_delay))
            for proc, log_path in procs:
                if proc.poll() is not None:
                    raise RuntimeError(
                        f"an instance exited by itself ({proc.returncode}):\n{_tail(log_path)}"
                    )
            kills.append(Kill(kill(procs[victim][0]), committed(settings, prefix, topics.input_topic)))
            print(f"kill {k + 1}/{n_kills}: instance {'ab'[victim]}", file=sys.stderr, flush=True)
            procs[victim] = instances[victim].start()
            # the final SIGTERM must find it running (its handler finishes the batch), not importing
            wait_for_line(*procs[victim], "stream_start", 180)
        feeder.join()
        if feeder.error is not None:
            raise RuntimeError(f"producing the inputs failed: {feeder.error!r}")
        deadline = time.monotonic() + args.drain_timeout
        while committed(settings, prefix, topics.input_topic) != raw_ends(settings, topics):
            if time.monotonic() > deadline or any(proc.poll() is not None for proc, _ in procs):
                break
            time.sleep(0.5)
        for proc, _ in procs:
            proc.send_signal(signal.SIGTERM)
        exits = [proc.wait(timeout=120) for proc, _ in procs]
    finally:
        watch.stop()
        for proc, _ in procs:
            if proc.poll() is None:
                kill(proc)

    outputs = read_outputs(settings, topics, OriginalStore(work / "state"))
    sent = {pos: "article" for pos in feeder.landed}
    report = account(sent, outputs, kills)
    holds = [hold_times(p.log_dir, topics.input_topic, sent) for p in instances]
    originals = {pos: values[i] for pos, i in feeder.landed.items()}
    report.update(
        scenario=scenario.name,
        chain="passthrough" if args.passthrough else "full",
        runner="local",
        articles=n_articles,
        kills=n_kills,
        second_after_seconds=args.second_after,
        instance_runs=[p.runs for p in instances],
        exit_codes_on_sigterm=exits,
        committed_at_end=committed(settings, prefix, topics.input_topic) == raw_ends(settings, topics),
        commits_went_back=watch.went_back,
        longest_partition_stall_seconds=round(max(watch.stalls.values()), 1),
        partition_stall_seconds={p: round(s, 1) for p, s in watch.stalls.items()},
        **output_figures(outputs, originals),
        longest_hold_seconds=max(h["longest_hold_seconds"] for h in holds),
        longest_hold_cpu_seconds=max(h["longest_hold_cpu_seconds"] for h in holds),
        wall_seconds=round(time.monotonic() - started, 1),
        work_dir=str(work),
    )
    report["ok"] = delivered_ok(report) and not watch.went_back and exits == [0, 0]
    return report


def reason(output: Output) -> str:
    """A dead letter's error type and message with its numbers taken out, so that like counts with like."""
    return f"{output.error_type}: {re.sub(r'[0-9]+', 'N', (output.message or '')[:70])}"


def hold_times(log_dir: Path, topic: str, sent: dict[tuple[int, int], str]) -> dict:
    """How long single inputs held their batch, from the runs' ``slow_input`` lines (stages of >= 1 s).

    In a micro-batch every partition waits for the slowest input, so this is how long the others were held.
    """
    per_input: dict[str, list[dict]] = defaultdict(list)
    for path in sorted(log_dir.glob("run-*.log")):
        for line in path.read_text(errors="replace").splitlines():
            if '"slow_input"' not in line:
                continue
            with contextlib.suppress(ValueError):
                event = json.loads(line)
                if event.get("event") == "slow_input" and str(event.get("position", "")).startswith(
                    topic + ":"
                ):
                    per_input[event["position"].removeprefix(topic + ":")].append(event)

    def kind(position: str) -> str:
        partition, offset = position.split("@")
        return sent.get((int(partition), int(offset)), "?")

    longest = sorted(per_input.items(), key=lambda kv: -max(e["seconds"] for e in kv[1]))[:5]
    return {
        "longest_hold_seconds": max((e["seconds"] for es in per_input.values() for e in es), default=0.0),
        "longest_hold_cpu_seconds": max(
            (e["cpu_seconds"] for es in per_input.values() for e in es), default=0.0
        ),
        "slowest_inputs": [
            {
                "input": p,
                "kind": kind(p),
                "stages": {e["stage"]: [e["seconds"], e["cpu_seconds"]] for e in es},
            }
            for p, es in longest
        ],
    }


def static_bound(args: argparse.Namespace) -> str:
    """What one kill can re-deliver at most, whatever the timing."""
    if args.runner == "local":
        return f"<= {args.batch_records} records (one micro-batch, --batch-records)"
    return f"<= {PARTITIONS} partitions x {ReadLimits().max_batch} records per poll + the open bundles"


def raw_ends(settings: KafkaSettings, topics: Topics) -> dict[int, int]:
    with consumer(settings) as c:
        tps = [TopicPartition(topics.input_topic, p) for p in range(PARTITIONS)]
        return {tp.partition: offset for tp, offset in c.end_offsets(tps).items()}


def drain(
    args: argparse.Namespace, settings: KafkaSettings, pipeline: Pipeline, topics: Topics, kills: list[Kill]
) -> int:
    """Run with ``--idle-timeout`` until the committed offsets reach the end of the raw topic.

    One run is enough unless a record was still uncommitted when it stopped (its output not yet written):
    then the next run re-reads from the committed frontier, as any restart would. Returns the runs needed.
    """
    for runs in range(1, args.max_drains + 1):
        proc, log_path = pipeline.start("--idle-timeout", str(args.idle_timeout))
        rc = proc.wait(timeout=args.drain_timeout)
        if rc != 0:
            raise RuntimeError(f"the draining run failed ({rc}):\n{_tail(log_path)}")
        stopped_at, frontier = (
            int(time.time() * 1000),
            committed(settings, pipeline.group, topics.input_topic),
        )
        if frontier == raw_ends(settings, topics):
            return runs
        kills.append(
            Kill(stopped_at, frontier)
        )  # a stop short of the end: the next run re-delivers from here
    return args.max_drains


def broker_outage(
    args: argparse.Namespace,
    settings: KafkaSettings,
    pipeline: Pipeline,
    outputs_names: list[str],
    rng: random.Random,
    kills: list[Kill],
) -> dict:
    """Stop the broker under a running pipeline, start it again, time the pipeline's first new output."""
    proc, log_path = pipeline.start()
    wait_for_line(proc, log_path, "stream_start", 180)
    wait_for_growth(settings, outputs_names, end_total(settings, outputs_names), 120)
    time.sleep(rng.uniform(0.0, 2.0))
    broker.down(args.data_dir)
    time.sleep(args.outage)
    broker.start(args.data_dir)
    ready = time.monotonic()
    base = end_total(settings, outputs_names)
    grew = wait_for_growth(settings, outputs_names, base, 300)
    recovered = None if grew is None else time.monotonic() - ready
    survived = proc.poll() is None
    result = {
        "seconds": args.outage,
        "pipeline_survived": survived and recovered is not None,
        "recovery_seconds": round(recovered, 1) if recovered is not None else None,
    }
    if survived:  # the outage run ends like the others: a SIGKILL at a random point
        kills.append(Kill(kill(proc), committed(settings, pipeline.group, pipeline.topics.input_topic)))
    else:
        result["exit_code"] = proc.returncode
        result["log_tail"] = _tail(log_path)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--scenario",
        action="append",
        choices=list(SCENARIOS),
        help="Run this scenario (repeatable; default: all, in table order).",
    )
    parser.add_argument("--articles", type=int, default=5000, help="Articles of the 'kills' scenario.")
    parser.add_argument("--scenario-articles", type=int, default=40, help="Articles of the other scenarios.")
    parser.add_argument("--scenario-kills", type=int, default=1, help="SIGKILLs in the other scenarios.")
    parser.add_argument("--instance-articles", type=int, default=300, help="Articles of 'two-instances'.")
    parser.add_argument(
        "--second-after", type=float, default=30.0, help="'two-instances': start B this long after A."
    )
    parser.add_argument(
        "--doc-time-budget", type=float, default=Limits().doc_time_budget, help="The pipeline's budget."
    )
    parser.add_argument("--kills", type=int, default=8, help="SIGKILLs at random points (>= 5 to prove it).")
    parser.add_argument("--outage", type=float, default=0, help="Stop the broker this many seconds (0: no).")
    parser.add_argument("--no-hostile", dest="hostile", action="store_false", help="Articles only.")
    parser.add_argument("--big-mb", type=int, default=50, help="Size of the oversized message.")
    parser.add_argument("--rate", type=float, help="Inputs per second (default: spread over the kills).")
    parser.add_argument("--max-kill-delay", type=float, default=6.0, help="Random wait once output flows.")
    parser.add_argument("--idle-timeout", type=float, default=15.0)
    parser.add_argument("--drain-timeout", type=float, default=1800.0)
    parser.add_argument("--max-drains", type=int, default=3, help="Draining runs at most (see drain()).")
    parser.add_argument("--passthrough", action="store_true", help="Parse-and-write chain only.")
    parser.add_argument(
        "--runner",
        choices=("local", "prism"),
        default="local",
        help="local: newsflow stream with no runner flags (micro-batches); prism: one unbounded pipeline "
        "on Beam's Prism runner.",
    )
    parser.add_argument(
        "--batch-records", type=int, default=500, help="The pipeline's --batch-records (local runner)."
    )
    parser.add_argument(
        "--workers",
        type=int,
        help="The pipeline's --workers (local runner; default: the stream's, the cores).",
    )
    parser.add_argument("--bootstrap", help="Use this broker (with --data-dir for --outage).")
    parser.add_argument("--data-dir", help="The broker's data dir (pipelines.devkafka.broker), for --outage.")
    parser.add_argument("--work-dir", help="Where the runs' logs and dedup state go (default: a temp dir).")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json-out", help="Also write the report here.")
    args = parser.parse_args(argv)
    if args.outage and args.bootstrap and not args.data_dir:
        parser.error("--outage on a given broker needs its --data-dir")
    own = None
    if not args.bootstrap:
        own = Path(tempfile.mkdtemp(prefix="newsflow-chaos-kafka-"))
        args.bootstrap = broker.up(port=broker.free_port(), data_dir=own, topics=[]).bootstrap
        args.data_dir = str(own)
    try:
        report = run(args)
    finally:
        if own is not None:
            broker.down(own)
    text = json.dumps(report, indent=2)
    print(text)
    if args.json_out:
        Path(args.json_out).write_text(text)
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
