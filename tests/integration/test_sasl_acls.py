"""Authentication and authorisation for real: the session broker's SASL_SSL listener (SCRAM-SHA-512 users
made at format time, KRaft's StandardAuthorizer). With the right credentials and the ACLs the README lists,
produce, stream, consume and backfill work; a wrong password or a missing ACL ends in one clear line and
its exit code, with the password nowhere in the output."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import uuid
from datetime import UTC, datetime

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.admin import ACL, ACLOperation, ACLPermissionType, ResourcePattern, ResourceType

from pipelines.options import Topics
from tests.cli_runs import newsflow as run_cli
from tests.cli_runs import topic_flags
from tests.dedup_batches import stories

pytestmark = pytest.mark.integration

CHANGELOG_OPERATIONS = (ACLOperation.CREATE, ACLOperation.READ, ACLOperation.WRITE)
"""What the local stream needs on its dedup changelog topic (README, "ACLs newsflow needs")."""
STORY = "The central bank held rates on Thursday, its governor told reporters in Frankfurt. " * 5


def newsflow(
    *args: str, password: str, timeout: float = 600, level: str = "info"
) -> subprocess.CompletedProcess:
    """The CLI as a user runs it, the password in the environment (where the README says it belongs)."""
    env = {**os.environ, "NEWSFLOW_SASL_PASSWORD": password}
    return run_cli("--log-level", level, *args, env=env, timeout=timeout)


def sasl(kafka_broker, kafka_tls, user: str) -> list[str]:
    return [
        "--bootstrap-servers", kafka_broker.sasl_bootstrap, "--security-protocol", "SASL_SSL",
        "--ssl-cafile", str(kafka_tls.ca_pem), "--sasl-mechanism", "SCRAM-SHA-512", "--sasl-username", user,
    ]  # fmt: skip


def allow(user: str, operation: ACLOperation, kind: ResourceType, name: str) -> ACL:
    return ACL(f"User:{user}", "*", operation, ACLPermissionType.ALLOW, ResourcePattern(kind, name))


@pytest.fixture
def guarded(kafka_broker, topics) -> tuple[Topics, str]:
    """This test's topics and a consumer group, with the ACLs newsflow needs for user ``newsflow`` (the
    README's list), and the same less one for each of the other users: ``no-read`` may not read the input,
    ``no-dlq-write`` may not write the dead-letter topic."""
    group = f"sasl-{uuid.uuid4().hex[:8]}"
    t = topics
    needs = [
        (ACLOperation.READ, ResourceType.TOPIC, t.input_topic),
        (ACLOperation.READ, ResourceType.GROUP, group),
        (ACLOperation.WRITE, ResourceType.TOPIC, t.output_topic),
        (ACLOperation.WRITE, ResourceType.TOPIC, t.duplicates_topic),
        (ACLOperation.WRITE, ResourceType.TOPIC, t.dlq_topic),
        *((op, ResourceType.TOPIC, f"{group}-dedup-changelog") for op in CHANGELOG_OPERATIONS),
    ]
    extra = [  # what this test itself does as that user: publish the input, read back the output
        (ACLOperation.WRITE, ResourceType.TOPIC, t.input_topic),
        (ACLOperation.READ, ResourceType.TOPIC, t.output_topic),
    ]
    # An ACL on the cluster for someone else guards it, so the runs below also show that newsflow needs no
    # cluster permission (its idempotent producer included).
    acls = [allow("nobody", ACLOperation.ALTER, ResourceType.CLUSTER, "kafka-cluster")]
    acls += [allow("newsflow", *need) for need in needs + extra]
    acls += [allow("no-read", *need) for need in needs if need[0] != ACLOperation.READ or need[2] == group]
    acls += [allow("no-dlq-write", *need) for need in needs if need[2] != t.dlq_topic]
    with contextlib.closing(KafkaAdminClient(bootstrap_servers=[kafka_broker.bootstrap])) as admin:
        result = admin.create_acls(acls)
    assert not result["failed"], result["failed"]
    return topics, group


def assert_one_clear_line(run: subprocess.CompletedProcess, code: int, *texts: str) -> dict:
    """Exit ``code``; the last stderr line is the failure, naming ``texts``; no traceback anywhere."""
    assert run.returncode == code, run.stderr[-3000:]
    assert "Traceback" not in run.stderr + run.stdout
    last = json.loads(run.stderr.strip().splitlines()[-1])
    assert last["event"] == "command_failed" and last["exit_code"] == code, last
    for text in texts:
        assert text in last["error"], last
    return last


def test_produce_stream_consume_backfill_with_the_right_credentials(
    kafka_broker, kafka_tls, guarded, sasl_passwords, tmp_path
):
    topics, group = guarded
    me = sasl(kafka_broker, kafka_tls, "newsflow")
    password = sasl_passwords["newsflow"]
    lines = [json.dumps({"url": f"https://sasl.example/{i}", "text": f"{i}. {STORY}"}) for i in range(6)]
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join([*lines, "not json"]) + "\n")

    produced = newsflow("produce", str(source), "--topic", topics.input_topic, *me, password=password)
    assert produced.returncode == 0, produced.stderr[-2000:]
    assert json.loads(produced.stdout)["sent"] == 7

    streamed = newsflow(
        "stream", *me, *topic_flags(topics), "--group-id", group, "--idle-timeout", "5",
        "--passthrough", "true", password=password,
    )  # fmt: skip
    assert streamed.returncode == 0, streamed.stderr[-3000:]

    clean = newsflow("consume", "--topic", topics.output_topic, *me, password=password)
    assert clean.returncode == 0, clean.stderr[-2000:]
    urls = sorted(json.loads(line)["url"] for line in clean.stdout.splitlines())
    assert urls == sorted(f"https://sasl.example/{i}" for i in range(6))

    out = tmp_path / "avro"
    backfilled = newsflow(
        "backfill", *me, *topic_flags(topics), "--day", datetime.now(UTC).date().isoformat(),
        "--output", str(out), "--workers", "1", "--passthrough", "true", password=password,
    )  # fmt: skip
    assert backfilled.returncode == 0, backfilled.stderr[-3000:]
    assert len(list(out.rglob("*.avro"))) >= 1
    for run in (produced, streamed, clean, backfilled):
        assert password not in run.stdout + run.stderr


def test_a_wrong_password_is_one_line_and_exit_3_without_the_password(
    kafka_broker, kafka_tls, guarded, tmp_path
):
    topics, group = guarded
    (tmp_path / "empty.jsonl").write_text("")
    wrong = "Wr0ng-" + uuid.uuid4().hex
    me = sasl(kafka_broker, kafka_tls, "newsflow")
    for args in (
        ("produce", str(tmp_path / "empty.jsonl"), "--topic", topics.input_topic),
        ("stream", *topic_flags(topics), "--group-id", group, "--connect-timeout", "30"),
    ):
        run = newsflow(*args, *me, password=wrong, timeout=120, level="debug")
        assert wrong not in run.stdout + run.stderr
        run = newsflow(*args, *me, password=wrong, timeout=120)
        assert_one_clear_line(run, 3, "authentication as user 'newsflow'", "SCRAM-SHA-512")
        assert wrong not in run.stdout + run.stderr
        assert len(run.stderr.strip().splitlines()) == 1, run.stderr


def test_the_dedup_changelog_is_created_and_written_with_only_the_acls_on_its_own_topic(
    kafka_broker, kafka_tls, guarded, sasl_passwords, tmp_path
):
    """The full local stream (not --passthrough) creates ``<group>-dedup-changelog`` with CREATE on that topic
    alone (the cluster is guarded) and mirrors its dedup index there."""
    topics, group = guarded
    me = sasl(kafka_broker, kafka_tls, "newsflow")
    password = sasl_passwords["newsflow"]
    story = stories(1)[0]
    lines = [json.dumps({"url": f"https://sasl.example/copy-{i}", "text": story}) for i in range(2)]
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(lines) + "\n")
    produced = newsflow("produce", str(source), "--topic", topics.input_topic, *me, password=password)
    assert produced.returncode == 0, produced.stderr[-2000:]
    streamed = newsflow(
        "stream", *me, *topic_flags(topics), "--group-id", group, "--idle-timeout", "5",
        "--entities", "false", "--learn-boilerplate", "false", "--state-dir", str(tmp_path / "state"),
        password=password,
    )  # fmt: skip
    assert streamed.returncode == 0, streamed.stderr[-3000:]
    assert '"dedup_changelog_created"' in streamed.stderr
    changelog = TopicPartition(f"{group}-dedup-changelog", 0)
    with contextlib.closing(KafkaConsumer(bootstrap_servers=[kafka_broker.bootstrap])) as consumer:
        assert consumer.end_offsets([changelog])[changelog] > 0  # the survivor's index keys
    assert password not in streamed.stdout + streamed.stderr


def test_a_missing_read_acl_names_the_topic_and_the_operation(
    kafka_broker, kafka_tls, guarded, sasl_passwords
):
    topics, group = guarded
    run = newsflow(
        "stream", *sasl(kafka_broker, kafka_tls, "no-read"), *topic_flags(topics), "--group-id", group,
        password=sasl_passwords["no-read"], timeout=120,
    )  # fmt: skip
    assert_one_clear_line(run, 5, f"topic '{topics.input_topic}'", "READ", "'no-read'")


def test_a_missing_write_acl_on_the_dlq_names_the_topic_and_the_operation(
    kafka_broker, kafka_tls, guarded, sasl_passwords
):
    topics, group = guarded
    run = newsflow(
        "stream", *sasl(kafka_broker, kafka_tls, "no-dlq-write"), *topic_flags(topics), "--group-id", group,
        password=sasl_passwords["no-dlq-write"], timeout=120,
    )  # fmt: skip
    assert_one_clear_line(run, 5, f"topic '{topics.dlq_topic}'", "WRITE", "'no-dlq-write'")
