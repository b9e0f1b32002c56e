"""`newsflow stream` with no runner flags and no stop condition streams: outputs and commits while it runs."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Callable

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from pipelines.cli.commands.consume import iter_records
from tests.cli_runs import command, topic_flags
from tests.shared_data import CONLL_TRAIN
from transforms.boilerplate.learned import REASON
from transforms.entities.conll import stories
from transforms.settings import KafkaSettings

pytestmark = pytest.mark.integration

FOOTER = "Our reporters in the newsroom work around the clock so that readers like you stay informed."
GROUP = "live"


def produce(settings: KafkaSettings, topic: str, envelopes: list[dict]) -> set[tuple[int, int]]:
    producer = KafkaProducer(**settings.producer_kwargs())
    sent = set()
    for i, envelope in enumerate(envelopes):
        meta = producer.send(topic, json.dumps(envelope).encode(), partition=i % 4).get(timeout=30)
        sent.add((meta.partition, meta.offset))
    producer.close()
    return sent


def outputs(settings: KafkaSettings, topics) -> dict[tuple[int, int], tuple[str, dict]]:
    """Every output record by the source position it names."""
    found = {}
    for topic in (topics.output_topic, topics.duplicates_topic, topics.dlq_topic):
        for _, _, name, record in iter_records(settings, topic):
            pos = record["source_position"]
            found[(pos["partition"], pos["offset"])] = (name, record)
    return found


def wait_for(condition: Callable[[], bool], proc: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert proc.poll() is None, "the stream exited while it should be running"
        assert time.monotonic() < deadline, "timed out waiting for the running stream"
        time.sleep(1)


def committed(settings: KafkaSettings, topic: str) -> dict[int, int | None]:
    consumer = KafkaConsumer(**settings.consumer_kwargs(GROUP))
    try:
        return {p: consumer.committed(TopicPartition(topic, p)) for p in range(4)}
    finally:
        consumer.close(autocommit=False)


def test_default_runner_streams_batches_while_running(kafka_broker, topics, tmp_path):
    settings = KafkaSettings(bootstrap_servers=kafka_broker.bootstrap)
    texts = stories(CONLL_TRAIN)[:12]
    first = [
        {"url": f"https://wire.example/{i}", "source": "wire", "text": f"{t}\n\n{FOOTER}"}
        for i, t in enumerate(texts[:8])
    ]
    cmd = command("stream", "--bootstrap-servers", kafka_broker.bootstrap, *topic_flags(topics))
    cmd += ["--group-id", GROUP, "--poll-interval", "0.5"]
    log_path = tmp_path / "stream.log"
    with open(log_path, "w") as log_file:
        proc = subprocess.Popen(cmd, stdout=log_file, stderr=subprocess.STDOUT)
        try:
            sent = produce(settings, topics.input_topic, first)
            wait_for(lambda: sent <= outputs(settings, topics).keys(), proc, timeout=90)

            # A second batch, while the stream keeps running: new stories, an exact copy of a first-batch
            # story under another URL (dedup state kept across batches) and the source's recurring footer
            # (learned boilerplate kept across batches).
            second = [
                {"url": f"https://wire.example/{i}", "source": "wire", "text": f"{t}\n\n{FOOTER}"}
                for i, t in enumerate(texts[8:], start=8)
            ]
            second.append({"url": "https://elsewhere.example/copy", "text": first[0]["text"]})
            sent2 = produce(settings, topics.input_topic, second)
            wait_for(lambda: (sent | sent2) <= outputs(settings, topics).keys(), proc, timeout=60)
            end = {p: max(o for q, o in sent | sent2 if q == p) + 1 for p in range(4)}
            wait_for(lambda: committed(settings, topics.input_topic) == end, proc, timeout=30)
            assert proc.poll() is None, "still streaming after both batches"

            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=60) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()

    found = outputs(settings, topics)
    assert len(found) == len(sent | sent2), "no input written twice, none lost"
    by_url = {record.get("url"): (name, record) for name, record in found.values()}
    name, verdict = by_url["https://elsewhere.example/copy"]
    # exact when the original kept the footer, near when learned boilerplate had already removed it there
    # (whether three other wire stories came before it depends on how the first batch was split)
    assert name == "duplicate" and verdict["method"] in ("exact", "near")
    assert verdict["duplicate_of"] == by_url["https://wire.example/0"][1]["id"]
    late = [by_url[f"https://wire.example/{i}"] for i in range(8, 12)]
    assert all(name == "article" for name, _ in late)
    assert all(FOOTER not in r["body"] for _, r in late)
    assert all(REASON in [b["reason"] for b in r["boilerplate"]] for _, r in late)
    log_lines = log_path.read_text()
    assert log_lines.count('"micro_batch"') >= 2 and '"stop_requested"' in log_lines
