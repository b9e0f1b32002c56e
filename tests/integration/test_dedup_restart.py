"""Dedup survives a restart of ``newsflow stream`` on the DirectRunner: the index lives under --state-dir.

Run 1 reads distinct stories and stops when idle. A second batch (exact copies under other URLs, syndicated
near copies on other partitions, re-crawls of the same URLs, and a few new stories) is produced while
nothing runs; run 2, same consumer group and state dir, must drop every copy as a duplicate of a run-1
article and keep only the new stories.
"""

from __future__ import annotations

import pytest

from tests.dedup_batches import first_batch, produce, read_topic, second_batch, stories, stream
from transforms.settings import KafkaSettings

pytestmark = pytest.mark.integration


def test_duplicates_of_articles_seen_before_a_restart_are_recognised(kafka_broker, topics, tmp_path):
    settings = KafkaSettings(bootstrap_servers=kafka_broker.bootstrap)
    docs = stories(12)
    originals, fresh = docs[:9], docs[9:]
    produce(settings, topics.input_topic, first_batch(originals))
    stream(kafka_broker.bootstrap, topics, "dedup-restart", tmp_path / "state", idle_timeout=3, timeout=900)
    first = read_topic(settings, topics.output_topic)
    assert sorted(a["url"] for a in first) == sorted(
        f"https://wire.example/{i}" for i in range(len(originals))
    )
    assert read_topic(settings, topics.duplicates_topic) == []
    ids = {a["url"]: a["id"] for a in first}

    second, copies = second_batch(originals, fresh, ids)  # copies: copy url -> id of the original
    produce(settings, topics.input_topic, second)

    stream(kafka_broker.bootstrap, topics, "dedup-restart", tmp_path / "state", idle_timeout=3, timeout=900)
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
