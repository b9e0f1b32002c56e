"""The exporter: what a batch feeds in comes out of /metrics under the conventional names; lag is end
minus committed; /healthz and /readyz answer from the process's state, over a real HTTP server."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from concurrent.futures import Future, ThreadPoolExecutor

import pytest
from prometheus_client.parser import text_string_to_metric_families

from pipelines.devkafka.broker import free_port
from pipelines.failures import BadUsage
from pipelines.metrics import exporter, listener
from pipelines.metrics.lag import BrokerWatch, partition_lags
from pipelines.metrics.server import serving
from pipelines.options import Monitoring, resolve
from transforms.settings import KafkaSettings


@pytest.fixture(scope="module")
def url():
    """The exporter served on a free port for this module's tests."""
    with serving("127.0.0.1", 0) as port:
        yield f"http://127.0.0.1:{port}"


def samples(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = urllib.request.urlopen(f"{url}/metrics", timeout=10).read().decode()
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def get(url: str, path: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(f"{url}{path}", timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_a_batch_shows_as_counters_and_histograms(url):
    before = samples(url)
    exporter.observe_batch(
        7, 1.5, {"kafka.records_read": 7, "kafka.records_written": 6, "dlq.parse": 1, "dedup.near": 2}
    )
    exporter.observe_batch(3, 0.2, {"kafka.records_read": 3, "kafka.records_written": 3})
    after = samples(url)

    def grew(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after[key] - before.get(key, 0)

    assert grew("newsflow_records_read_total", io="kafka") == 10
    assert grew("newsflow_records_written_total") == 9
    assert grew("newsflow_dead_letters_total", stage="parse") == 1
    assert grew("newsflow_dedup_verdicts_total", method="near") == 2
    assert grew("newsflow_batch_duration_seconds_count") == 2
    assert grew("newsflow_batch_duration_seconds_bucket", le="0.25") == 1
    assert grew("newsflow_batch_records_sum") == 10


def test_declared_counters_show_at_zero_before_they_count(url):
    exporter.declare_counters("kafka.offset_commits.never_counted")
    assert samples(url)[("newsflow_kafka_offset_commits_never_counted_total", ())] == 0


def test_workers_restarts_and_commit_age(url):
    exporter.set_workers(4)
    before = samples(url)[("newsflow_worker_restarts_total", ())]
    exporter.worker_restarted()
    exporter.committed()
    after = samples(url)
    assert after[("newsflow_workers", ())] == 4
    assert after[("newsflow_worker_restarts_total", ())] == before + 1
    assert 0 <= after[("newsflow_seconds_since_last_commit", ())] < 5
    exporter.set_workers(1)


def test_lag_per_partition(url):
    assert partition_lags(
        {0: 10, 1: 5, 2: 8, 3: 4}, {0: 7, 1: 5, 2: None, 3: None}, {2: 3, 3: 0}, "earliest"
    ) == {
        0: 3,
        1: 0,
        2: 5,
        3: 4,
    }
    assert partition_lags({0: 10}, {0: None}, {0: 0}, "latest") == {0: 0}
    assert partition_lags({0: 10}, {0: 12}, {0: 0}, "earliest") == {0: 0}, "never negative (a truncated log)"
    exporter.set_lag({("raw", 0): 3, ("raw", 1): 0})
    found = samples(url)
    assert found[("newsflow_consumer_lag", (("partition", "0"), ("topic", "raw")))] == 3
    assert found[("newsflow_consumer_lag", (("partition", "1"), ("topic", "raw")))] == 0


def test_health_and_readiness_follow_the_broker_and_the_model(url):
    assert get(url, "/healthz") == (200, {"alive": True})
    loading: Future = Future()
    exporter.watch_model(loading)
    exporter.require_broker()
    exporter.broker_answered(False)
    status, body = get(url, "/readyz")
    assert status == 503 and body == {"ready": False, "broker_reachable": False, "model_loaded": False}
    exporter.broker_answered(True)
    loading.set_result(object())
    status, body = get(url, "/readyz")
    assert status == 200 and body["ready"] is True
    assert samples(url)[("newsflow_ner_model_load_seconds", ())] > 0
    failed: Future = Future()
    exporter.watch_model(failed)
    failed.set_exception(RuntimeError("no model"))
    assert get(url, "/readyz")[0] == 503
    assert get(url, "/nothing")[0] == 404


def test_a_port_in_use_is_a_usage_error(url):
    port = int(url.rsplit(":", 1)[1])
    with pytest.raises(BadUsage, match="--metrics-port"), serving("127.0.0.1", port):
        pass


def test_the_port_bound_at_start_is_held_and_served_with_no_gap():
    """The commands bind the port before anything loads and hand the socket over: meanwhile no other
    process can take it, and a scrape made then is answered once the server runs."""
    with listener(Monitoring()) as off:
        assert off is None
    with listener(Monitoring(metrics_port=0)) as bound:
        assert bound is not None
        port = bound.getsockname()[1]
        in_use = f"--metrics-port {port} on 127.0.0.1: Address already in use"
        with pytest.raises(BadUsage, match=in_use), listener(Monitoring(metrics_port=port)):
            pass
        early = ThreadPoolExecutor(1).submit(get, f"http://127.0.0.1:{port}", "/healthz")
        with serving("127.0.0.1", port, bound) as served:
            assert served == port
            assert early.result(timeout=10) == (200, {"alive": True})
        assert bound.fileno() == -1  # closed with the server


def test_off_by_default_and_set_by_flag_or_environment():
    assert resolve(Monitoring, env={}) == Monitoring(metrics_port=None, metrics_host="127.0.0.1")
    assert resolve(Monitoring, env={"NEWSFLOW_METRICS_PORT": "9108"}).metrics_port == 9108
    with pytest.raises(BadUsage, match="NEWSFLOW_METRICS_PORT"):
        resolve(Monitoring, env={"NEWSFLOW_METRICS_PORT": "nine"})


def test_serves_on_ipv6_when_the_host_says_so():
    try:
        with serving("::1", 0) as port:
            text = urllib.request.urlopen(f"http://[::1]:{port}/healthz", timeout=10).read()
    except BadUsage as exc:
        pytest.skip(f"no IPv6 loopback here: {exc}")
    assert json.loads(text) == {"alive": True}


def test_brokers_that_do_not_answer_make_the_process_unready(url):
    nobody = KafkaSettings(bootstrap_servers=f"127.0.0.1:{free_port()}")
    exporter.broker_answered(True)
    with BrokerWatch(nobody, "raw", "group", interval=0.2):
        deadline = time.monotonic() + 30
        while get(url, "/readyz")[1].get("broker_reachable") is not False:
            assert time.monotonic() < deadline, "still ready with no broker"
            time.sleep(0.2)
    assert samples(url)[("newsflow_broker_reachable", ())] == 0
