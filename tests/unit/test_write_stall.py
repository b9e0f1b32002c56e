"""A write that stalls has its topics checked while the producer still waits (:meth:`WriteToKafka._flush`):
a deleted topic stops the write at the first check, not at the producer's 120 s delivery timeout; topics
that are there (a slow broker) or a check that cannot reach the cluster (an outage) leave it waiting, up
to its timeout, as before."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kafka.errors import KafkaTimeoutError

from transforms import kafka_io
from transforms.kafka_io import TopicMissing, WriteToKafka
from transforms.settings import KafkaSettings

STALL = 0.01


class _StalledProducer:
    """A producer whose flush never completes (its futures stay pending), as with a deleted topic."""

    def __init__(self) -> None:
        self.flushes = 0

    def flush(self, timeout: float) -> None:
        self.flushes += 1
        time.sleep(timeout)
        raise KafkaTimeoutError("Timeout waiting for future")


def _writer(monkeypatch, missing: set[str], flush_timeout: float) -> tuple[WriteToKafka, list[set[str]]]:
    monkeypatch.setattr(kafka_io, "WRITE_STALL_S", STALL)
    writer = WriteToKafka(KafkaSettings(bootstrap_servers="127.0.0.1:9"), flush_timeout=flush_timeout)
    writer._producer = _StalledProducer()
    checked: list[set[str]] = []

    def require(topics):
        checked.append(set(topics))
        if missing & set(topics):
            raise TopicMissing(f"topic {sorted(missing & set(topics))[0]!r} does not exist")

    writer._require = require
    return writer, checked


def _pending(*states: tuple[str, bool]) -> list[tuple]:
    """(future, message) pairs: each message's topic, and whether its write was delivered."""
    return [(SimpleNamespace(is_done=done), SimpleNamespace(topic=topic)) for topic, done in states]


def test_a_deleted_topic_stops_the_flush_at_the_first_check(monkeypatch):
    writer, checked = _writer(monkeypatch, {"clean"}, flush_timeout=120)
    began = time.monotonic()
    with pytest.raises(TopicMissing, match="clean"):
        writer._flush(_pending(("clean", False), ("dlq", True)))
    assert time.monotonic() - began < 1  # not the 120 s of the flush timeout
    assert checked == [{"clean"}]  # only the topics still written to


def test_topics_that_are_there_are_waited_for_up_to_the_timeout(monkeypatch):
    """A slow broker, or an outage (the check then fails and returns): the flush goes on, checking each
    stall, and raises the producer's own error at its timeout."""
    writer, checked = _writer(monkeypatch, set(), flush_timeout=0.1)
    with pytest.raises(KafkaTimeoutError):
        writer._flush(_pending(("clean", False)))
    assert writer._producer.flushes >= 2 and len(checked) == writer._producer.flushes - 1


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["clean", "duplicates", "dlq"]), st.booleans()), min_size=1))
def test_what_is_checked_is_the_topics_of_the_writes_not_delivered(states):
    undelivered = {topic for topic, done in states if not done}
    stops = "duplicates" in undelivered  # at the first check: a timeout far off, not met
    with pytest.MonkeyPatch.context() as patch:
        writer, checked = _writer(patch, {"duplicates"}, flush_timeout=5 if stops else 0.05)
        if stops:
            with pytest.raises(TopicMissing):
                writer._flush(_pending(*states))
        else:
            with pytest.raises(KafkaTimeoutError):
                writer._flush(_pending(*states))
        assert all(topics == undelivered for topics in checked)
