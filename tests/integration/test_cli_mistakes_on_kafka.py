"""Issue 22's table, on the real broker: each mistake a newcomer made now ends in one clear line and its own
exit code, with no traceback at the default log level; signals and the local broker's defaults are safe."""

from __future__ import annotations

import contextlib
import dataclasses
import gzip
import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from tests.cli_runs import command, failure_line, newsflow, topic_flags
from transforms.settings import KafkaSettings

pytestmark = pytest.mark.integration

STORY = "The central bank held rates on Thursday, its governor told reporters in Frankfurt. " * 5


def events(stderr: str) -> list[dict]:
    return [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]


def test_kafka_status_and_down_from_another_checkout_leave_a_broker_they_did_not_start(
    kafka_broker, tmp_path
):
    """Another checkout (another default data dir) asks about the port of a broker it did not start."""
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "elsewhere")}
    env.pop("NEWSFLOW_KAFKA_DATA_DIR", None)
    port = str(kafka_broker.port)
    status = newsflow("kafka", "status", "--port", port, env=env)
    assert status.returncode == 4, status.stderr
    assert f"kafka-{port}" in status.stdout and "in use by another process" in status.stdout
    down = newsflow("kafka", "down", "--port", port, env=env)
    assert down.returncode == 0 and "not running" in down.stdout and "left alone" in down.stdout
    assert kafka_broker.status().running  # the session's broker is still there
    mine = newsflow("kafka", "status", "--port", port, "--data-dir", str(kafka_broker.data_dir), env=env)
    assert mine.returncode == 0 and f"bootstrap 127.0.0.1:{port}" in mine.stdout


def test_a_misspelled_topic_gets_the_closest_name_at_once(kafka_broker, topics, tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({"url": "https://e.example/1", "text": STORY}) + "\n")
    typo = topics.input_topic.replace(".raw", ".rwa")
    produce = newsflow("produce", str(source), "--bootstrap-servers", kafka_broker.bootstrap, "--topic", typo)
    last = failure_line(produce, 6)
    assert last["error"].endswith(f"did you mean '{topics.input_topic}'?")
    assert len(produce.stderr.strip().splitlines()) == 1, produce.stderr
    stream = newsflow(
        "stream", "--bootstrap-servers", kafka_broker.bootstrap,
        *topic_flags(dataclasses.replace(topics, input_topic=typo)),
    )  # fmt: skip
    last = failure_line(stream, 6)
    assert f"topic '{typo}' does not exist" in last["error"] and f"'{topics.input_topic}'" in last["error"]


def test_produce_on_a_directory_counts_sent_skipped_and_failed(kafka_broker, topics, tmp_path):
    lines = [json.dumps({"url": f"https://e.example/{i}", "text": STORY}) for i in range(2)]
    (tmp_path / "a.jsonl").write_text("\n".join(lines) + "\n")
    (tmp_path / "b.html.gz").write_bytes(gzip.compress(b"<html><body><p>Hello</p></body></html>"))
    (tmp_path / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (tmp_path / "notes.md").write_text("# notes\n")
    (tmp_path / "broken.jsonl.gz").write_bytes(b"not gzip")
    run = newsflow("produce", str(tmp_path), "--bootstrap-servers", kafka_broker.bootstrap,
                   "--topic", topics.input_topic)  # fmt: skip
    counts = json.loads(run.stdout)
    assert (counts["sent"], counts["skipped"], counts["failed"]) == (3, 2, 1)
    last = failure_line(run, 7)
    assert "broken.jsonl.gz" in last["error"]
    skipped = [e["message"] for e in events(run.stderr) if e["event"] == "files_skipped"]
    assert skipped == ["skipped 2 files: 1 .md, 1 .png"] or skipped == ["skipped 2 files: 1 .png, 1 .md"]


def test_consume_on_the_raw_topic_prints_the_json_as_it_is(kafka_broker, topics):
    producer = KafkaProducer(**KafkaSettings(bootstrap_servers=kafka_broker.bootstrap).producer_kwargs())
    producer.send(
        topics.input_topic, value=json.dumps({"url": "https://e.example/raw", "text": "x"}).encode()
    )
    producer.send(topics.input_topic, value=b"\xff\xfe not text")
    producer.flush()
    producer.close()
    run = newsflow("consume", "--bootstrap-servers", kafka_broker.bootstrap, "--topic", topics.input_topic)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "Traceback" not in run.stderr
    printed = sorted((json.loads(line) for line in run.stdout.splitlines()), key=lambda r: r["_schema"])
    assert printed[0]["_schema"] == "json" and printed[0]["url"] == "https://e.example/raw"
    assert printed[1]["_schema"] == "raw" and printed[1]["value"].startswith("base64:")
    told = [e for e in events(run.stderr) if e["event"] == "not_avro"]
    assert len(told) == 2 and {e["shown_as"] for e in told} == {"json", "raw"}


def _fill(bootstrap: str, topic: str, count: int) -> None:
    producer = KafkaProducer(**KafkaSettings(bootstrap_servers=bootstrap).producer_kwargs())
    for i in range(count):
        text = f"Story {i}. {STORY} " + " ".join(f"word{i}x{j}" for j in range(60))
        producer.send(topic, value=json.dumps({"url": f"https://sig.example/{i}", "text": text}).encode())
    producer.flush()
    producer.close()


def _committed(bootstrap: str, topic: str, group: str) -> dict[int, int | None]:
    consumer = KafkaConsumer(**KafkaSettings(bootstrap_servers=bootstrap).consumer_kwargs(group))
    with contextlib.closing(consumer):
        return {p: consumer.committed(TopicPartition(topic, p)) for p in consumer.partitions_for_topic(topic)}


def _stream(kafka_broker, topics, group: str, state: Path, *extra: str) -> subprocess.Popen:
    cmd = command("stream", "--bootstrap-servers", kafka_broker.bootstrap, *topic_flags(topics))
    cmd += ["--group-id", group, "--state-dir", str(state), *extra]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for(process: subprocess.Popen, event: str, timeout: float = 300) -> list[str]:
    """Read stderr lines until one has ``event`` (the batch is then running)."""
    lines, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line:
            break
        lines.append(line)
        if f'"event": "{event}"' in line:
            return lines
    raise AssertionError(f"no {event} line: {''.join(lines)[-3000:]}")


def test_a_second_ctrl_c_aborts_the_batch_uncommitted_and_exits_130(kafka_broker, topics, tmp_path):
    _fill(kafka_broker.bootstrap, topics.input_topic, 480)
    # One batch of 480 articles with NER runs for many seconds on any machine: the signals land while it
    # runs, at whatever point of it (a library's wait, a DoFn's setup, a Kafka send).
    process = _stream(kafka_broker, topics, "abort", tmp_path / "state")
    _wait_for(process, "kafka_ranges")
    time.sleep(1.0)
    process.send_signal(signal.SIGINT)
    time.sleep(0.5)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 130, err[-3000:]
    assert "Traceback" not in err
    last = json.loads(err.strip().splitlines()[-1])
    assert last["reason"] == "aborted" and last["error"] == "aborted; 480 records will be re-read"
    assert "micro_batch_failed" not in err
    assert set(_committed(kafka_broker.bootstrap, topics.input_topic, "abort").values()) <= {0, None}


def test_sigterm_finishes_the_batch_commits_and_the_run_is_quiet(kafka_broker, topics, tmp_path):
    """SIGTERM is a first Ctrl-C: the running batch is written and committed, exit 0. A whole run at the
    default level shows only newsflow's own lines: no coder warning, no kafka-python chatter."""
    _fill(kafka_broker.bootstrap, topics.input_topic, 40)
    process = _stream(kafka_broker, topics, "term", tmp_path / "state", "--passthrough", "true")
    before = _wait_for(process, "kafka_ranges")
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=300)
    err = "".join(before) + err
    assert process.returncode == 0, err[-3000:]
    names = [e["event"] for e in events(err)]
    assert "stop_requested" in names and "micro_batch" in names and names[-1] == "run_summary"
    assert sum(v or 0 for v in _committed(kafka_broker.bootstrap, topics.input_topic, "term").values()) == 40
    assert "deterministic" not in err
    assert not [e for e in events(err) if str(e.get("logger", "")).startswith(("kafka", "apache_beam"))]


def test_dlq_replay_from_a_topic_of_another_format_says_what_it_holds(kafka_broker, topics):
    producer = KafkaProducer(**KafkaSettings(bootstrap_servers=kafka_broker.bootstrap).producer_kwargs())
    producer.send(topics.input_topic, value=json.dumps({"url": "https://e.example/r", "text": "x"}).encode())
    producer.flush()
    producer.close()
    run = newsflow(
        "dlq", "replay", "--bootstrap-servers", kafka_broker.bootstrap, "--dlq-topic", topics.input_topic,
        "--to-topic", topics.input_topic, "--dry-run",
    )  # fmt: skip
    last = failure_line(run, 8)
    assert last["command"] == "dlq replay"
    assert f"topic '{topics.input_topic}' holds json records, not dead letters" in last["error"]


def test_a_busy_metrics_port_or_a_file_for_state_dir_stops_the_stream_before_any_work(
    kafka_broker, topics, tmp_path
):
    """With brokers that answer: told before the topic lookups and the fork server's NER model (the run
    looked up its topics' limits and loaded the model first, several seconds)."""
    (tmp_path / "a-file").write_text("not a directory\n")
    flags = ["--bootstrap-servers", kafka_broker.bootstrap, *topic_flags(topics), "--idle-timeout", "1"]
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        busy = newsflow("stream", *flags, "--metrics-port", str(port), "--state-dir", str(tmp_path / "s"))
    assert failure_line(busy, 2)["error"] == f"--metrics-port {port} on 127.0.0.1: Address already in use"
    assert [e["event"] for e in events(busy.stderr)] == ["command_failed"], busy.stderr
    state = newsflow("stream", *flags, "--state-dir", str(tmp_path / "a-file"))
    assert failure_line(state, 7)["error"] == f"--state-dir {tmp_path / 'a-file'}: not a directory"
    assert [e["event"] for e in events(state.stderr)] == ["command_failed"], state.stderr
