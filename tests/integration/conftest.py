"""Fixtures for tests against a real Kafka broker, started here through ``pipelines.devkafka.broker``.

One broker per test session, on free ports in a temporary dir (never 9092, so a developer's own broker is
left alone), with a plain-text listener, a TLS listener and a SASL_SSL listener with SCRAM users and ACLs. Fault tests stop and start it through the
handle; :func:`topics` gives each test topics of its own so no test sees another's messages.
"""

from __future__ import annotations

import secrets
import subprocess
import uuid
from collections.abc import Callable, Iterator

import pytest

from pipelines.devkafka import broker
from pipelines.devkafka.broker import LocalBroker, SaslListener
from pipelines.devkafka.tls import TlsMaterial, make_tls_material
from pipelines.options import Topics
from tests.cli_runs import newsflow, topic_flags


@pytest.fixture(scope="session", autouse=True)
def user_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The user data dir of every ``newsflow`` these tests start, so a stream run without ``--state-dir``
    keeps its default state dir in this session's temp dir, not the developer's home."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("user-data")))
        yield


@pytest.fixture(scope="session")
def kafka_tls(tmp_path_factory: pytest.TempPathFactory) -> TlsMaterial:
    """A throw-away CA, broker keystore, truststore and client certificate for this session."""
    return make_tls_material(tmp_path_factory.mktemp("kafka-tls"))


SASL_USERS = ("newsflow", "no-read", "no-dlq-write")
"""SCRAM users of the session broker's SASL_SSL listener; the tests give each its ACLs."""


@pytest.fixture(scope="session")
def sasl_passwords() -> dict[str, str]:
    """A random password per SCRAM user, made for this session."""
    return {user: secrets.token_urlsafe(18) for user in SASL_USERS}


@pytest.fixture(scope="session")
def kafka_broker(
    tmp_path_factory: pytest.TempPathFactory, kafka_tls: TlsMaterial, sasl_passwords: dict[str, str]
) -> Iterator[LocalBroker]:
    """The session's broker: ``.bootstrap``, ``.ssl_bootstrap``, ``.sasl_bootstrap`` (SCRAM-SHA-512 users
    with ACLs enforced), ``.port``, ``.data_dir``, and ``.stop()``, ``.start()``, ``.restart()``,
    ``.stopped()``, ``.stop_for()`` for fault tests."""
    data_dir = tmp_path_factory.mktemp("kafka")
    handle = LocalBroker.launch(
        data_dir,
        ssl=kafka_tls.listener(broker.free_port()),
        sasl=SaslListener(broker.free_port(), sasl_passwords),
    )
    try:
        yield handle
    finally:
        broker.down(data_dir)


@pytest.fixture
def topics(kafka_broker: LocalBroker) -> Topics:
    """Four fresh topics (4 partitions each) for one test, named like the pipeline's with a unique prefix."""
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    fresh = Topics(
        input_topic=f"{prefix}.raw",
        output_topic=f"{prefix}.clean",
        duplicates_topic=f"{prefix}.duplicates",
        dlq_topic=f"{prefix}.dlq",
    )
    kafka_broker.create_topics(fresh.all(), partitions=4)
    return fresh


@pytest.fixture
def run_stream(kafka_broker: LocalBroker, topics: Topics) -> Callable[..., subprocess.CompletedProcess]:
    """Run ``newsflow stream`` on this test's topics as a subprocess; extra flags are appended."""

    def run(*extra: str, timeout: float = 900) -> subprocess.CompletedProcess:
        bootstrap = ["--bootstrap-servers", kafka_broker.bootstrap]
        return newsflow("stream", *bootstrap, *topic_flags(topics), *extra, timeout=timeout)

    return run
