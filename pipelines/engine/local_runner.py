"""The engine of a local backfill: Beam's FnApiRunner, chosen directly rather than through the DirectRunner.

Beam 2.77's DirectRunner first tries Prism: a binary it downloads from GitHub (a failed look-up on a closed
network, and on an open one a runner that drops split bundles of stateful stages, apache/beam#35771), and
only then falls back to the FnApiRunner, which the backfill's layout is made for (``BACKFILL.md``). This
builds that runner with the same provisioning the DirectRunner gives it (the pipeline options reach the
workers), and, given a fork server, points its multi-process workers' command at the server's client.
"""

from __future__ import annotations

from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.portability import python_urns
from apache_beam.portability.api import beam_provision_api_pb2, beam_runner_api_pb2
from apache_beam.runners.portability.fn_api_runner import fn_runner
from apache_beam.runners.portability.portable_runner import JobServiceHandle

from pipelines.engine.worker_forks import ForkServer


class _ForkedWorkersRunner(fn_runner.FnApiRunner):
    """The FnApiRunner, its subprocess workers started by ``command`` instead of a new interpreter each."""

    def __init__(self, command: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self._command = command

    def run_via_runner_api(
        self, pipeline_proto: beam_runner_api_pb2.Pipeline, options: PipelineOptions
    ) -> fn_runner.RunnerResult:
        for environment in pipeline_proto.components.environments.values():
            if environment.urn == python_urns.SUBPROCESS_SDK:
                environment.payload = self._command.encode()
        return super().run_via_runner_api(pipeline_proto, options)


def local_runner(options: PipelineOptions, forks: ForkServer | None = None) -> fn_runner.FnApiRunner:
    """The FnApiRunner for ``options`` (running mode and worker count as they say), workers from ``forks``."""
    encoded = JobServiceHandle.encode_pipeline_options(options.get_all_options())
    provision = fn_runner.ExtendedProvisionInfo(
        beam_provision_api_pb2.ProvisionInfo(pipeline_options=encoded)
    )
    if forks is None:
        return fn_runner.FnApiRunner(provision_info=provision)
    return _ForkedWorkersRunner(forks.command, provision_info=provision)
