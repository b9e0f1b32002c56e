"""Two ``newsflow stream`` instances with one group id share the partitions (issue 20, item 6).

The second instance starts while the first is working through a backlog; more input arrives once both run.
Every input must come out exactly once (a clean handover finishes and commits the running batch before its
partitions move), both instances must have written some of it, and the group's committed offsets, sampled
all along, must never go back.
"""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from pipelines.cli.commands.consume import iter_records
from pipelines.options import Topics
from tests.cli_runs import command, topic_flags
from tests.shared_data import CONLL_TRAIN
from transforms.entities.conll import stories
from transforms.group_membership import commit_forward
from transforms.settings import KafkaSettings

pytestmark = pytest.mark.integration

GROUP = "shared"
PARTITIONS = 4


def produce(settings: KafkaSettings, topic: str, texts: list[str], first: int) -> set[tuple[int, int]]:
    producer = KafkaProducer(**settings.producer_kwargs())
    futures = [
        producer.send(
            topic,
            json.dumps({"url": f"https://wire.example/{first + i}", "source": "wire", "text": t}).encode(),
            partition=i % PARTITIONS,
        )
        for i, t in enumerate(texts)
    ]
    producer.flush()
    sent = {(m.partition, m.offset) for m in (f.get(timeout=30) for f in futures)}
    producer.close()
    return sent


def delivered(settings: KafkaSettings, topics: Topics) -> Counter:
    """How many outputs (clean, duplicate or dead letter) name each source position."""
    seen: Counter = Counter()
    for topic in (topics.output_topic, topics.duplicates_topic, topics.dlq_topic):
        for _, _, _, record in iter_records(settings, topic):
            pos = record["source_position"]
            seen[(pos["partition"], pos["offset"])] += 1
    return seen


class CommitSampler(threading.Thread):
    """Reads the group's committed offsets every 0.1 s until stopped: the history a monotonicity check needs."""

    def __init__(self, settings: KafkaSettings, topic: str, group: str = GROUP) -> None:
        super().__init__(daemon=True)
        self.consumer = KafkaConsumer(**settings.consumer_kwargs(group))
        self.tps = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        self.history: dict[int, list[int]] = {p: [] for p in range(PARTITIONS)}
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            for tp in self.tps:
                offset = self.consumer.committed(tp)
                if offset is not None:
                    self.history[tp.partition].append(offset)
            time.sleep(0.1)

    def latest(self) -> dict[int, int | None]:
        return {p: (h[-1] if h else None) for p, h in self.history.items()}

    def stop(self) -> None:
        self.done.set()
        self.join(timeout=10)
        self.consumer.close(autocommit=False)


def start(
    bootstrap: str, topics: Topics, state_dir: Path, log_path: Path, *extra: str, group: str = GROUP
) -> subprocess.Popen:
    cmd = command("stream", "--bootstrap-servers", bootstrap, *topic_flags(topics))
    cmd += ["--group-id", group, "--state-dir", str(state_dir)]
    cmd += ["--batch-records", "8", "--poll-interval", "0.5", *extra]
    with open(log_path, "w") as log_file:
        return subprocess.Popen(cmd, stdout=log_file, stderr=subprocess.STDOUT)


def events(log_path: Path, name: str) -> list[dict]:
    found = []
    for line in log_path.read_text().splitlines():
        if f'"{name}"' in line:
            try:
                found.append(json.loads(line))
            except ValueError:
                continue
    return found


def owned(log_path: Path) -> set[int]:
    """The partitions an instance owns by its log: its assignments less what it was revoked or lost since."""
    partitions: set[int] = set()
    for line in log_path.read_text().splitlines():
        if line.startswith("{") and '"group_partitions_' in line:
            event = json.loads(line)
            if event["event"] == "group_partitions_assigned":
                partitions |= set(event["partitions"])
            elif event["event"] in ("group_partitions_revoked", "group_partitions_lost"):
                partitions -= set(event["partitions"])
    return partitions


def wait_for(condition: Callable[[], bool], procs: list[subprocess.Popen], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert all(p.poll() is None for p in procs), "an instance exited while it should be running"
        assert time.monotonic() < deadline, "timed out waiting for the instances"
        time.sleep(0.5)


def drain_and_stop(
    settings: KafkaSettings,
    topics: Topics,
    sent: set[tuple[int, int]],
    procs: list[subprocess.Popen],
    sampler: CommitSampler,
) -> None:
    """Wait until every input sent has an output and the group has committed each partition to its end,
    then SIGTERM every instance: each must finish its batch and exit 0."""
    end = {p: max(o for q, o in sent if q == p) + 1 for p in range(PARTITIONS)}
    wait_for(lambda: sent <= delivered(settings, topics).keys(), procs, timeout=120)
    wait_for(lambda: sampler.latest() == end, procs, timeout=60)
    for proc in procs:
        proc.send_signal(signal.SIGTERM)
    assert [proc.wait(timeout=60) for proc in procs] == [0] * len(procs)


def clean_up(procs: list[subprocess.Popen], sampler: CommitSampler) -> None:
    """Leave no instance running and no sampler, whatever failed."""
    sampler.stop()
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def assert_once_and_forward(
    settings: KafkaSettings, topics: Topics, sent: set[tuple[int, int]], sampler: CommitSampler, why: str
) -> None:
    """Every input has one output and every output an input (``why`` says why none may come twice), and
    no partition's committed offset went back."""
    seen = delivered(settings, topics)
    assert sent == set(seen), "every input has an output, and every output an input"
    assert [pos for pos, n in seen.items() if n > 1] == [], why
    for partition, history in sampler.history.items():
        assert history == sorted(history), f"partition {partition}'s committed offset went back"


def test_two_instances_share_the_partitions_lose_nothing_and_commit_forward(kafka_broker, topics, tmp_path):
    settings = KafkaSettings(bootstrap_servers=kafka_broker.bootstrap)
    texts = stories(CONLL_TRAIN)[:64]
    sent = produce(settings, topics.input_topic, texts[:40], 0)
    sampler = CommitSampler(settings, topics.input_topic)
    sampler.start()
    a_log, b_log = tmp_path / "a.log", tmp_path / "b.log"
    a = start(kafka_broker.bootstrap, topics, tmp_path / "a", a_log)
    procs = [a]
    try:
        wait_for(lambda: sum(delivered(settings, topics).values()) >= 8, procs, timeout=120)
        b = start(kafka_broker.bootstrap, topics, tmp_path / "b", b_log)  # mid-run: a has a backlog left
        procs.append(b)
        wait_for(
            lambda: any(e["partitions"] for e in events(b_log, "group_partitions_assigned")),
            procs,
            timeout=60,
        )
        sent |= produce(settings, topics.input_topic, texts[40:], 40)
        drain_and_stop(settings, topics, sent, procs, sampler)
    finally:
        clean_up(procs, sampler)
    assert_once_and_forward(settings, topics, sent, sampler, "a clean handover delivers nothing twice")
    for log_path in (a_log, b_log):
        written = sum(e["written"] for e in events(log_path, "micro_batch"))
        assert written > 0, f"{log_path.name} wrote nothing: the partitions were not shared"
        text = log_path.read_text()
        assert '"commit_skipped_not_owner"' not in text and '"commit_backwards_skipped"' not in text
    shared = events(a_log, "group_partitions_assigned")[-1]["partitions"]
    own_b = events(b_log, "group_partitions_assigned")[-1]["partitions"]
    assert shared and own_b and not set(shared) & set(own_b), "each partition has one owner"


def test_an_instance_stopped_past_its_session_writes_nothing_of_the_partitions_it_lost(
    kafka_broker, topics, tmp_path
):
    """SIGSTOP instance A, idle, past the group's session timeout while B is in the group: the group gives
    A's partitions to B. SIGCONT A with a backlog waiting for both to see: A must first hear from the group
    and not form a batch on the partitions it owned before the stop. Before: A read and wrote a batch of them while B wrote the same records, so
    they came out twice though none was in flight when A stopped. Committed offsets never go back."""
    settings = KafkaSettings(bootstrap_servers=kafka_broker.bootstrap)
    texts = stories(CONLL_TRAIN)[:72]
    sent = produce(settings, topics.input_topic, texts[:8], 0)
    group = "stopped-past-session"
    sampler = CommitSampler(settings, topics.input_topic, group)
    sampler.start()
    a_log, b_log = tmp_path / "a.log", tmp_path / "b.log"
    fast = ("--passthrough", "true", "--workers", "1")
    a = start(kafka_broker.bootstrap, topics, tmp_path / "a", a_log, *fast, group=group)
    procs = [a]
    try:
        wait_for(lambda: sent <= delivered(settings, topics).keys(), procs, timeout=120)
        b = start(kafka_broker.bootstrap, topics, tmp_path / "b", b_log, *fast, group=group)
        procs.append(b)

        def split() -> bool:  # each instance owns some partitions, and together all
            a_owns, b_owns = owned(a_log), owned(b_log)
            return bool(a_owns and b_owns) and a_owns | b_owns == set(range(PARTITIONS))

        wait_for(split, procs, timeout=60)
        a.send_signal(signal.SIGSTOP)
        try:
            wait_for(lambda: owned(b_log) == set(range(PARTITIONS)), [b], timeout=60)
            sent |= produce(settings, topics.input_topic, texts[8:], 8)  # a backlog, seen by both
        finally:
            a.send_signal(signal.SIGCONT)
        drain_and_stop(settings, topics, sent, procs, sampler)
    finally:
        clean_up(procs, sampler)
    assert_once_and_forward(settings, topics, sent, sampler, "nothing was in flight: nothing twice")
    assert events(a_log, "group_session_lapsed"), "A noticed its lapsed session"


def test_a_commit_that_would_go_back_is_skipped(kafka_broker, topics):
    settings = KafkaSettings(bootstrap_servers=kafka_broker.bootstrap)
    produce(settings, topics.input_topic, ["one", "two", "three", "four"] * 5, 0)
    tp = TopicPartition(topics.input_topic, 0)
    consumer = KafkaConsumer(**settings.consumer_kwargs("forward-only"))
    try:
        assert commit_forward(consumer, {tp: 4}).committed == {tp: 4}
        outcome = commit_forward(consumer, {tp: 2})
        assert outcome.committed == {} and outcome.backwards == {tp: (2, 4)}
        assert consumer.committed(tp) == 4
        assert commit_forward(consumer, {tp: 5}).committed == {tp: 5}
        assert consumer.committed(tp) == 5
    finally:
        consumer.close(autocommit=False)
