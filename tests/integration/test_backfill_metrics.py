"""``newsflow backfill --metrics-port`` serves its progress, worker count and health while it runs, and
stops serving when it ends."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.error
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from pipelines.devkafka.broker import free_port
from tests.cli_runs import command
from tests.shared_data import CONLL_TRAIN
from transforms.entities.conll import stories

pytestmark = pytest.mark.integration


def scrape(url: str) -> dict[tuple[str, tuple], float] | None:
    try:
        text = urllib.request.urlopen(f"{url}/metrics", timeout=5).read().decode()
    except (urllib.error.URLError, ConnectionError):
        return None
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def status(url: str, path: str) -> int:
    try:
        with urllib.request.urlopen(f"{url}{path}", timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, ConnectionError):
        return 0


def test_a_running_backfill_serves_progress_and_health(tmp_path):
    source = tmp_path / "articles.jsonl"
    with open(source, "w") as out:
        for i, text in enumerate(stories(CONLL_TRAIN)[:20]):
            out.write(json.dumps({"url": f"https://wire.example/{i}", "source": "wire", "text": text}) + "\n")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = command("backfill", "--input", str(source))
    cmd += ["--output", str(tmp_path / "out"), "--workers", "2", "--metrics-port", str(port)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seen: list[dict] = []
    health: set[tuple[int, int]] = set()
    try:
        deadline = time.monotonic() + 300
        while proc.poll() is None and time.monotonic() < deadline:
            found = scrape(url)
            if found:
                seen.append(found)
                health.add((status(url, "/healthz"), status(url, "/readyz")))
            time.sleep(0.2)
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, stderr[-3000:]
    assert seen, "the backfill served /metrics while it ran"
    assert all(s[("newsflow_workers", ())] == 2 for s in seen)
    read = [s.get(("newsflow_backfill_records_total", (("kind", "read"),)), 0) for s in seen]
    assert max(read) > 0 and read == sorted(read), "progress counts only grow"
    assert (200, 200) in health, (
        "alive, and ready (a file backfill needs no broker; its workers load the model)"
    )
    assert scrape(url) is None, "the server stops with the backfill"
