"""Two batches for ``newsflow stream`` runs that must remember what they saw: distinct stories first, then
copies of them (exact under other URLs, syndicated near copies on other partitions, re-crawls of the same
URLs) and a few new stories. Shared by the restart and state-wipe tests, which differ only in what happens
between the two runs."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

from kafka import KafkaProducer

from pipelines.cli.topic_reader import records_to_end
from pipelines.options import Topics
from tests.cli_runs import newsflow, topic_flags
from tests.shared_data import CONLL_DEV
from transforms import avro
from transforms.dedup import Deduplicator
from transforms.entities import conll
from transforms.records import Article
from transforms.settings import KafkaSettings

Messages = list[tuple[int, dict]]
"""(partition, JSON article) pairs, produced in order."""


def stories(count: int) -> list[str]:
    """Distinct prose stories rebuilt from CoNLL (one paragraph per sentence, headline dropped); results
    tables (mostly numbers) are skipped, they look alike and the cleaner may drop them."""
    stories = conll.stories(CONLL_DEV, min_words=150, prose_only=True)
    docs = [story.split("\n\n", 1)[-1] for story in stories][:count]
    fresh = Deduplicator()
    assert all(fresh.check(Article(id=str(i), body=d))[1] is None for i, d in enumerate(docs))
    return docs


def first_batch(originals: list[str]) -> Messages:
    """The originals from one wire, ``https://wire.example/<i>``, spread over four partitions."""
    return [
        (i % 4, {"url": f"https://wire.example/{i}", "source": "wire", "text": t})
        for i, t in enumerate(originals)
    ]


def second_batch(
    originals: list[str], fresh: list[str], ids: dict[str, str]
) -> tuple[Messages, dict[str, str]]:
    """Copies of the nine first-batch ``originals`` (three exact under other URLs, three with a new lede,
    three re-sent under their own URL) and the ``fresh`` stories (``https://new.example/<i>``).

    ``ids`` maps each first-batch URL to the id its run gave it; returns the messages and, per copy's URL,
    the id of the original it copies."""
    second: Messages = []
    copies: dict[str, str] = {}
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
        copies[url] = ids[url]
    for i, text in enumerate(fresh):
        second.append((i % 4, {"url": f"https://new.example/{i}", "source": "wire", "text": text}))
    return second, copies


def produce(settings: KafkaSettings, topic: str, messages: Messages) -> None:
    producer = KafkaProducer(**settings.producer_kwargs())
    for partition, message in messages:
        producer.send(topic, value=json.dumps(message).encode(), partition=partition).get(timeout=30)
    producer.close()


def read_topic(settings: KafkaSettings, topic: str) -> list[dict]:
    return [avro.decode(r.value)[1] for r in records_to_end(settings, topic)]


def stream(
    bootstrap: str, topics: Topics, group: str, state_dir: Path, idle_timeout: int, timeout: float
) -> list[dict]:
    """One dedup-only ``newsflow stream`` run until idle (no entities, no learned boilerplate: the runs
    test the index, not the other stages); returns its JSON log events."""
    run = newsflow(
        "stream", "--bootstrap-servers", bootstrap, "--group-id", group, "--idle-timeout", str(idle_timeout),
        *topic_flags(topics), "--state-dir", str(state_dir), "--entities", "false", "--learn-boilerplate", "false",
        timeout=timeout,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    events = []
    for line in run.stderr.splitlines():
        with contextlib.suppress(ValueError):
            events.append(json.loads(line))
    return events
