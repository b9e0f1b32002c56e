"""`newsflow stream --workers 2` on the real broker: the decisions of one worker, a clean stop that finishes
the running batch, and a killed worker replaced without losing a record."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from pipelines.cli.commands.consume import iter_records
from pipelines.devkafka.broker import free_port
from pipelines.options import Topics
from tests.shared_data import CONLL_TRAIN
from transforms.boilerplate.learned import LearnedConfig
from transforms.entities.conll import stories
from transforms.settings import KafkaSettings

pytestmark = pytest.mark.integration

FOOTER = "Sign up for our morning briefing and get the day's top stories from the wire in your inbox."
RUN_TIMES = {"failed_at", "detected_at"}  # when this run wrote the record: the rest must match


def inputs() -> list[bytes]:
    """Stories of one source sharing a footer (learned boilerplate), exact copies under other URLs, near
    copies (one sentence dropped), and poison pills for the DLQ."""
    texts = stories(CONLL_TRAIN, min_words=80)[:24]
    out = [
        {"url": f"https://wire.example/{i}", "source": "wire", "text": f"{t}\n\n{FOOTER}"}
        for i, t in enumerate(texts)
    ]
    out += [{"url": f"https://mirror.example/{i}", "text": texts[i]} for i in (1, 5, 17)]
    out += [
        {"url": f"https://near.example/{i}", "text": texts[i].rsplit(".", 2)[0] + "."} for i in (3, 11, 20)
    ]
    values = [json.dumps(e).encode() for e in out]
    return values + [b"not json at all", b'{"text": 42}', b"\xff\xfe\x00 broken"]


def produce(settings: KafkaSettings, topic: str, values: list[bytes]) -> set[tuple[int, int]]:
    producer = KafkaProducer(**settings.producer_kwargs())
    futures = [producer.send(topic, value=v, partition=i % 4) for i, v in enumerate(values)]
    sent = {(m.partition, m.offset) for m in (f.get(timeout=30) for f in futures)}
    producer.close()
    return sent


def outputs(settings: KafkaSettings, topics: Topics) -> dict[tuple[int, int], tuple[str, dict]]:
    """Every output record by the source position it names (a second output for one input fails)."""
    found: dict[tuple[int, int], tuple[str, dict]] = {}
    for topic in (topics.output_topic, topics.duplicates_topic, topics.dlq_topic):
        for _, _, name, record in iter_records(settings, topic):
            pos = record["source_position"]
            key = (pos["partition"], pos["offset"])
            assert key not in found, f"two outputs for input {key}"
            found[key] = (name, {k: v for k, v in record.items() if k not in RUN_TIMES})
    return found


def stream_command(bootstrap: str, topics: Topics, group: str, state: Path, *extra: str) -> list[str]:
    cmd = [sys.executable, "-m", "pipelines.cli", "--log-format", "json", "stream"]
    cmd += ["--bootstrap-servers", bootstrap, "--input-topic", topics.input_topic]
    cmd += ["--output-topic", topics.output_topic, "--duplicates-topic", topics.duplicates_topic]
    cmd += ["--dlq-topic", topics.dlq_topic, "--group-id", group, "--state-dir", str(state)]
    return cmd + ["--poll-interval", "0.5", *extra]


def output_topics(kafka_broker, topics: Topics, name: str) -> Topics:
    """Another set of output topics for a second run on the same input."""
    other = Topics(
        topics.input_topic,
        *(f"{t}.{name}" for t in (topics.output_topic, topics.duplicates_topic, topics.dlq_topic)),
    )
    kafka_broker.create_topics(other.all()[1:], partitions=4)
    return other


def committed(settings: KafkaSettings, topic: str, group: str) -> dict[int, int | None]:
    consumer = KafkaConsumer(**settings.consumer_kwargs(group))
    try:
        return {p: consumer.committed(TopicPartition(topic, p)) for p in range(4)}
    finally:
        consumer.close(autocommit=False)


def wait_for_line(path: Path, pattern: str, proc: subprocess.Popen, timeout: float = 120) -> re.Match:
    deadline = time.monotonic() + timeout
    while (found := re.search(pattern, path.read_text())) is None:
        assert proc.poll() is None, f"the stream exited early:\n{path.read_text()[-3000:]}"
        assert time.monotonic() < deadline, f"no {pattern!r} in the log:\n{path.read_text()[-3000:]}"
        time.sleep(0.2)
    return found


@contextlib.contextmanager
def running(cmd: list[str], log_path: Path, new_session: bool = False) -> Iterator[subprocess.Popen]:
    """The stream in the background, its output in ``log_path``; killed on the way out if a step failed
    before it ended, so a failing test leaves no stream behind."""
    with open(log_path, "w") as log_file:
        proc = subprocess.Popen(cmd, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=new_session)
        try:
            yield proc
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def test_two_workers_decide_as_one(kafka_broker, topics, tmp_path):
    settings = KafkaSettings(bootstrap_servers=kafka_broker.bootstrap)
    sent = produce(settings, topics.input_topic, inputs())
    found = {}
    for workers in (1, 2):
        out = output_topics(kafka_broker, topics, f"w{workers}")
        cmd = stream_command(kafka_broker.bootstrap, out, f"g{workers}", tmp_path / f"state{workers}")
        cmd += ["--workers", str(workers), "--batch-records", "8", "--idle-timeout", "3"]
        run = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stderr[-3000:]
        found[workers] = outputs(settings, out)
        assert found[workers].keys() == sent, "every input has exactly one output"
        if workers == 2:
            assert '"begun_ahead": true' in run.stderr, "batches ran on the work begun during the one before"
    for key in sorted(sent):
        assert found[2][key] == found[1][key], f"input {key} decided differently with two workers"
    kinds = [name for name, _ in found[2].values()]
    assert kinds.count("duplicate") >= 6 and kinds.count("dead_letter") == 3, kinds
    wire = sorted((k, r) for k, (name, r) in found[2].items() if name == "article" and r["source"] == "wire")
    config = LearnedConfig()
    # The footer is furniture once the site has shown it in min_others earlier articles, unless it would be
    # more than max_share of an article's body (then the article is left whole); which wire copies survive
    # dedup depends on arrival order across partitions.
    kept = [k for k, r in wire if FOOTER in r["body"] and len(FOOTER) <= config.max_share * len(r["body"])]
    assert len(wire) >= 18 and len(kept) <= config.min_others, kept


def test_a_batch_read_in_many_bundles_is_decided_as_one_worker_decides_it(kafka_broker, topics, tmp_path):
    """One micro-batch of every input, read one record per partition at a time (``--max-poll-records 1``),
    so the reader brings it in many bundles, the partitions interleaved, where the one-worker run reads each
    partition whole, one after another. The decisions and the cleaned bodies must still be the same: learned
    boilerplate and dedup follow arrival order, not the bundles."""
    settings = KafkaSettings(bootstrap_servers=kafka_broker.bootstrap)
    sent = produce(settings, topics.input_topic, inputs())
    runs = {}
    for workers, extra in ((1, []), (2, ["--max-poll-records", "1"])):  # side by side, to keep the test short
        out = output_topics(kafka_broker, topics, f"b{workers}")
        cmd = stream_command(kafka_broker.bootstrap, out, f"b{workers}", tmp_path / f"state{workers}")
        cmd += ["--workers", str(workers), "--batch-records", "100", "--idle-timeout", "2", *extra]
        runs[workers] = (
            out,
            subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True),
        )
    found = {}
    try:
        for workers, (out, proc) in runs.items():
            _, stderr = proc.communicate(timeout=300)
            assert proc.returncode == 0, stderr[-3000:]
            assert stderr.count('"micro_batch"') == 1, "the whole input in one batch"
            found[workers] = outputs(settings, out)
            assert found[workers].keys() == sent, "every input has exactly one output"
    finally:
        for _, proc in runs.values():  # none left behind by a failed step
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    for key in sorted(sent):
        assert found[2][key] == found[1][key], f"input {key} decided differently across bundles"
    config = LearnedConfig()
    wire = [r["body"] for name, r in found[2].values() if name == "article" and r["source"] == "wire"]
    kept = [b for b in wire if FOOTER in b and len(FOOTER) <= config.max_share * len(b)]
    assert len(wire) >= 18 and len(kept) <= config.min_others, "the footer was learned"


@pytest.mark.parametrize("stop", ["SIGTERM to the stream", "Ctrl-C to its process group"])
def test_a_stop_request_finishes_the_running_batch(kafka_broker, topics, tmp_path, stop):
    settings = KafkaSettings(bootstrap_servers=kafka_broker.bootstrap)
    sent = produce(settings, topics.input_topic, inputs())
    log_path = tmp_path / "stream.log"
    cmd = stream_command(kafka_broker.bootstrap, topics, "stop", tmp_path / "state", "--workers", "2")
    with running(cmd, log_path, new_session=True) as proc:
        wait_for_line(log_path, r'"event": "kafka_ranges"', proc)
        if stop.startswith("SIGTERM"):
            proc.send_signal(signal.SIGTERM)
        else:
            os.killpg(proc.pid, signal.SIGINT)
        assert proc.wait(timeout=180) == 0, log_path.read_text()[-3000:]
    log = log_path.read_text()
    assert log.count('"micro_batch"') == 1 and '"stop_requested"' in log
    assert outputs(settings, topics).keys() == sent, "the running batch was finished and written"
    end = {p: max(o for q, o in sent if q == p) + 1 for p in range(4)}
    assert committed(settings, topics.input_topic, "stop") == end, "and committed"


def wait_for_work(pid: int, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    """Until the process ``pid`` has used 50 ms of CPU more than when called (an idle worker uses none):
    it is working on a task. A fixed sleep missed the batch once reading it stopped waiting on the
    readers' connections."""
    ticks = os.sysconf("SC_CLK_TCK")

    def cpu() -> float:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / ticks

    start, deadline = cpu(), time.monotonic() + timeout
    while cpu() - start < 0.05:
        assert proc.poll() is None and time.monotonic() < deadline, "the worker never worked"
        time.sleep(0.005)


def test_a_killed_worker_is_replaced_and_nothing_is_lost(kafka_broker, topics, tmp_path):
    settings = KafkaSettings(bootstrap_servers=kafka_broker.bootstrap)
    sent = produce(settings, topics.input_topic, inputs())
    log_path = tmp_path / "stream.log"
    cmd = stream_command(kafka_broker.bootstrap, topics, "kill", tmp_path / "state", "--workers", "2")
    cmd += ["--idle-timeout", "3"]
    with running(cmd, log_path) as proc:
        pids = json.loads(wait_for_line(log_path, r'"pids": (\[[0-9, ]+\])', proc).group(1))
        wait_for_line(log_path, r'"event": "kafka_ranges"', proc)
        wait_for_work(pids[0], proc)  # into the batch's work, however soon the batch ends
        os.kill(pids[0], signal.SIGKILL)
        assert proc.wait(timeout=180) == 0, log_path.read_text()[-3000:]
    log = log_path.read_text()
    assert f'"pid": {pids[0]}, "exit_code": 137' in log, "the death was seen"
    assert '"event": "worker_replaced"' in log, "and the worker replaced"
    assert outputs(settings, topics).keys() == sent, "no record lost, none written twice"


def test_a_stopped_worker_is_replaced_and_nothing_is_lost(kafka_broker, topics, tmp_path):
    """SIGSTOP one worker in the middle of its work: no CPU, no answer. The pool kills it once it has held a
    task for the stall limit (30 s) without CPU, counts the restart (the metric too) and runs its tasks on a
    new worker; the batch ends and nothing is lost or written twice. Before: the stream waited for the
    stopped worker's answer for ever (one batch in 120 s, none after, until SIGCONT)."""
    settings = KafkaSettings(bootstrap_servers=kafka_broker.bootstrap)
    sent = produce(settings, topics.input_topic, inputs())
    log_path = tmp_path / "stream.log"
    port = free_port()
    cmd = stream_command(kafka_broker.bootstrap, topics, "hang", tmp_path / "state", "--workers", "2")
    cmd += ["--idle-timeout", "5", "--metrics-port", str(port)]
    restarts = 0.0
    with running(cmd, log_path) as proc:
        pids = json.loads(wait_for_line(log_path, r'"pids": (\[[0-9, ]+\])', proc).group(1))
        wait_for_line(log_path, r'"event": "kafka_ranges"', proc)
        wait_for_work(pids[0], proc)
        os.kill(pids[0], signal.SIGSTOP)
        deadline = time.monotonic() + 240
        while proc.poll() is None and time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                page = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
                found = re.search(r"^newsflow_worker_restarts_total (\S+)$", page, re.M)
                restarts = float(found.group(1)) if found else restarts
            time.sleep(0.2)
        assert proc.wait(timeout=10) == 0, log_path.read_text()[-3000:]
    log = log_path.read_text()
    assert f'"pid": {pids[0]}, "seconds_without_cpu"' in log, "the hang was seen"
    assert f'"pid": {pids[0]}, "exit_code": 137' in log, "the worker was killed"
    assert '"event": "worker_replaced"' in log and restarts >= 1, "replaced and counted"
    assert outputs(settings, topics).keys() == sent, "no record lost, none written twice"


def test_a_killed_stream_loses_nothing_and_writes_nothing_begun_ahead(kafka_broker, topics, tmp_path):
    settings = KafkaSettings(bootstrap_servers=kafka_broker.bootstrap)
    sent = produce(settings, topics.input_topic, inputs())
    log_path = tmp_path / "stream.log"
    cmd = stream_command(kafka_broker.bootstrap, topics, "crash", tmp_path / "state", "--workers", "2")
    cmd += ["--batch-records", "8", "--idle-timeout", "3"]
    with running(cmd, log_path) as proc:
        wait_for_line(log_path, r'"event": "micro_batch"', proc)  # the next batch is begun ahead by now
        proc.kill()
        proc.wait()
    done = committed(settings, topics.input_topic, "crash")
    written = sum(1 for p, o in sent if o < (done[p] or 0))
    assert written >= 8, "the first batch was committed"
    subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=True)
    again: dict[tuple[int, int], int] = {}
    for topic in (topics.output_topic, topics.duplicates_topic, topics.dlq_topic):
        for _, _, _, record in iter_records(settings, topic):
            pos = record["source_position"]
            again[(pos["partition"], pos["offset"])] = again.get((pos["partition"], pos["offset"]), 0) + 1
    assert again.keys() == sent, "no record lost"
    redelivered = sum(n - 1 for n in again.values())
    assert redelivered <= 8, f"{redelivered} outputs written twice: more than the running batch"


def test_a_record_coming_in_while_caught_up_ends_the_wait(kafka_broker, topics, tmp_path):
    """Caught up, the stream watches the end offsets: a record produced then is taken at once, not at the
    next look for a batch (an hour away here)."""
    settings = KafkaSettings(bootstrap_servers=kafka_broker.bootstrap)
    log_path = tmp_path / "stream.log"
    cmd = stream_command(kafka_broker.bootstrap, topics, "idle", tmp_path / "state", "--workers", "1")
    cmd += ["--entities", "false", "--poll-interval", "3600"]
    with running(cmd, log_path) as proc:
        wait_for_line(log_path, r'"event": "kafka_ranges"', proc)  # the first look: nothing there
        time.sleep(1.0)
        sent = produce(settings, topics.input_topic, inputs()[:1])
        wait_for_line(log_path, r'"event": "micro_batch"', proc, timeout=60)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0, log_path.read_text()[-3000:]
    assert outputs(settings, topics).keys() == sent
