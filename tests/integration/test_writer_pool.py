"""The local stream's writers: Kafka producers kept per process between pipeline runs (its micro-batches),
the writer of the next run taking the one the last run gave back and one that failed a delivery closed, not
kept; and each output written as the step that makes it yields it."""

from __future__ import annotations

import time
import uuid

import apache_beam as beam
import pytest
from apache_beam.runners.portability.fn_api_runner import FnApiRunner
from kafka import KafkaAdminClient
from kafka.admin import NewTopic

from pipelines.cli.topic_reader import records_to_end
from pipelines.devkafka.broker import LocalBroker
from pipelines.options import Topics
from pipelines.stream import WriteOutputs
from pipelines.summary import counters
from transforms.client_pool import WRITERS
from transforms.kafka_io import OutMessage, WriteToKafka
from transforms.records import Article, SourcePosition

pytestmark = pytest.mark.integration
SMALL = 2_000
"""max.message.bytes of the topic that refuses a bigger record (the broker's delivery error)."""


def run_writes(settings, topic: str, values: list[bytes]) -> int:
    """One bounded pipeline on the local runner writing ``values`` to ``topic``; the records it counted
    as written (acknowledged)."""
    messages = [OutMessage(topic, None, v, SourcePosition("in", 0, i), ()) for i, v in enumerate(values)]
    pipeline = beam.Pipeline(runner=FnApiRunner())
    pipeline | beam.Create(messages) | beam.ParDo(WriteToKafka(settings, flush_timeout=30))
    result = pipeline.run()
    result.wait_until_finish()
    return counters(result).get("kafka.records_written", 0)


def idle(settings) -> list:
    return WRITERS.idle(settings.producer_kwargs())


def test_the_next_run_writes_with_the_producer_the_last_gave_back_and_a_failed_one_is_not_kept(
    kafka_broker: LocalBroker,
):
    settings = kafka_broker.settings()
    name = f"wp-{uuid.uuid4().hex[:8]}"
    admin = KafkaAdminClient(**settings.client_kwargs())
    try:
        admin.create_topics(
            [
                NewTopic(f"{name}.ok", 1, 1),
                NewTopic(f"{name}.small", 1, 1, topic_configs={"max.message.bytes": str(SMALL)}),
            ]
        )
        admin.wait_for_topics([f"{name}.ok", f"{name}.small"], timeout_ms=30_000)
    finally:
        admin.close()
    WRITERS.close()
    try:
        assert run_writes(settings, f"{name}.ok", [b"a", b"b"]) == 2
        kept = idle(settings)
        assert len(kept) == 1, "the run's producer was given back"
        assert run_writes(settings, f"{name}.ok", [b"c"]) == 1
        assert idle(settings) == kept, "and the next run wrote with it"
        with pytest.raises(Exception, match="MessageSizeTooLarge|TooLarge"):
            run_writes(settings, f"{name}.small", [b"x" * (4 * SMALL)])
        assert idle(settings) == [], "a producer that failed a delivery is not kept"
        assert kept[0]._closed
        assert sorted(r.value for r in records_to_end(settings, [f"{name}.ok"])) == [b"a", b"b", b"c"]
    finally:
        WRITERS.close()


SEEN: dict[str, bool] = {}
"""What the step below saw on the output topic (the local runner runs it in this process)."""


class _OneThenTheOther(beam.DoFn):
    """Yields a first article, waits (up to 30 s) for its record on the output topic, then a second."""

    def __init__(self, settings, topic: str) -> None:
        self.settings = settings
        self.topic = topic

    def process(self, element: int):
        yield Article(id="first", body="first body", source_position=SourcePosition("in", 0, 0))
        deadline = time.monotonic() + 30
        while not (seen := any(True for _ in records_to_end(self.settings, [self.topic]))):
            if time.monotonic() > deadline:
                break
            time.sleep(0.2)
        SEEN[self.topic] = seen
        yield Article(id="second", body="second body", source_position=SourcePosition("in", 0, 1))


def test_an_output_is_written_as_its_step_makes_it_not_after_the_step_ends(kafka_broker: LocalBroker):
    """The local stream's outputs (three topics) are written while the batch is still being decided: no
    stage boundary between the step that makes them and the writers."""
    settings = kafka_broker.settings()
    name = f"wo-{uuid.uuid4().hex[:8]}"
    topics = Topics(*(f"{name}.{t}" for t in ("raw", "clean", "duplicates", "dlq")))
    kafka_broker.create_topics(topics.all(), partitions=1)
    pipeline = beam.Pipeline(runner=FnApiRunner())
    articles = pipeline | beam.Create([0]) | beam.ParDo(_OneThenTheOther(settings, topics.output_topic))
    outputs = {
        "articles": articles,
        "duplicates": pipeline | "NoDuplicates" >> beam.Create([]),
        "dlq": pipeline | "NoDeadLetters" >> beam.Create([]),
    }
    outputs | WriteOutputs(settings, topics)
    pipeline.run().wait_until_finish()
    assert SEEN[topics.output_topic], "the first article was written before the second was made"
    assert len(list(records_to_end(settings, [topics.output_topic]))) == 2
