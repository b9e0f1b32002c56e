"""The local stream's durable state: where it lives, and its dedup index restored before the first batch.

The state dir (dedup index, crash journal, originals too large for the DLQ) defaults to the user's data dir
(``platformdirs``: ``~/.local/share/newsflow/state/<group>--<topic>`` on Linux), which survives a reboot;
a service sets its own (``deploy/systemd/newsflow-stream.service``: ``NEWSFLOW_STATE_DIR``). Releases up to
0.2 kept it under the temp dir: a state dir found there is adopted once. Whatever the disk keeps, the dedup
index is also backed by a compacted changelog topic (:mod:`transforms.dedup.changelog`), so a wiped or new
state dir is rebuilt from the broker (:mod:`transforms.dedup.restore`).
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import platformdirs
import structlog
from kafka import errors as kafka_errors

from pipelines.failures import not_authorised
from pipelines.preflight import check, connect
from transforms.dedup.changelog import Changelog, changelog_topic
from transforms.dedup.restore import ensure_topic, prepare
from transforms.dedup.store import DB_NAME
from transforms.settings import KafkaSettings

log = structlog.get_logger(__name__)

NO_CHANGELOG = "none"


def _leaf(group_id: str, input_topic: str) -> str:
    """One directory per consumer group and input topic, as Kafka Streams keeps one per application id."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", f"{group_id}--{input_topic}")


def default_state_dir(group_id: str, input_topic: str) -> Path:
    """The state dir without ``--state-dir``: under the user's data dir, which a reboot keeps."""
    return Path(platformdirs.user_data_dir("newsflow")) / "state" / _leaf(group_id, input_topic)


def legacy_state_dir(group_id: str, input_topic: str) -> Path:
    """Where releases up to 0.2 kept it: under the temp dir (gone at reboot)."""
    return Path(tempfile.gettempdir()) / "newsflow-state" / _leaf(group_id, input_topic)


def state_dir_for(group_id: str, input_topic: str, given: str | None) -> str:
    """``given``, else the default, which first adopts a state dir left under the temp dir by an older
    release (copied whole, then renamed into place, so a crash never leaves half of one)."""
    if given:
        return given
    home = default_state_dir(group_id, input_topic)
    legacy = legacy_state_dir(group_id, input_topic)
    if not home.exists() and (legacy / DB_NAME).exists():
        staging = home.with_name(home.name + ".adopting")
        shutil.rmtree(staging, ignore_errors=True)
        shutil.copytree(legacy, staging)
        staging.rename(home)
        log.info("state_dir_adopted", state_dir=str(home), from_dir=str(legacy))
    log.info("state_dir_default", state_dir=str(home), note="--state-dir or NEWSFLOW_STATE_DIR sets another")
    return str(home)


def changelog_for(
    kafka: KafkaSettings,
    group_id: str,
    topic: str | None,
    state_dir: str,
    timeout: float,
    stopping: Callable[[], bool] = lambda: False,
) -> Changelog | None:
    """The dedup changelog (``topic``, default ``<group id>-dedup-changelog``; ``"none"`` for none): created
    if missing, its ACLs checked, and the state dir's index made to agree with it before any batch runs
    (a restore stops early when ``stopping()``, e.g. on SIGTERM)."""
    if topic == NO_CHANGELOG:
        log.warning("dedup_changelog_off", note="a wiped --state-dir forgets every delivered story")
        return None
    changelog = Changelog(kafka, topic or changelog_topic(group_id))
    admin = connect(kafka, timeout)
    try:
        ensure_topic(admin, changelog.topic)
    except (kafka_errors.TopicAuthorizationFailedError, kafka_errors.ClusterAuthorizationFailedError):
        principal = kafka.sasl_username if "SASL" in kafka.security_protocol else None
        raise not_authorised(f"topic {changelog.topic!r}", "CREATE", principal) from None
    finally:
        admin.close()
    check(kafka, read=[changelog.topic], write=[changelog.topic], timeout=timeout)
    prepare(kafka, changelog, state_dir, stopping)
    return changelog
