"""The crash journal counts process deaths per input across restarts (a new journal on the same directory)."""

from __future__ import annotations

import multiprocessing
import os
import signal

from transforms.crash_journal import CrashJournal
from transforms.errors import CrashLoop


def _die_while_processing(state_dir: str, key: str) -> None:
    CrashJournal(state_dir).begin(key)
    os.kill(os.getpid(), signal.SIGKILL)  # no clean-up, no end(): like a segfault or the OOM killer


def test_an_input_that_kills_the_process_is_counted_and_set_aside(tmp_path):
    ctx = multiprocessing.get_context("spawn")
    for _ in range(3):
        proc = ctx.Process(target=_die_while_processing, args=(str(tmp_path), "clean:raw:0:7"))
        proc.start()
        proc.join()
        assert proc.exitcode == -signal.SIGKILL
    journal = CrashJournal(tmp_path, max_crashes=3)
    deaths = journal.begin("clean:raw:0:7")
    assert deaths == 3 and journal.should_skip(deaths)
    assert "died 3 times" in CrashLoop(deaths, "clean").reason


def test_inputs_that_finish_leave_no_mark(tmp_path):
    journal = CrashJournal(tmp_path)
    assert journal.begin("clean:raw:1:1") == 0
    journal.end("clean:raw:1:1")
    journal.close()
    again = CrashJournal(tmp_path)
    assert again.begin("clean:raw:1:1") == 0
    assert not again.should_skip(0)


def test_one_death_is_forgiven_when_the_retry_finishes(tmp_path):
    first = CrashJournal(tmp_path)
    first.begin("entities:raw:2:5")  # the process dies here; the mark stays
    second = CrashJournal(tmp_path)
    assert second.begin("entities:raw:2:5") == 1
    second.end("entities:raw:2:5")
    assert CrashJournal(tmp_path).begin("entities:raw:2:5") == 0
