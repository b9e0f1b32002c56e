"""Kafka operations newsflow did not cause, on the real broker, under the real ``newsflow stream``:
retention deleting records not read yet, a committed offset past the log end, partitions added, the input
topic deleted, an article too large for the output topic. Our standard: nothing lost silently (every record
dropped is counted and named), nothing stuck, no input holding its partition past a bounded time.

Every stream here runs ``--passthrough`` with one worker (no NER model to load): what is tested is the
Kafka side, which the full chain shares.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections import Counter

import apache_beam as beam
import pytest
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.runners.portability.fn_api_runner import FnApiRunner
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType, NewPartitions
from kafka.structs import OffsetAndMetadata
from structlog.testing import capture_logs

from pipelines.cli.commands.consume import iter_records
from pipelines.options import Topics
from tests.cli_runs import command, topic_flags
from transforms.kafka_io import GAPS_TAG, PartitionRange, ReadFromKafka, StartRule, resolve_ranges
from transforms.settings import KafkaSettings

pytestmark = pytest.mark.integration


def _article(n: int, size: int = 1) -> bytes:
    return json.dumps(
        {"url": f"https://ops.example/{n}", "text": f"Story {n} of the wire. " * 20 * size}
    ).encode()


def _produce(settings: KafkaSettings, topic: str, per_partition: dict[int, int], first: int = 0) -> None:
    producer = KafkaProducer(**settings.producer_kwargs())
    n = first
    for partition, count in per_partition.items():
        for _ in range(count):
            producer.send(topic, _article(n), partition=partition)
            n += 1
    producer.flush()
    producer.close()


def _stream_command(bootstrap: str, topics: Topics, group: str, tmp_path, *extra: str) -> list[str]:
    return command(
        "stream", "--bootstrap-servers", bootstrap, *topic_flags(topics), "--group-id", group,
        "--passthrough", "true", "--workers", "1", "--state-dir", str(tmp_path / group), *extra,
    )  # fmt: skip


def _run(cmd: list[str], timeout: float) -> subprocess.CompletedProcess:
    """The command to its end; still running after ``timeout`` is a stall: fail with what it logged last."""
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        logged = (exc.stderr or b"").decode(errors="replace").splitlines()
        pytest.fail(f"still running after {timeout:g} s; it logged last:\n" + "\n".join(logged[-12:]))


def _events(stderr: str, name: str) -> list[dict]:
    return [e for e in map(json.loads, stderr.splitlines()) if e.get("event") == name]


def _delivered(settings: KafkaSettings, topics: Topics) -> dict[str, Counter]:
    """Per output topic, how many outputs name each source (partition, offset)."""
    out = {}
    for kind, topic in (("clean", topics.output_topic), ("dlq", topics.dlq_topic)):
        seen: Counter = Counter()
        for _, _, _, record in iter_records(settings, topic):
            seen[(record["source_position"]["partition"], record["source_position"]["offset"])] += 1
        out[kind] = seen
    return out


def _offsets(settings: KafkaSettings, topic: str, group: str) -> tuple[dict, dict, dict]:
    """The group's committed offsets, the log start and the log end offsets, by partition."""
    consumer = KafkaConsumer(**settings.consumer_kwargs(group))
    try:
        tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic))]
        return (
            {tp.partition: consumer.committed(tp) for tp in tps},
            {tp.partition: o for tp, o in consumer.beginning_offsets(tps).items()},
            {tp.partition: o for tp, o in consumer.end_offsets(tps).items()},
        )
    finally:
        consumer.close(autocommit=False)


def _commit(settings: KafkaSettings, topic: str, group: str, offsets: dict[int, int]) -> None:
    """Commit for a group with no member, as ``kafka-consumer-groups --reset-offsets`` does."""
    consumer = KafkaConsumer(**settings.consumer_kwargs(group))
    try:
        consumer.commit({TopicPartition(topic, p): OffsetAndMetadata(o, "", -1) for p, o in offsets.items()})
    finally:
        consumer.close(autocommit=False)


def test_records_deleted_before_they_were_read_are_counted_and_an_offset_past_the_end_starts_over(
    kafka_broker, topics, tmp_path
):
    """Partition 0: the group is at 3, retention (here delete-records) took offsets 0-6: the 4 offsets
    3-6 are lost, counted and named, and the stream goes on from 7 (before: it re-ran [7, 10) for ever,
    writing it again each time, because its commit frontier waited for offset 3). Partition 1: the group
    is at 50, past the log end (10: the topic was made again, or an admin set it): it starts over from 0
    (before: nothing of it was read, and the run went idle)."""
    settings = kafka_broker.settings()
    group = "retention"
    _produce(settings, topics.input_topic, {0: 10, 1: 10})
    _commit(settings, topics.input_topic, group, {0: 3, 1: 50})
    admin = KafkaAdminClient(bootstrap_servers=kafka_broker.bootstrap)
    try:
        admin.delete_records({TopicPartition(topics.input_topic, 0): 7})
    finally:
        admin.close()

    done = _run(_stream_command(kafka_broker.bootstrap, topics, group, tmp_path, "--idle-timeout", "4"), 90)
    assert done.returncode == 0, done.stderr[-3000:]
    delivered = _delivered(settings, topics)
    assert delivered["clean"] == Counter({(0, o): 1 for o in range(7, 10)} | {(1, o): 1 for o in range(10)})
    committed, _, ends = _offsets(settings, topics.input_topic, group)
    assert committed == ends
    lost = _events(done.stderr, "kafka_offsets_lost")
    assert [(e["partition"], e["first"], e["last"], e["count"]) for e in lost] == [
        (f"{topics.input_topic}:0", 3, 6, 4)
    ]
    assert _events(done.stderr, "run_summary")[0]["kafka.offsets_lost"] == 4
    past = _events(done.stderr, "kafka_offset_past_log_end")
    assert [(e["partition"], e["committed"], e["log_end"]) for e in past] == [
        (f"{topics.input_topic}:1", 50, 10)
    ]


_READ: list = []


def _keep_record(record) -> None:
    _READ.append(("record", record.offset))  # the in-process runner: this module's list, by reference


def _keep_gap(ack) -> None:
    _READ.append(("gap", ack.first, ack.last))


def test_a_reader_whose_offsets_are_deleted_under_it_acknowledges_them_as_lost_and_reads_the_rest(
    kafka_broker, topics
):
    """A range read after retention took part of it (between the range's lookup and its read, or in a
    long batch): the reader goes on from the log start, and the offsets it could not read are counted and
    acknowledged (the commit frontier moves past them). Before: kafka-python's default reset moved the
    reader to the log end, and the range's records still on the log were acknowledged unread."""
    settings = kafka_broker.settings()
    _produce(settings, topics.input_topic, {0: 10})
    admin = KafkaAdminClient(bootstrap_servers=kafka_broker.bootstrap)
    try:
        admin.delete_records({TopicPartition(topics.input_topic, 0): 6})
    finally:
        admin.close()
    _READ.clear()
    pipeline = beam.Pipeline(runner=FnApiRunner())
    read = pipeline | ReadFromKafka(settings, [PartitionRange(topics.input_topic, 0, 0, 10)], bounded=True)
    read.records | "Records" >> beam.Map(_keep_record)
    read[GAPS_TAG] | "Gaps" >> beam.Map(_keep_gap)
    result = pipeline.run()
    result.wait_until_finish()
    assert sorted(_READ) == [("gap", 0, 5)] + [("record", o) for o in range(6, 10)]
    lost = result.metrics().query(MetricsFilter().with_name("kafka.offsets_lost"))["counters"]
    assert sum(c.committed for c in lost) == 6


def _drained_stream(kafka_broker, topics: Topics, group: str, tmp_path) -> subprocess.Popen:
    """A stream that has read and committed 2 records on each of partitions 0 and 1, and runs on."""
    settings = kafka_broker.settings()
    _produce(settings, topics.input_topic, {0: 2, 1: 2})
    cmd = _stream_command(kafka_broker.bootstrap, topics, group, tmp_path, "--idle-timeout", "120")
    process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while _offsets(settings, topics.input_topic, group)[0] != {0: 2, 1: 2, 2: 0, 3: 0}:
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            pytest.fail("the stream did not drain: " + process.communicate()[1][-3000:])
        time.sleep(0.5)
    return process


def _delete_topic(bootstrap: str, topic: str) -> None:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        admin.delete_topics([topic])
    finally:
        admin.close()


def _exit_naming(process: subprocess.Popen, topic: str, timeout: float) -> float:
    """The stream exits 6 with one failure line naming ``topic`` as missing; the seconds it took."""
    began = time.monotonic()
    try:
        _, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        _, err = process.communicate()
        pytest.fail(
            f"the stream did not stop in {timeout:.0f} s; it logged last:\n"
            + "\n".join(err.splitlines()[-8:])
        )
    took = time.monotonic() - began
    assert process.returncode == 6 and "Traceback" not in err, err[-3000:]
    (failed,) = _events(err, "command_failed")  # then kafka-python's repeated warnings, summed
    assert failed["reason"] == "unknown_topic", failed
    assert topic in failed["error"] and "does not exist" in failed["error"], failed
    return took


def test_the_input_topic_deleted_under_the_stream_stops_it_naming_the_topic(kafka_broker, topics, tmp_path):
    """Before: kafka-python retried the offsets of the deleted topic without a pause (thousands of requests
    a second, most of a core), the stream retried that for 10 minutes and did not stop on SIGTERM."""
    process = _drained_stream(kafka_broker, topics, "deleted", tmp_path)
    _delete_topic(kafka_broker.bootstrap, topics.input_topic)
    took = _exit_naming(process, topics.input_topic, timeout=45)
    assert took < 30, f"{took:.1f} s from the deletion to the exit"


def test_the_output_topic_deleted_under_the_stream_stops_it_naming_the_topic(kafka_broker, topics, tmp_path):
    """The producer retries a deleted topic as it retries a broker away, until its 120 s delivery timeout.
    Before: the stream waited those 120 s for the first failed write, then exited 6. Now a write that stalls
    has its topic checked within seconds: exit 6 naming it, and nothing committed past the unwritten
    output (a broker outage, where the check cannot reach the cluster, is still waited for:
    test_broker_faults.py)."""
    settings = kafka_broker.settings()
    group = "output-deleted"
    process = _drained_stream(kafka_broker, topics, group, tmp_path)
    _delete_topic(kafka_broker.bootstrap, topics.output_topic)
    _produce(settings, topics.input_topic, {0: 1, 2: 1}, first=4)
    took = _exit_naming(process, topics.output_topic, timeout=100)
    assert took < 30, f"{took:.1f} s from the deletion to the exit"
    assert _offsets(settings, topics.input_topic, group)[0] == {0: 2, 1: 2, 2: 0, 3: 0}


def test_an_article_too_large_for_the_output_topic_goes_to_the_dlq(kafka_broker, topics, tmp_path):
    """The raw topic takes larger messages than the output topic. Before: the broker refused the article's
    record on every retry; the stream failed 5 batches and exited 1 ("a bug?"), and would meet it again
    on every restart: one article held every partition."""
    settings = kafka_broker.settings()
    admin = KafkaAdminClient(bootstrap_servers=kafka_broker.bootstrap)
    try:
        admin.alter_configs(
            [
                ConfigResource(
                    ConfigResourceType.TOPIC, topics.output_topic, configs={"max.message.bytes": "20000"}
                )
            ]
        )
    finally:
        admin.close()
    producer = KafkaProducer(**settings.producer_kwargs())
    for n, size in enumerate((1, 60, 1)):  # the second's clean record is about 28 KB
        producer.send(topics.input_topic, _article(n, size), partition=0)
    producer.flush()
    producer.close()
    group = "large"
    done = _run(_stream_command(kafka_broker.bootstrap, topics, group, tmp_path, "--idle-timeout", "4"), 90)
    assert done.returncode == 0, done.stderr[-3000:]
    delivered = _delivered(settings, topics)
    assert delivered == {"clean": Counter({(0, 0): 1, (0, 2): 1}), "dlq": Counter({(0, 1): 1})}
    letter = next(record for _, _, _, record in iter_records(settings, topics.dlq_topic))
    assert (letter["stage"], letter["error_type"]) == ("write", "LimitExceeded")
    assert letter["original"] == _article(1, 60)
    assert _offsets(settings, topics.input_topic, group)[0][0] == 3


def test_partitions_added_under_the_stream_are_read_from_their_first_record(kafka_broker, topics, tmp_path):
    """With ``--auto-offset-reset latest`` (a new group starts at the end), partitions added later hold
    new records, not old ones. Before: the stream saw them only after 5 minutes (kafka-python's metadata
    age) and then started them at their end, skipping what was written to them meanwhile; and in 2 of 6
    runs on a loaded machine never (the group member's rebalance, begun, was never finished:
    ``group_membership.hold_rejoin``)."""
    settings = kafka_broker.settings()
    group = "grown"
    cmd = _stream_command(
        kafka_broker.bootstrap,
        topics,
        group,
        tmp_path,
        "--idle-timeout",
        "60",
        "--auto-offset-reset",
        "latest",
    )
    process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while None in _offsets(settings, topics.input_topic, group)[0].values():
            assert time.monotonic() < deadline and process.poll() is None, "the stream did not start"
            time.sleep(0.5)
        admin = KafkaAdminClient(bootstrap_servers=kafka_broker.bootstrap)
        try:
            admin.create_partitions({topics.input_topic: NewPartitions(6)})
        finally:
            admin.close()
        _produce(settings, topics.input_topic, {0: 1, 4: 2, 5: 2})
        added = time.monotonic()
        wanted = {(0, 0), (4, 0), (4, 1), (5, 0), (5, 1)}
        while set(_delivered(settings, topics)["clean"]) != wanted:
            assert time.monotonic() - added < 90, (_delivered(settings, topics), "new partitions not read")
            time.sleep(1)
    finally:
        process.terminate()
        process.wait(timeout=60)
    assert _delivered(settings, topics)["clean"] == Counter({position: 1 for position in wanted})


def test_a_backfill_window_whose_start_was_deleted_says_so(kafka_broker, topics):
    """A time window over a partition whose first offsets were deleted: its first record still on the log
    is the log's first, so the window may have begun among the deleted ones. Before: nothing said so."""
    settings = kafka_broker.settings()
    _produce(settings, topics.input_topic, {0: 6, 1: 3})
    admin = KafkaAdminClient(bootstrap_servers=kafka_broker.bootstrap)
    try:
        admin.delete_records({TopicPartition(topics.input_topic, 0): 4})
    finally:
        admin.close()
    now = int(time.time() * 1000)
    window = StartRule(use_committed=False, start_ms=now - 3_600_000, stop_ms=now + 3_600_000)
    later = StartRule(use_committed=False, start_ms=now + 1_800_000, stop_ms=now + 3_600_000)
    with capture_logs() as logs:
        ranges = resolve_ranges(settings, [topics.input_topic], None, window)
        resolve_ranges(settings, [topics.input_topic], None, later)  # after every record: nothing lost
    assert [(r.partition, r.start, r.stop) for r in ranges][:2] == [(0, 4, 6), (1, 0, 3)]
    warned = [e for e in logs if e["event"] == "kafka_window_start_deleted"]
    assert [(e["partition"], e["deleted_below"]) for e in warned] == [(f"{topics.input_topic}:0", 4)]
