"""Beam's look at DoFn method arguments, remembered per class (``local_stream._remember_method_arguments``):
the same answers as Beam's own, so the same state, timer and parameter handling, for every DoFn of the
stream's batch; a method set on one instance is still looked at on that instance."""

import tempfile

import apache_beam as beam
from apache_beam.transforms import core, userstate
from pytest import MonkeyPatch

from pipelines.engine import local_stream
from pipelines.options import Processing
from pipelines.stream import StreamJob, build
from transforms.kafka_io import CommitOffsets, PartitionRange
from transforms.settings import KafkaSettings


def _dofns() -> list[beam.DoFn]:
    """Every DoFn of a one-worker micro-batch's pipeline (a stateful one among them), and a Map's."""
    from pipelines.chain_workers import chain_workers

    processing = Processing(state_dir=tempfile.mkdtemp(), entities=False)
    found: list[beam.DoFn] = []

    class Visit(beam.pipeline.PipelineVisitor):
        def visit_transform(self, node: beam.pipeline.AppliedPTransform) -> None:
            if isinstance(node.transform, beam.ParDo):
                found.append(node.transform.fn)

    with chain_workers(1, KafkaSettings(), processing=processing, limits=StreamJob().limits, forks=None):
        pipeline = beam.Pipeline()
        build(pipeline, StreamJob(processing=processing), [PartitionRange("t", 0, 0, 5)], mode="local")
        pipeline.visit(Visit())
    found.append(beam.Map(lambda x, ts=beam.DoFn.TimestampParam: x).fn)
    return found


def _answers(dofns: list[beam.DoFn]) -> list:
    methods = ("process", "setup", "start_bundle", "finish_bundle", "teardown")
    return [
        (userstate.get_dofn_specs(d), [core.get_function_arguments(d, m) for m in methods]) for d in dofns
    ]


def test_remembered_arguments_are_beams_own():
    dofns = _dofns()
    assert any(isinstance(d, CommitOffsets) for d in dofns)
    with MonkeyPatch.context() as patch:
        patch.setattr(core, "get_function_arguments", core.get_function_arguments)  # undone after
        expected = _answers(dofns)
        local_stream._remember_method_arguments()
        assert _answers(dofns) == expected
        assert _answers(dofns) == expected, "and again, from what was remembered"
        assert userstate.is_stateful_dofn(next(d for d in dofns if isinstance(d, CommitOffsets)))


def test_a_method_set_on_an_instance_is_looked_at_on_it():
    class Step(beam.DoFn):
        def process(self, element):
            yield element

    with MonkeyPatch.context() as patch:
        patch.setattr(core, "get_function_arguments", core.get_function_arguments)
        local_stream._remember_method_arguments()
        assert core.get_function_arguments(Step(), "process")[0] == ["element"]
        other = Step()
        other.process = lambda element, window=beam.DoFn.WindowParam: iter([element])
        assert core.get_function_arguments(other, "process") == (
            ["element", "window"],
            [beam.DoFn.WindowParam],
        )
