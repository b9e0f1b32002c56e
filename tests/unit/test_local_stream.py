"""The local stream's pure parts: which runners it stands in for (its state dir: test_local_state.py)."""

from __future__ import annotations

import subprocess
import sys

from pipelines.engine.local_stream import is_local


def test_local_runs_are_micro_batches_and_other_runners_one_pipeline():
    assert is_local([]) and is_local(["--runner=DirectRunner"])
    assert not is_local(["--runner=FlinkRunner"]) and not is_local(["--runner=PrismRunner"])


SIGNALLED_WHILE_LOGGING = """
import os, signal, sys, threading, time
import structlog
from pipelines import logs
from pipelines.engine.local_stream import StopRequest

logs.configure("INFO", json=True)
stop = StopRequest()
stop.install()
log = structlog.get_logger("t")

def term():
    for _ in range(300):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.001)

threading.Thread(target=term, daemon=True).start()
deadline = time.monotonic() + 3
while time.monotonic() < deadline:
    log.info("busy", n=1)
print("requested" if stop.requested else "not requested", file=sys.__stdout__, flush=True)
"""


def test_a_signal_that_lands_inside_a_log_call_does_not_deadlock_the_stream():
    """The main thread logs without pause while SIGTERMs arrive: the handler must not log (structlog's
    stderr lock is not reentrant), so the run ends and the request is seen and logged once."""
    run = subprocess.run(
        [sys.executable, "-c", SIGNALLED_WHILE_LOGGING], capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip() == "requested"
    assert run.stderr.count('"stop_requested"') == 1


SWALLOWED_ABORT = """
import os, signal, sys
from pipelines.engine.local_stream import StopRequest
from transforms.kafka_io import Abandoned, retrying

stop = StopRequest()
stop.install()
os.kill(os.getpid(), signal.SIGINT)
try:
    os.kill(os.getpid(), signal.SIGINT)
except KeyboardInterrupt:
    pass  # what a library's own handler may do with it
calls = []
try:
    retrying(lambda: calls.append(1), "commit")
except Abandoned:
    print("refused", stop.aborted, len(calls), file=sys.__stdout__, flush=True)
"""


def test_after_a_second_ctrl_c_no_offset_is_committed_even_if_the_interrupt_was_swallowed():
    """A second Ctrl-C raises KeyboardInterrupt wherever the main thread is: a library may swallow it. The
    abort still holds: no Kafka call (a commit included) is made through ``retrying`` from then on."""
    run = subprocess.run([sys.executable, "-c", SWALLOWED_ABORT], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.split() == ["refused", "True", "0"]


class _Member:
    """The group member as the batch loop uses it, with nothing behind it."""

    settled = True
    consumer = None

    def poll(self, timeout: float) -> frozenset:
        return frozenset()

    def wait_for_session(self, stopping) -> bool:
        return False


def test_a_batch_that_returns_after_a_swallowed_second_ctrl_c_is_aborted_not_counted():
    """The batch's pipeline runs to its end though the second Ctrl-C came during it (its interrupt swallowed
    by a library): the loop raises Aborted, and the batch is neither logged nor counted as done."""
    import apache_beam as beam
    import pytest

    from pipelines.engine.local_stream import Batches, StopRequest, _loop
    from pipelines.failures import Aborted
    from transforms.kafka_io import PartitionRange
    from transforms.settings import KafkaSettings

    stop = StopRequest()
    lookup = type(
        "Lookup", (), {"member": _Member(), "__call__": lambda self: [PartitionRange("t", 0, 0, 3)]}
    )()
    built = []

    def build(pipeline: beam.Pipeline, ranges: list) -> None:
        built.append(ranges)
        stop.signal, stop.aborted = (
            "SIGINT",
            True,
        )  # two Ctrl-Cs; the second's interrupt never reaches the loop
        _ = pipeline | beam.Create([1])

    job = Batches(kafka=KafkaSettings(), input_topic="t", group_id="g")
    with pytest.raises(Aborted, match="3 records will be re-read"):
        _loop(job, build, stop, lookup, None)
    assert built == [[PartitionRange("t", 0, 0, 3)]]


STOPPED_IN_AN_OUTAGE = """
import os, signal, sys, threading, time
from kafka.errors import KafkaConnectionError
from pipelines.engine.local_stream import StopRequest
from transforms.kafka_io import Stopped, retrying

stop = StopRequest()
stop.install()
calls = []

def lookup():
    calls.append(1)
    raise KafkaConnectionError("the broker is down")

threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGTERM)).start()
started = time.monotonic()
try:
    retrying(lookup, "ranges")
except Stopped:
    print("stopped", round(time.monotonic() - started), file=sys.__stdout__, flush=True)
"""


def test_a_stop_during_an_outage_ends_the_retry_loop_at_once():
    """SIGTERM while a call is retried for a broker that is down: no further try is made and the loop
    ends within about a second (before: it slept on between tries for its 10 minutes of patience)."""
    run = subprocess.run(
        [sys.executable, "-c", STOPPED_IN_AN_OUTAGE], capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.split() in (["stopped", "1"], ["stopped", "2"]), run.stdout
