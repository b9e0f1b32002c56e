"""Broker faults: a 20 s outage under a running stream loses nothing and the stream recovers by itself;
a broker that is down at start-up gives clear log lines and a non-zero exit, never a hang or a traceback."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from pipelines.devkafka import broker
from tests.chaos_runs import assert_delivered, chaos
from tests.cli_runs import command, newsflow, topic_flags

pytestmark = pytest.mark.integration


def test_broker_down_at_start_up_exits_non_zero_with_a_clear_message():
    port = broker.free_port()  # nothing listens there
    run = newsflow(
        "stream", "--bootstrap-servers", f"127.0.0.1:{port}", "--connect-timeout", "4", "--passthrough", "true",
        timeout=120,
    )  # fmt: skip
    assert run.returncode == 4, run.stderr[-2000:]
    events = [json.loads(line) for line in run.stderr.splitlines() if line.startswith("{")]
    names = [e["event"] for e in events]
    assert names == ["kafka_unreachable", "command_failed"], names  # one warning, one failure line
    assert events[-1]["reason"] == "kafka_unreachable" and "unreachable after 4s" in events[-1]["error"]
    assert "Traceback" not in run.stderr


def test_twenty_second_outage_loses_nothing_and_the_stream_recovers(tmp_path):
    """On a broker of its own (chaos.py starts one on a free port), so the session's broker stays up."""
    run, report = chaos(
        "kills", tmp_path, "--batch-records", "40", "--articles", "120", "--kills", "0", "--outage", "20",
        "--no-hostile", "--idle-timeout", "8", timeout=1200,
    )  # fmt: skip
    outage = report["outage"]
    assert outage["pipeline_survived"], outage
    assert outage["recovery_seconds"] is not None
    assert_delivered(run, report)


def _logged(path: Path, event: str) -> list[dict]:
    lines = path.read_text().splitlines() if path.exists() else []
    return [
        e for e in (json.loads(line) for line in lines if line.startswith("{")) if e.get("event") == event
    ]


def _wait_logged(path: Path, event: str, process: subprocess.Popen, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not _logged(path, event):
        assert process.poll() is None, path.read_text()[-3000:]
        assert time.monotonic() < deadline, f"no {event} in {seconds:g} s:\n{path.read_text()[-3000:]}"
        time.sleep(0.25)


def test_sigterm_during_an_outage_between_batches_stops_promptly(kafka_broker, topics, tmp_path):
    """The broker goes down after a batch is written and committed; the stream retries its look for the next
    batch. SIGTERM then stops it within seconds with exit 0 (before: the retry loop's 10 minutes of patience
    ran first), and the committed offsets are the written batch's, nothing past it."""
    settings = kafka_broker.settings()
    producer = KafkaProducer(**settings.producer_kwargs())
    for n in range(4):
        producer.send(
            topics.input_topic, json.dumps({"url": f"https://stop.example/{n}", "text": "x"}).encode()
        )
    producer.flush()
    producer.close()
    log_path = tmp_path / "stream.log"
    cmd = command(
        "stream", "--bootstrap-servers", kafka_broker.bootstrap, *topic_flags(topics), "--group-id", "stop-outage",
        "--passthrough", "true", "--workers", "1", "--state-dir", str(tmp_path / "state"), "--poll-interval", "1",
    )  # fmt: skip
    with log_path.open("w") as stderr:
        process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=stderr, text=True)
    try:
        _wait_logged(log_path, "micro_batch", process, 180)
        kafka_broker.stop()
        _wait_logged(log_path, "kafka_retrying", process, 90)  # between batches, in the look for the next
        process.send_signal(signal.SIGTERM)
        signalled = time.monotonic()
        try:
            code = process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            pytest.fail(f"still running 60 s after SIGTERM:\n{log_path.read_text()[-2000:]}")
        stopped_in = time.monotonic() - signalled
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        kafka_broker.start()
    assert code == 0, log_path.read_text()[-3000:]
    assert _logged(log_path, "stop_requested") and _logged(log_path, "stopped_while_kafka_unreachable")
    assert "Traceback" not in log_path.read_text()
    assert stopped_in < 60
    consumer = KafkaConsumer(**settings.consumer_kwargs("stop-outage"))
    try:
        tps = [TopicPartition(topics.input_topic, p) for p in range(4)]
        assert (
            sum(consumer.committed(tp) or 0 for tp in tps) == 4
        )  # the written batch, nothing lost or past it
    finally:
        consumer.close(autocommit=False)
