"""The local stream's dedup as the pooled chain's ``_Decide`` runs it, without the rest of the chain: the
unit tests that check dedup across micro-batches against the durable index drive it here."""

from __future__ import annotations

from apache_beam import pvalue
from apache_beam.utils.timestamp import Timestamp

from pipelines.chain_workers import _arrival_groups, _Item
from transforms.dedup import DedupSettings
from transforms.dedup.beam import InArrivalOrder, with_arrival
from transforms.records import Article, DuplicateVerdict


def decide_micro_batch(
    batch: list[tuple[Article, int]], state_dir: str, settings: DedupSettings | None = None
) -> tuple[list[Article], list[DuplicateVerdict]]:
    """One micro-batch of ``(article, Kafka timestamp in ms)``, in the order delivered: a new
    :class:`InArrivalOrder` on the index in ``state_dir`` (each batch's pipeline makes its own) set up, the
    batch's arrival groups decided in turn, its writes flushed, torn down. Survivors and verdicts."""
    dedup = InArrivalOrder(settings or DedupSettings(), state_dir)
    dedup.setup()
    kept: list[Article] = []
    dropped: list[DuplicateVerdict] = []
    try:
        items = [_Item(None, None, article=a, timestamp=Timestamp(micros=ms * 1000)) for a, ms in batch]
        for group in _arrival_groups(items):
            for out in dedup.decide(with_arrival(i.article, i.timestamp) for i in group):
                if isinstance(out, pvalue.TaggedOutput):
                    dropped.append(out.value)
                else:
                    kept.append(out)
        dedup.flush()
    finally:
        dedup.teardown()
    return kept, dropped
