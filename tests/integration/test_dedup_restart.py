"""Dedup survives a restart of ``newsflow stream`` on the DirectRunner: the index lives under --state-dir.

Run 1 reads distinct stories and stops when idle. A second batch (exact copies under other URLs, syndicated
near copies on other partitions, re-crawls of the same URLs, and a few new stories) is produced while
nothing runs; run 2, same consumer group and state dir, must drop every copy as a duplicate of a run-1
article and keep only the new stories.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from kafka import KafkaProducer

from pipelines.cli.topic_reader import records_to_end
from tests.shared_data import CONLL_DEV
from transforms import avro
from transforms.dedup import Deduplicator
from transforms.entities import conll
from transforms.records import Article
from transforms.settings import KafkaSettings

pytestmark = pytest.mark.integration


def stories(count: int) -> list[str]:
    """Distinct prose stories rebuilt from CoNLL (one paragraph per sentence, headline dropped); results
    tables (mostly numbers) are skipped, they look alike and the cleaner may drop them."""
    stories = conll.stories(CONLL_DEV, min_words=150, prose_only=True)
    docs = [story.split("\n\n", 1)[-1] for story in stories][:count]
    fresh = Deduplicator()
    assert all(fresh.check(Article(id=str(i), body=d))[1] is None for i, d in enumerate(docs))
    return docs


def produce(settings: KafkaSettings, topic: str, messages: list[tuple[int, dict]]) -> None:
    producer = KafkaProducer(**settings.producer_kwargs())
    for partition, message in messages:
        producer.send(topic, value=json.dumps(message).encode(), partition=partition).get(timeout=30)
    producer.close()


def read_topic(settings: KafkaSettings, topic: str) -> list[dict]:
    return [avro.decode(r.value)[1] for r in records_to_end(settings, topic)]


def stream(bootstrap: str, topics, state_dir: Path) -> None:
    cmd = [sys.executable, "-m", "pipelines.cli", "--log-format", "json", "stream"]
    cmd += ["--bootstrap-servers", bootstrap, "--group-id", "dedup-restart", "--idle-timeout", "8"]
    cmd += ["--input-topic", topics.input_topic, "--output-topic", topics.output_topic]
    cmd += ["--duplicates-topic", topics.duplicates_topic, "--dlq-topic", topics.dlq_topic]
    cmd += ["--state-dir", str(state_dir), "--entities", "false", "--learn-boilerplate", "false"]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]


def test_duplicates_of_articles_seen_before_a_restart_are_recognised(kafka_broker, topics, tmp_path):
    settings = KafkaSettings(bootstrap_servers=kafka_broker.bootstrap)
    docs = stories(12)
    originals, fresh = docs[:9], docs[9:]
    produce(
        settings,
        topics.input_topic,
        [
            (i % 4, {"url": f"https://wire.example/{i}", "source": "wire", "text": t})
            for i, t in enumerate(originals)
        ],
    )
    stream(kafka_broker.bootstrap, topics, tmp_path / "state")
    first = read_topic(settings, topics.output_topic)
    assert sorted(a["url"] for a in first) == sorted(
        f"https://wire.example/{i}" for i in range(len(originals))
    )
    assert read_topic(settings, topics.duplicates_topic) == []
    ids = {a["url"]: a["id"] for a in first}

    second: list[tuple[int, dict]] = []
    copies: dict[str, str] = {}  # copy url -> id of the original it copies
    for i, text in enumerate(originals[:3]):
        url = f"https://mirror.example/{i}"
        second.append(((i + 1) % 4, {"url": url, "source": "mirror", "text": text}))
        copies[url] = ids[f"https://wire.example/{i}"]
    for i, text in enumerate(originals[3:6], start=3):
        body = "A new lede for our readers, written by the syndicating paper.\n\n" + text.split("\n\n", 1)[1]
        url = f"https://paper.example/{i}"
        second.append(((i + 2) % 4, {"url": url, "source": "paper", "text": body}))
        copies[url] = ids[f"https://wire.example/{i}"]
    for i, text in enumerate(originals[6:9], start=6):
        url = f"https://wire.example/{i}"
        second.append((i % 4, {"url": url, "source": "wire", "text": text + "\n\nThis story was re-sent."}))
    for i, text in enumerate(fresh):
        second.append((i % 4, {"url": f"https://new.example/{i}", "source": "wire", "text": text}))
    produce(settings, topics.input_topic, second)

    stream(kafka_broker.bootstrap, topics, tmp_path / "state")
    clean = read_topic(settings, topics.output_topic)
    verdicts = read_topic(settings, topics.duplicates_topic)
    summary = [(v["url"], v["duplicate_of"], v["method"]) for v in verdicts]
    kept = sorted(a["url"] for a in clean if a["url"] not in ids)
    assert kept == [f"https://new.example/{i}" for i in range(len(fresh))], summary
    by_url = {v["url"]: v for v in verdicts}
    assert len(verdicts) == 9
    for url, original_id in copies.items():
        assert by_url[url]["duplicate_of"] == original_id, url
    for i in range(6, 9):
        resent = by_url[f"https://wire.example/{i}"]
        assert resent["duplicate_of"] == ids[f"https://wire.example/{i}"] and resent["method"] == "url"
