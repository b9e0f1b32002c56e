"""A wiped state dir forgets nothing: ``newsflow stream`` restores its dedup index from the changelog topic.

Run 1 delivers distinct stories; the state dir is then deleted (a reboot that wiped it, a new machine).
Run 2, same consumer group, reads copies of every story (exact copies under other URLs, syndicated near
copies, re-crawls of the same URLs) and a few new ones: it must rebuild the index from
``<group>-dedup-changelog`` before its first batch and catch every copy as a duplicate of a run-1 article.
"""

from __future__ import annotations

import contextlib
import shutil
import uuid

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType
from structlog.testing import capture_logs

from tests.dedup_batches import first_batch, produce, read_topic, second_batch, stories, stream
from transforms.dedup import SqliteStore
from transforms.dedup import restore as restore_module
from transforms.dedup.changelog import Changelog, ChangelogStore, encode
from transforms.dedup.restore import ensure_topic, prepare
from transforms.settings import KafkaSettings

pytestmark = pytest.mark.integration


def test_every_duplicate_is_caught_after_the_state_dir_is_wiped(kafka_broker, topics, tmp_path):
    settings = KafkaSettings(bootstrap_servers=kafka_broker.bootstrap)
    group = f"wipe-{uuid.uuid4().hex[:8]}"
    state = tmp_path / "state"
    docs = stories(12)
    originals, fresh = docs[:9], docs[9:]
    produce(settings, topics.input_topic, first_batch(originals))
    first_run = stream(kafka_broker.bootstrap, topics, group, state, idle_timeout=4, timeout=300)
    assert any(e["event"] == "dedup_changelog_created" for e in first_run)
    ids = {a["url"]: a["id"] for a in read_topic(settings, topics.output_topic)}
    assert len(ids) == len(originals)

    changelog = f"{group}-dedup-changelog"
    with contextlib.closing(KafkaAdminClient(bootstrap_servers=[kafka_broker.bootstrap])) as admin:
        described = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, changelog)])
    assert described["topic"][changelog]["cleanup.policy"]["value"] == "compact"

    shutil.rmtree(state)

    second, copies = second_batch(originals, fresh, ids)  # copies: copy url -> id of the run-1 article
    produce(settings, topics.input_topic, second)

    second_run = stream(kafka_broker.bootstrap, topics, group, state, idle_timeout=4, timeout=300)
    restored = [e for e in second_run if e["event"] == "dedup_restored"]
    assert len(restored) == 1 and restored[0]["keys_written"] > 0, second_run[-5:]
    assert (state / "dedup-index.sqlite3").exists()

    verdicts = {v["url"]: v for v in read_topic(settings, topics.duplicates_topic)}
    assert {url: v["duplicate_of"] for url, v in verdicts.items()} == copies
    delivered = [a["url"] for a in read_topic(settings, topics.output_topic)]
    assert sorted(u for u in delivered if u not in ids) == [
        f"https://new.example/{i}" for i in range(len(fresh))
    ]
    assert len(delivered) == len(originals) + len(fresh)  # nothing delivered twice


def test_an_index_from_before_the_changelog_is_seeded_then_restored_whole(kafka_broker, tmp_path):
    """The upgrade path on the real broker: a state dir whose index no changelog backs is copied to the
    topic at start-up (``seed``); a wiped one is then rebuilt from it, row for row, tombstones applied."""
    settings = KafkaSettings(bootstrap_servers=kafka_broker.bootstrap)
    changelog = Changelog(settings, f"upgrade-{uuid.uuid4().hex[:8]}-dedup-changelog")
    with contextlib.closing(KafkaAdminClient(bootstrap_servers=[kafka_broker.bootstrap])) as admin:
        assert ensure_topic(admin, changelog.topic)
    old = tmp_path / "old"
    store = SqliteStore(old)
    rows = [(b"k%05d" % i, b"blob-%d" % i, 1_000 + i) for i in range(12_000)]  # > one restore transaction
    store.put_many(rows)
    store.close()
    assert prepare(settings, changelog, old) == "seed"
    assert prepare(settings, changelog, old) == "none"  # backed now: nothing to do at the next start
    live = ChangelogStore(SqliteStore(old), changelog)
    assert live.expire(1_010) == 10  # tombstones for k00000..k00009
    live.put_many([(b"k00010", b"rewritten", 5_000)])
    live.close()
    wiped = tmp_path / "wiped"
    assert prepare(settings, changelog, wiped) == "restore"
    restored, original = SqliteStore(wiped, read_only=True), SqliteStore(old, read_only=True)
    assert list(restored.rows()) == list(original.rows())
    assert restored.size() == (11_990, original.size()[1])


def test_changelog_records_deleted_under_a_restore_are_counted_and_the_rest_restored(
    kafka_broker, tmp_path, monkeypatch
):
    """The restore looked up the changelog's start (offset 0), then retention (the topic's cleanup policy
    made ``compact,delete``) or delete-records took offsets 0-3 before it read them. It names and counts
    the 4 lost offsets, says the index lost entries, and restores the 6 keys still on the log (before:
    kafka-python's ``latest`` reset moved it to the log end and it restored nothing, silently)."""
    settings = KafkaSettings(bootstrap_servers=kafka_broker.bootstrap)
    topic = f"retention-{uuid.uuid4().hex[:8]}-dedup-changelog"
    with contextlib.closing(KafkaAdminClient(bootstrap_servers=[kafka_broker.bootstrap])) as admin:
        assert ensure_topic(admin, topic)
        # retention added by an operator (Kafka refuses delete-records on a topic that is only compacted)
        admin.alter_configs(
            [ConfigResource(ConfigResourceType.TOPIC, topic, {"cleanup.policy": "compact,delete"})]
        )
    producer = KafkaProducer(**settings.producer_kwargs())
    for i in range(10):
        producer.send(topic, key=b"k%d" % i, value=encode(b"blob-%d" % i, 1_000 + i), partition=0)
    producer.flush()
    producer.close()

    class DeletedAfterTheLookup(KafkaConsumer):
        def seek_to_beginning(self, *partitions: TopicPartition) -> None:
            for tp in partitions:
                self.seek(tp, 0)  # where the log began when the restore looked
            with contextlib.closing(KafkaAdminClient(bootstrap_servers=[kafka_broker.bootstrap])) as admin:
                admin.delete_records({TopicPartition(topic, 0): 4})

    monkeypatch.setattr(restore_module, "KafkaConsumer", DeletedAfterTheLookup)
    store = SqliteStore(tmp_path / "state")
    with capture_logs() as logs:
        done = restore_module.restore(settings, topic, store)
    assert [k for chunk in store.rows() for k, _, _ in chunk] == [b"k%d" % i for i in range(4, 10)]
    assert done.complete and done.keys == 6 and done.lost == 4
    lost = [e for e in logs if e["event"] == "kafka_offsets_lost"]
    assert [(e["first"], e["last"], e["count"], e["found_by"]) for e in lost] == [(0, 3, 4, "dedup restore")]
    restored = [e for e in logs if e["event"] == "dedup_restored"]
    assert restored[0]["log_level"] == "warning" and restored[0]["records_lost"] == 4
