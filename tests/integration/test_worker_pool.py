"""The local stream's worker pool (``pipelines/engine/worker_pool.py``) with real processes, forked by the
fork server or started on their own: results come back, a worker that dies is replaced and its task run
again, a task that kills every worker fails after a bounded number of deaths, and the chain's workers keep
the crash journal, so an input that keeps killing them becomes a dead letter."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest

from pipelines.chain_workers import ChainWork
from pipelines.engine.worker_forks import ForkServer
from pipelines.engine.worker_pool import MAX_DEATHS, WorkerDied, WorkerPool
from pipelines.options import Processing
from transforms.crash_journal import CrashJournal
from transforms.kafka_io import KafkaRecord
from transforms.settings import Limits

HERE = "tests.pool_handlers:Doubler"


@pytest.fixture(params=["forked", "own interpreters"])
def forks(request):
    if request.param == "own interpreters":
        yield None
        return
    with ForkServer.start(model=False, modules=["tests.pool_handlers"]) as server:
        yield server


def test_results_come_back_from_every_worker(forks, tmp_path):
    with WorkerPool(2, HERE, str(tmp_path), forks) as pool:
        futures = [pool.submit(i, i) for i in range(200)]
        results = [f.result(timeout=120) for f in futures]
    assert [value for value, _ in results] == [2 * i for i in range(200)]
    assert len({pid for _, pid in results}) == 2, "both workers took tasks"
    assert os.getpid() not in {pid for _, pid in results}


def test_a_dead_worker_is_replaced_and_its_task_run_again(forks, tmp_path):
    with WorkerPool(2, HERE, str(tmp_path), forks) as pool:
        first = [pool.submit(i, i) for i in range(20)]
        again = pool.submit(20, "die once")
        later = [pool.submit(i, i) for i in range(21, 40)]
        assert again.result(timeout=120)[0] == "ok"
        assert [f.result(timeout=120)[0] for f in first + later] == [
            2 * i for i in [*range(20), *range(21, 40)]
        ]
        assert pool.restarts == 1


def test_a_task_that_kills_every_worker_fails_after_a_bounded_number_of_deaths(tmp_path):
    with (
        ForkServer.start(model=False, modules=["tests.pool_handlers"]) as forks,
        WorkerPool(1, HERE, str(tmp_path), forks) as pool,
    ):
        with pytest.raises(WorkerDied):
            pool.submit(0, "die").result(timeout=120)
        assert pool.restarts == MAX_DEATHS
        assert pool.submit(1, 21).result(timeout=120)[0] == 42, "the pool still works"


def test_a_task_waiting_in_a_worker_that_dies_is_not_charged_with_its_death(tmp_path):
    """The pool sends a worker its next task before the answer to the one it runs: when the worker dies on
    that one, the task waiting in it goes back to the queue as it was, however often that happens."""
    with (
        ForkServer.start(model=False, modules=["tests.pool_handlers"]) as forks,
        WorkerPool(1, HERE, str(tmp_path), forks) as pool,
    ):
        killer, waiting = pool.submit(0, "die"), pool.submit(1, 21)
        with pytest.raises(WorkerDied):
            killer.result(timeout=120)
        assert waiting.result(timeout=120)[0] == 42
        assert pool.restarts == MAX_DEATHS


def _working(directory: Path) -> int:
    """The pid of the worker that began a ``"hang once"`` or ``"spin once"`` task."""
    working = directory / "working"
    deadline = time.monotonic() + 60
    while not working.exists() or not working.read_text():
        assert time.monotonic() < deadline, "the task never started"
        time.sleep(0.05)
    return int(working.read_text())


@contextmanager
def _unstuck(directory: Path) -> Iterator[None]:
    """If the block fails, kill the worker that took the first task, so the pool can close (a pool that
    never kills a hung worker would wait for it for ever)."""
    try:
        yield
    except BaseException:
        with suppress(ProcessLookupError):
            os.kill(_working(directory), signal.SIGKILL)
        raise


def test_a_hung_worker_is_killed_and_its_task_run_again(forks, tmp_path):
    """A worker that blocks for good on a task (a deadlock: no CPU used) is killed once it has held it for
    the stall limit without CPU, and the task runs on a new worker. Before: the pool waited for ever."""
    with WorkerPool(2, HERE, str(tmp_path), forks, stall_seconds=3) as pool, _unstuck(tmp_path):
        hung = pool.submit(0, "hang once")
        others = [pool.submit(i, i) for i in range(1, 20)]
        assert hung.result(timeout=60)[0] == "ok"
        assert [f.result(timeout=60)[0] for f in others] == [2 * i for i in range(1, 20)]
        assert pool.restarts == 1


def test_a_sigstopped_worker_is_replaced_and_its_task_run_again(forks, tmp_path):
    """SIGSTOP a worker in the middle of a task: it is killed after the stall limit, counted as restarted,
    and its task answered by a new worker; the other worker goes on meanwhile."""
    with WorkerPool(2, HERE, str(tmp_path), forks, stall_seconds=3) as pool, _unstuck(tmp_path):
        stopped = pool.submit(0, "spin once")
        pid = _working(tmp_path)
        os.kill(pid, signal.SIGSTOP)
        assert pool.submit(1, 21).result(timeout=60)[0] == 42, "the other worker goes on"
        assert stopped.result(timeout=60)[0] == "ok"
        assert pool.restarts == 1
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_a_worker_busy_past_the_stall_limit_is_not_taken_for_hung(tmp_path):
    """The stall is CPU left unused, not time: a task computing for longer than the limit is left alone."""
    with WorkerPool(1, HERE, str(tmp_path), None, stall_seconds=1) as pool:
        assert pool.submit(0, ("spin", 4)).result(timeout=120)[0] == "ok"
        assert pool.restarts == 0


def test_chain_workers_keep_the_crash_journal(tmp_path):
    """An input whose earlier attempts died three times (the journal's marks) is a CrashLoop dead letter."""
    journal = CrashJournal(tmp_path)
    for _ in range(3):
        journal.begin("parse:raw:0:7")
    journal.close()
    processing = Processing(state_dir=str(tmp_path), entities=False)
    record = KafkaRecord("raw", 0, 7, None, b'{"text": "A story."}', 0)
    handler = f"{ChainWork.__module__}:{ChainWork.__name__}"
    with (
        ForkServer.start(model=False, modules=[ChainWork.__module__]) as forks,
        WorkerPool(1, handler, (Limits(), processing), forks) as pool,
    ):
        outcome, letter, counts = pool.submit(0, ("clean", record)).result(timeout=120)
        fine = pool.submit(1, ("clean", KafkaRecord("raw", 0, 8, None, b'{"text": "Another."}', 0)))
        assert fine.result(timeout=120)[0] == "ok"
    assert (outcome, letter.stage, letter.error_type) == ("dlq", "parse", "CrashLoop")
    assert letter.original == record.value
    assert counts == {"dlq.parse": 1}


def test_queued_tasks_of_a_failed_batch_can_be_dropped(tmp_path):
    with WorkerPool(1, HERE, str(tmp_path), None) as pool:
        futures = [pool.submit(i, i) for i in range(500)]
        dropped = pool.cancel_queued()
        assert dropped > 0 and sum(f.cancelled() for f in futures) == dropped
        assert all(f.result(timeout=60)[0] == 2 * i for i, f in enumerate(futures) if not f.cancelled())
        assert pool.submit(0, 5).result(timeout=60)[0] == 10, "the pool goes on with new tasks"
