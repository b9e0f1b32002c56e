from apache_beam.pvalue import TaggedOutput

from pipelines.chain import Stage, run_step
from transforms.crash_journal import CrashJournal
from transforms.deadletter import DLQ_TAG
from transforms.errors import LimitExceeded
from transforms.records import SourcePosition

POS = SourcePosition("t", 0, 5)


def _run(step, attempts=3):
    return run_step(step, "elem", "clean", lambda e: e.encode(), lambda e: POS, attempts)


def test_success_passes_through():
    assert _run(str.upper) == ("ELEM", None)


def test_pipeline_errors_go_to_the_dlq_at_once():
    calls = []

    def step(e):
        calls.append(e)
        raise LimitExceeded("too slow: 12.0s > 10.0s budget")

    result, letter = _run(step)
    assert result is None and len(calls) == 1
    assert (letter.stage, letter.error_type, letter.attempts) == ("clean", "LimitExceeded", 1)
    assert letter.message == "too slow: 12.0s > 10.0s budget" and letter.original == b"elem"
    assert letter.source_position == POS


def test_unexpected_errors_are_retried_then_dead_lettered():
    calls = []

    def step(e):
        calls.append(e)
        raise KeyError("boom")

    result, letter = _run(step, attempts=3)
    assert result is None and len(calls) == 3
    assert (letter.error_type, letter.attempts) == ("KeyError", 3)


def test_a_transient_fault_recovers_within_the_attempts():
    calls = []

    def step(e):
        calls.append(e)
        if len(calls) < 2:
            raise TimeoutError("flaky")
        return "ok"

    assert _run(step) == ("ok", None)


def _journaled_stage(state_dir, step):
    stage = Stage(step, "clean", lambda e: e.encode(), lambda e: POS, 3, str(state_dir))
    stage.setup()
    return stage


def test_an_input_that_killed_the_process_three_times_is_set_aside_unprocessed(tmp_path):
    for _ in range(3):  # three runs that died inside the step: begun, never ended
        CrashJournal(tmp_path).begin("clean:t:0:5")
    calls = []
    (letter,) = _journaled_stage(tmp_path, calls.append).process("elem")
    assert calls == []
    assert isinstance(letter, TaggedOutput) and letter.tag == DLQ_TAG
    assert (letter.value.stage, letter.value.error_type, letter.value.attempts) == ("clean", "CrashLoop", 3)
    assert letter.value.original == b"elem" and letter.value.source_position == POS
    assert CrashJournal(tmp_path).begin("clean:t:0:5") == 0  # decided: the mark is gone


def test_a_journaled_stage_processes_normally_and_leaves_no_mark(tmp_path):
    CrashJournal(tmp_path).begin("clean:t:0:5")  # one earlier death is forgiven
    assert list(_journaled_stage(tmp_path, str.upper).process("elem")) == ["ELEM"]
    assert CrashJournal(tmp_path).begin("clean:t:0:5") == 0
