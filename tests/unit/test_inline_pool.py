"""The one-worker pool: the stream process runs each task as it is submitted, with the pool's interface."""

from __future__ import annotations

import os

import pytest

from pipelines.engine.worker_pool import InlinePool, TaskFailed


def test_a_task_runs_here_when_submitted_and_a_handler_bug_fails_only_its_future(tmp_path):
    pool = InlinePool("tests.pool_handlers:Doubler", str(tmp_path))
    first = pool.submit(5, 21)
    assert first.done() and first.result() == (42, os.getpid())  # this process, already done
    broken = pool.submit(1, None)  # None * 2: the handler raises
    with pytest.raises(TaskFailed, match="TypeError"):
        broken.result()
    assert pool.submit(0, 2).result()[0] == 4  # the pool goes on
    assert (pool.size, pool.restarts, pool.cancel_queued()) == (1, 0, 0)
    pool.close()
