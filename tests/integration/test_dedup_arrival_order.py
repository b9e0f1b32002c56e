"""Dedup under real arrival order through the real broker (issue 16).

* The issue's stream case: ``examples/articles.jsonl`` plus the reference article as a ``.txt`` file
  (undated, so only its Kafka timestamp places it), produced with ``newsflow produce`` and streamed: the
  Moscow Times story reaches ``articles.clean`` once and its other copies point at that record.
* A generated scenario (tests/dedup_arrivals.py: syndicated clusters in random order on random partitions,
  Kafka timestamps in any order) streamed in small micro-batches, stopped half-way and restarted: exactly
  one survivor per exact cluster, none lost, every verdict pointing at a delivered record.
"""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import pytest
from kafka import KafkaProducer

from pipelines.cli.topic_reader import records_to_end
from tests.dedup_arrivals import Scenario, check, make_scenario
from tests.shared_data import REFERENCE
from transforms import avro
from transforms.settings import KafkaSettings

pytestmark = pytest.mark.integration
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "articles.jsonl"
REFERENCE_SENTENCE = "Russia Demands Ukraine"


def read_topic(bootstrap: str, topic: str) -> list[dict]:
    settings = KafkaSettings(bootstrap_servers=bootstrap)
    return [avro.decode(r.value)[1] for r in records_to_end(settings, topic)]


def test_the_reference_article_as_jsonl_and_txt_reaches_consumers_once(
    kafka_broker, topics, run_stream, tmp_path
):
    produce = [
        sys.executable,
        "-m",
        "pipelines.cli",
        "produce",
        "--bootstrap-servers",
        kafka_broker.bootstrap,
    ]
    produce += ["--topic", topics.input_topic, str(EXAMPLES), str(REFERENCE.with_suffix(".txt"))]
    done = subprocess.run(produce, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    run = run_stream(
        "--idle-timeout", "3", "--group-id", "ref-copies", "--state-dir", str(tmp_path / "state"),
        "--entities", "false",
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    clean = read_topic(kafka_broker.bootstrap, topics.output_topic)
    duplicates = read_topic(kafka_broker.bootstrap, topics.duplicates_topic)
    story = [a for a in clean if REFERENCE_SENTENCE in (a["title"] or "") + a["body"]]
    assert len(story) == 1, [(a["url"], a["source_position"]) for a in story]
    pointing = [d for d in duplicates if d["duplicate_of"] == story[0]["id"]]
    assert len(pointing) == 2  # the .txt copy and the JSONL copy with tracking parameters
    assert len({a["dedup"]["content_hash"] for a in clean}) == len(clean)


def produce_arrivals(bootstrap: str, topic: str, scenario: Scenario) -> None:
    producer = KafkaProducer(**KafkaSettings(bootstrap_servers=bootstrap).producer_kwargs())
    for copy in scenario.arrivals:
        producer.send(topic, copy.envelope(), partition=copy.partition, timestamp_ms=copy.arrival_ms)
    producer.flush()
    producer.close()


def test_copies_in_any_arrival_order_across_a_restart(kafka_broker, topics, run_stream, tmp_path_factory):
    scenario = make_scenario(random.Random(5), max_copies=25, max_clusters=3)  # 56 copies, 3 stories
    produce_arrivals(kafka_broker.bootstrap, topics.input_topic, scenario)
    state = str(tmp_path_factory.mktemp("state"))
    common = ["--group-id", "arrivals", "--state-dir", state, "--entities", "false", "--batch-records", "7"]
    half = str(len(scenario.arrivals) // 2)
    first = run_stream(*common, "--max-records", half, "--idle-timeout", "3")
    assert first.returncode == 0, first.stderr[-3000:]
    second = run_stream(*common, "--idle-timeout", "3")  # the restart: same group, same state dir
    assert second.returncode == 0, second.stderr[-3000:]
    clean = read_topic(kafka_broker.bootstrap, topics.output_topic)
    duplicates = read_topic(kafka_broker.bootstrap, topics.duplicates_topic)
    copy_of = {copy.url: copy.id for copy in scenario.arrivals}
    ids = {a["id"]: copy_of[a["url"]] for a in clean} | {d["id"]: copy_of[d["url"]] for d in duplicates}
    survivors = {ids[a["id"]] for a in clean}
    verdicts = {ids[d["id"]]: ids.get(d["duplicate_of"], d["duplicate_of"]) for d in duplicates}
    check(scenario, survivors, verdicts)
