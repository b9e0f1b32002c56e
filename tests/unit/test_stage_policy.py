from pipelines.chain import run_step
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
