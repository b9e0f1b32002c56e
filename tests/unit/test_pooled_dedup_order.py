"""The chain workers' dedup decides a batch in parts, each as soon as its articles are back from NER
(``pipelines.chain_workers._arrival_groups``): its decisions must be those of the whole batch decided at
once (one ``InArrivalOrder.decide`` call over all of it), over generated arrivals with ties in the
Kafka timestamp, batches handed over in any order, and copies exact and near."""

from __future__ import annotations

from apache_beam import pvalue
from apache_beam.utils.timestamp import Timestamp
from hypothesis import given, settings

from pipelines.chain_workers import _arrival_groups, _Item
from tests.dedup_arrivals import Scenario, scenarios
from transforms.dedup import DedupSettings
from transforms.dedup.beam import InArrivalOrder, with_arrival


def outcome(out) -> tuple:
    if isinstance(out, pvalue.TaggedOutput):
        return ("duplicate", out.value.id, out.value.duplicate_of, out.value.method)
    return ("article", out.id, out.dedup.cluster_id)


@given(scenario=scenarios(max_copies=25, max_clusters=2))
@settings(max_examples=25, deadline=None)
def test_a_batch_decided_in_arrival_groups_is_decided_as_the_whole_batch(
    scenario: Scenario, tmp_path_factory
):
    whole = InArrivalOrder(DedupSettings(), str(tmp_path_factory.mktemp("whole")))
    parts = InArrivalOrder(DedupSettings(), str(tmp_path_factory.mktemp("parts")))
    whole.setup()
    parts.setup()
    try:
        for batch in scenario.batches:
            items = [
                _Item(None, None, article=copy.article(), timestamp=Timestamp(micros=copy.arrival_ms * 1000))
                for copy in batch
            ]
            expected = [
                outcome(o) for o in whole.decide([with_arrival(i.article, i.timestamp) for i in items])
            ]
            whole.flush()
            got = []
            for group in _arrival_groups(items):
                got += [outcome(o) for o in parts.decide(with_arrival(i.article, i.timestamp) for i in group)]
            parts.flush()
            assert got == expected
    finally:
        whole.teardown()
        parts.teardown()
