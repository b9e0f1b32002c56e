"""Consumer lag and broker reachability, looked up on a thread every few seconds.

Lag is taken from the brokers, not from the engine: the end offset of each partition of the input topic
minus the consumer group's committed offset, the definition Kafka's own tools and Burrow use. It is the
same for every runner (local micro-batches, Flink, Dataflow): all commit the same group's offsets. The
committed offsets moving is also what ``newsflow_seconds_since_last_commit`` measures. A look that fails
marks the brokers unreachable (``/readyz``) until one succeeds.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping

import structlog
from kafka import KafkaConsumer, TopicPartition

from pipelines.metrics import exporter
from transforms.settings import KafkaSettings

log = structlog.get_logger(__name__)

INTERVAL_S = 2.0
BOOTSTRAP_TIMEOUT_MS = 5000
"""A look at lost brokers gives up after this (not the client's 30 s): /readyz says so sooner."""


def partition_lags(
    end: Mapping[int, int], committed: Mapping[int, int | None], beginning: Mapping[int, int], reset: str
) -> dict[int, int]:
    """Lag per partition. Without a committed offset the group starts where ``reset`` says: from the
    beginning (all of the partition is lag) or from the end (none is)."""
    lags = {}
    for partition, stop in end.items():
        start = committed.get(partition)
        if start is None:
            start = beginning.get(partition, 0) if reset == "earliest" else stop
        lags[partition] = max(stop - start, 0)
    return lags


class BrokerWatch:
    """Every ``interval`` s: ask the brokers for the topic's end offsets and the group's committed offsets,
    and publish the lags, the brokers' reachability and each move of the committed offsets; without a
    topic and group (a backfill), only whether the brokers answer."""

    def __init__(
        self,
        kafka: KafkaSettings,
        topic: str | None,
        group_id: str | None,
        reset: str = "earliest",
        interval: float = INTERVAL_S,
    ) -> None:
        self.kafka = kafka
        self.topic = topic
        self.group_id = group_id
        self.reset = reset
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="metrics-broker-watch", daemon=True)
        self._consumer: KafkaConsumer | None = None
        self._committed: dict[int, int | None] | None = None
        self._reachable: bool | None = None

    def __enter__(self) -> BrokerWatch:
        exporter.require_broker()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=self.interval + 10)

    def _loop(self) -> None:
        while True:
            try:
                self.look()
            except Exception as exc:  # noqa: BLE001 - any failure means "not reachable", told once per outage
                if self._consumer is not None:
                    self._consumer.close(autocommit=False)
                    self._consumer = None
                if self._reachable is not False:
                    log.warning("metrics_broker_unreachable", error=type(exc).__name__)
                self._reachable = False
                exporter.broker_answered(False)
            else:
                self._reachable = True
                exporter.broker_answered(True)
            if self._stop.wait(self.interval):
                break
        if self._consumer is not None:
            self._consumer.close(autocommit=False)

    def look(self) -> None:
        if self._consumer is None:
            # the log end, not the last stable offset the stream reads to: records an open transaction
            # holds back are lag, so a partition it holds shows (read_committed would show it caught up)
            kwargs = {**self.kafka.consumer_kwargs(self.group_id), "isolation_level": "read_uncommitted"}
            self._consumer = KafkaConsumer(**kwargs, bootstrap_timeout_ms=BOOTSTRAP_TIMEOUT_MS)
        consumer = self._consumer
        if self.topic is None or self.group_id is None:
            consumer.topics()  # a metadata round trip: the brokers answer
            return
        partitions = sorted(consumer.partitions_for_topic(self.topic) or ())
        tps = [TopicPartition(self.topic, p) for p in partitions]
        end = {tp.partition: o for tp, o in consumer.end_offsets(tps).items()}
        beginning = {tp.partition: o for tp, o in consumer.beginning_offsets(tps).items()}
        committed = {tp.partition: consumer.committed(tp) for tp in tps}
        lags = partition_lags(end, committed, beginning, self.reset)
        exporter.set_lag({(self.topic, p): lag for p, lag in lags.items()})
        if self._committed is not None and committed != self._committed:
            exporter.committed()
        self._committed = committed
