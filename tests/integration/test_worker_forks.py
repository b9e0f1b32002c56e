"""Beam's multi-process workers forked by the fork server (``pipelines/engine/worker_forks.py``), on the real
FnApiRunner: they run the pipeline, inherit what the server loaded, fall back to starting on their own
when no server answers, and die with the process the runner watches."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions

from pipelines.engine.local_runner import local_runner
from pipelines.engine.worker_forks import ForkServer, wanted


def run_pipeline(forks: ForkServer | None, out: Path, workers: int = 2) -> list[tuple[int, int, int, bool]]:
    """Each of 40 elements with the pid and parent pid of the worker that had it, and whether that worker's
    NER model was loaded when it arrived, as the workers wrote them to ``out``."""
    options = PipelineOptions([f"--direct_num_workers={workers}", "--direct_running_mode=multi_processing"])

    def where(element: int) -> None:  # defined here, so pickled by value: workers can't import this module
        from pipelines.engine import worker_cache

        loaded = worker_cache._model is not None and worker_cache._model.done()
        (out / f"{element}.json").write_text(json.dumps([element, os.getpid(), os.getppid(), loaded]))

    with beam.Pipeline(runner=local_runner(options, forks), options=options) as pipeline:
        (pipeline | beam.Create(range(40)) | beam.Reshuffle() | beam.Map(where))
    return [tuple(json.loads(path.read_text())) for path in out.glob("*.json")]


def children(pid: int) -> set[int]:
    found = set()
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        if int(stat[stat.rfind(")") + 2 :].split()[1]) == pid:
            found.add(int(entry))
    return found


def test_only_local_multi_process_runs_want_forked_workers():
    assert wanted([])
    assert wanted(["--runner=DirectRunner", "--direct_num_workers=2"])
    assert not wanted(["--runner", "FlinkRunner"])
    assert not wanted(["--direct_running_mode=in_memory"])


def test_workers_are_forked_from_the_server_with_its_model_loaded(tmp_path):
    with ForkServer.start(model=True) as forks:
        results = run_pipeline(forks, tmp_path)
        server = forks.process.pid
    assert sorted(element for element, *_ in results) == list(range(40))
    workers = {pid for _, pid, _, _ in results}
    assert {parent for _, _, parent, _ in results} == {server}
    assert len(workers) == 2  # both workers took part, each a fork of the server
    assert all(loaded for *_, loaded in results)
    assert forks.process.returncode == 0  # ended with its control pipe, after its workers


def test_workers_start_on_their_own_when_no_server_answers(tmp_path):
    with ForkServer.start(model=False) as forks:
        forks.process.kill()
        forks.process.wait()
        results = run_pipeline(forks, tmp_path)
    assert sorted(element for element, *_ in results) == list(range(40))
    assert forks.process.pid not in {parent for _, _, parent, _ in results}
    assert not any(loaded for *_, loaded in results)  # plain Beam workers: nothing preloaded


def test_a_killed_client_takes_its_worker_with_it(tmp_path):
    silent = socket.socket()  # a control endpoint that accepts and never answers: the worker waits on it
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)
    environment = dict(
        os.environ, CONTROL_API_SERVICE_DESCRIPTOR=f'url: "127.0.0.1:{silent.getsockname()[1]}"'
    )
    with ForkServer.start(model=False) as forks:
        client = subprocess.Popen(forks.command, shell=True, env=environment)
        deadline = time.monotonic() + 60
        while not children(forks.process.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        (worker,) = children(forks.process.pid)
        assert client.poll() is None
        client.send_signal(signal.SIGKILL)  # what the runner does to a worker that will not stop
        client.wait()
        deadline = time.monotonic() + 10
        while worker in children(forks.process.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert worker not in children(forks.process.pid)
    silent.close()


def test_a_worker_exit_code_reaches_the_runner():
    environment = {k: v for k, v in os.environ.items() if k != "CONTROL_API_SERVICE_DESCRIPTOR"}
    with ForkServer.start(model=False) as forks:
        done = subprocess.run(forks.command, shell=True, env=environment, capture_output=True, timeout=120)
    assert done.returncode == 1  # Beam's worker fails without a control endpoint; the client says so
    assert b"CONTROL_API_SERVICE_DESCRIPTOR" in done.stderr  # on the client's own stderr


def test_one_worker_is_forked_too(tmp_path):
    with ForkServer.start(model=False) as forks:
        results = run_pipeline(forks, tmp_path, workers=1)
        server = forks.process.pid
    assert {parent for _, _, parent, _ in results} == {server}
