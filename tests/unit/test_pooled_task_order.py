"""The order the chain workers take a micro-batch's tasks in: every cleaning task before any NER task of
the batch (dedup decides nothing before the batch is through learned boilerplate, so NER before the last
cleaning only left the decisions, and the writing, for the batch's end), NER in arrival order, and every
task of the batch before the next batch's."""

from __future__ import annotations

from concurrent.futures import Future

from pipelines.chain_workers import PRIORITY_STEP, _Articles
from transforms.kafka_io import KafkaRecord
from transforms.records import Article, SourcePosition


class _RecordingPool:
    """Stands in for the worker pool: answers each task at once and keeps its priority."""

    def __init__(self) -> None:
        self.asked: list[tuple[int, str, int]] = []

    def submit(self, priority: int, task: tuple[str, object]) -> Future:
        kind, element = task
        done: Future = Future()
        offset = element.offset if kind == "clean" else element.source_position.offset
        self.asked.append((priority, kind, offset))
        pos = SourcePosition("in", 0, offset)
        done.set_result(("ok", Article(id=str(offset), body="A body.", source_position=pos), {}))
        return done


def test_a_batch_is_cleaned_before_its_ner_and_all_of_it_runs_before_the_next_batch():
    pool = _RecordingPool()
    this, after = _Articles(pool, None, True, PRIORITY_STEP), _Articles(pool, None, True, 2 * PRIORITY_STEP)
    for articles in (this, after):
        for offset in (3, 1, 2, 0):  # added out of arrival order (the timestamps say 0, 1, 2, 3)
            articles.add(KafkaRecord("in", 0, offset, None, b"{}", 1_000 + offset))
        articles.learn()
    taken = [(kind, offset) for _, kind, offset in sorted(pool.asked)]
    batch = [("clean", o) for o in (3, 1, 2, 0)] + [("entities", o) for o in (0, 1, 2, 3)]
    assert taken == batch + batch
