"""The monitoring files in deploy/: Prometheus's own promtool checks the scrape config and the alert rules
and runs the rules' unit tests (deploy/prometheus/alerts_test.yml); every metric the Grafana dashboard and
the alerts query is one the exporter defines.

promtool comes from Debian's prometheus package (``make prometheus``, part of ``make setup``). A
developer without it (no root) sees these tests skip; under CI (``CI`` set) its absence fails them."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from pipelines.metrics.exporter import REGISTRY
from pipelines.metrics.names import RULES

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS = ROOT / "deploy" / "prometheus"
DASHBOARD = ROOT / "deploy" / "grafana" / "newsflow.json"
METRIC = re.compile(r"\bnewsflow_[a-zA-Z0-9_]+")


def promtool(*args: str) -> subprocess.CompletedProcess:
    tool = shutil.which("promtool")
    if tool is None:
        message = "promtool not found: make prometheus (as root) installs it"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return subprocess.run([tool, *args], capture_output=True, text=True, cwd=PROMETHEUS, timeout=60)


def test_promtool_checks_the_scrape_config_and_its_rules():
    result = promtool("check", "config", "prometheus.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 3 rules found" in result.stdout + result.stderr


def test_promtool_checks_the_rules():
    result = promtool("check", "rules", "alerts.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_alerts_fire_where_their_unit_tests_say():
    result = promtool("test", "rules", "alerts_test.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def exported_names() -> set[str]:
    """Every series name the exporter can emit: its fixed metrics and the Beam counters' families."""
    names = {rule.name for rule in RULES}
    for family in REGISTRY.collect():
        names.add(family.name)
        suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count")}.get(family.type, ())
        names.update(family.name + suffix for suffix in suffixes)
    return names


def dashboard_exprs() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel.get("targets", [])]
    exprs += [v["query"] for v in dashboard["templating"]["list"] if v["type"] == "query"]
    return exprs


def alert_exprs() -> list[str]:
    rules = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())
    return [rule["expr"] for group in rules["groups"] for rule in group["rules"]]


def test_the_dashboard_and_alerts_query_only_exported_metrics():
    exported = exported_names()
    for expr in dashboard_exprs() + alert_exprs():
        used = set(METRIC.findall(expr))
        assert used, f"no newsflow metric in {expr!r}"
        assert used <= exported, (
            f"{expr!r} queries {sorted(used - exported)}, which the exporter never defines"
        )


def test_the_dashboard_shows_what_the_issue_asks():
    titles = {panel["title"] for panel in json.loads(DASHBOARD.read_text())["panels"]}
    wanted = {"Throughput", "Consumer lag per partition", "Dead letters by stage", "Dedup verdicts"}
    assert wanted | {"Micro-batch duration", "Workers and restarts"} <= titles
