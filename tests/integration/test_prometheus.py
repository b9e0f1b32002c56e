"""A real Prometheus (Debian's package) scrapes a running ``newsflow stream --metrics-port``: through its
HTTP API, records written show a non-zero rate, the consumer lag rises while a backlog is worked off and
returns to 0, the alert rules load, and every query of the Grafana dashboard evaluates.

Prometheus scrapes every second here, so the test takes about 40 s (mostly the stream's start-up: Beam,
the NER model). It starts its own server on a free port and stops it, whatever happens."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaProducer

from pipelines.devkafka.broker import free_port
from tests.cli_runs import command, topic_flags
from tests.shared_data import CONLL_TRAIN
from transforms.entities.conll import stories
from transforms.settings import KafkaSettings

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "deploy" / "grafana" / "newsflow.json"
ALERTS = ROOT / "deploy" / "prometheus" / "alerts.yml"


def wait_until(what: str, check: Callable[[], Any], timeout: float, alive: list[subprocess.Popen]) -> Any:
    """Poll ``check`` until it returns something true; fail if a process we need exits meanwhile."""
    deadline = time.monotonic() + timeout
    while True:
        for proc in alive:
            assert proc.poll() is None, f"{proc.args[0]} exited while waiting for {what}"
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.5)


def http_json(url: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")
    except (urllib.error.URLError, ConnectionError):
        return 0, None


class Prometheus:
    """A Prometheus server of this test: its own config, data dir and port."""

    def __init__(self, workdir: Path, target: str) -> None:
        binary = shutil.which("prometheus")
        if binary is None:
            pytest.skip("prometheus not installed: make prometheus (as root)")
        shutil.copy(ALERTS, workdir / "alerts.yml")
        config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": ["alerts.yml"],
            "scrape_configs": [{"job_name": "newsflow", "static_configs": [{"targets": [target]}]}],
        }
        (workdir / "prometheus.yml").write_text(json.dumps(config))  # JSON is YAML
        self.url = f"http://127.0.0.1:{free_port()}"
        self.log = open(workdir / "prometheus.log", "w")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [
                binary,
                f"--config.file={workdir / 'prometheus.yml'}",
                f"--storage.tsdb.path={workdir / 'data'}",
                f"--web.listen-address={self.url.removeprefix('http://')}",
                "--log.level=warn",
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def query(self, promql: str) -> list[dict]:
        status, body = http_json(f"{self.url}/api/v1/query?" + urllib.parse.urlencode({"query": promql}))
        assert status in (200, 0), f"{promql!r}: {body}"
        return body["data"]["result"] if status == 200 else []

    def value(self, promql: str) -> float | None:
        result = self.query(promql)
        return float(result[0]["value"][1]) if result else None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


@pytest.fixture
def stream_with_metrics(kafka_broker, topics, tmp_path) -> Iterator[tuple[subprocess.Popen, str]]:
    """``newsflow stream --metrics-port`` on this test's topics, small batches so a backlog takes several."""
    port = free_port()
    cmd = command("stream", "--bootstrap-servers", kafka_broker.bootstrap, *topic_flags(topics))
    cmd += ["--group-id", "metrics", "--poll-interval", "0.5"]
    cmd += ["--batch-records", "4", "--state-dir", str(tmp_path / "state"), "--metrics-port", str(port)]
    with open(tmp_path / "stream.log", "w") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        try:
            yield proc, f"127.0.0.1:{port}"
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


def test_prometheus_scrapes_throughput_and_lag(kafka_broker, topics, stream_with_metrics, tmp_path):
    stream, target = stream_with_metrics
    prometheus = Prometheus(tmp_path, target)
    try:
        alive = [stream, prometheus.process]
        ready = wait_until(
            "/readyz", lambda: http_json(f"http://{target}/readyz")[0] == 200, timeout=120, alive=alive
        )
        assert ready
        assert http_json(f"http://{target}/healthz") == (200, {"alive": True})
        wait_until(
            "two scrapes of the idle stream",
            lambda: scrapes(prometheus) >= 2,
            timeout=30,
            alive=alive,
        )
        assert prometheus.value("sum(newsflow_consumer_lag)") == 0

        # The backlog is produced in a transaction left open until Prometheus has seen it: the stream
        # (read_committed) is held at its start and the lag counts to the log end, so the backlog is seen
        # however fast the stream would have read 16 records (plainly produced, it could clear them
        # between two of the lag thread's looks).
        settings = KafkaSettings(bootstrap_servers=kafka_broker.bootstrap)
        producer = KafkaProducer(**settings.producer_kwargs(), transactional_id=f"metrics-{uuid.uuid4().hex}")
        producer.init_transactions()
        producer.begin_transaction()
        for i, text in enumerate(stories(CONLL_TRAIN)[:16]):
            envelope = {"url": f"https://wire.example/{i}", "source": "wire", "text": text}
            producer.send(topics.input_topic, json.dumps(envelope).encode(), partition=i % 4)
        producer.flush()
        wait_until(
            "the backlog seen as lag",
            lambda: prometheus.value("sum(newsflow_consumer_lag)") == 16,
            timeout=60,
            alive=alive,
        )
        assert prometheus.value("sum(newsflow_records_written_total)") in (None, 0.0), "held until committed"
        producer.commit_transaction()
        producer.close()

        rate = wait_until(
            "a non-zero write rate",
            lambda: prometheus.value("rate(newsflow_records_written_total[1m])"),
            timeout=60,
            alive=alive,
        )
        assert rate > 0
        wait_until(
            "lag back to 0 with 16 records written",
            lambda: (
                prometheus.value("sum(newsflow_consumer_lag)") == 0
                and prometheus.value("newsflow_records_written_total") == 16
            ),
            timeout=90,
            alive=alive,
        )
        assert prometheus.value("max_over_time(sum(newsflow_consumer_lag)[5m:1s])") > 0, (
            "the backlog was seen"
        )
        assert prometheus.value("count(newsflow_consumer_lag)") == 4, "one series per partition"
        assert prometheus.value('sum(newsflow_records_read_total{io="kafka"})') == 16
        assert prometheus.value("newsflow_batch_duration_seconds_count") >= 4, "16 records, 4 per batch"
        assert prometheus.value("newsflow_seconds_since_last_commit") < 60
        assert prometheus.value("newsflow_ner_model_load_seconds") > 0
        assert prometheus.value('sum(newsflow_dedup_verdicts_total{method="unique"})') == 16

        status, rules = http_json(f"{prometheus.url}/api/v1/rules")
        loaded = {r["name"]: r["health"] for g in rules["data"]["groups"] for r in g["rules"]}
        assert loaded == dict.fromkeys(
            ("NewsflowLagGrowing", "NewsflowDeadLetterRateHigh", "NewsflowNoCommit"), "ok"
        )

        for expr in dashboard_queries():
            status, body = http_json(
                f"{prometheus.url}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
            )
            assert status == 200 and body["status"] == "success", f"dashboard query {expr!r}: {body}"
    finally:
        prometheus.stop()
    assert prometheus.process.poll() is not None


def scrapes(prometheus: Prometheus) -> float:
    """How many samples of the write counter Prometheus has of the last minute."""
    return prometheus.value('count_over_time(newsflow_records_written_total{job="newsflow"}[1m])') or 0


def dashboard_queries() -> list[str]:
    """The dashboard's queries with Grafana's variables as Grafana would fill them in."""
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel.get("targets", [])]
    return [
        e.replace("$__rate_interval", "1m").replace("$job", ".*").replace("$instance", ".*") for e in exprs
    ]
