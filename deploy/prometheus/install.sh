#!/usr/bin/env bash
# Installs Debian's `prometheus` package (the server and promtool), which the monitoring tests run:
# a real Prometheus scraping `newsflow stream`, and promtool checking deploy/prometheus/ and the dashboard's
# metrics. Idempotent: a no-op when both are on PATH. Needs root (apt-get); without it, says how and
# exits 0, so `make setup` still works for a developer (those tests then skip, except under CI).
set -euo pipefail

if command -v prometheus >/dev/null && command -v promtool >/dev/null; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "deploy/prometheus/install.sh: not root, so Prometheus is not installed; the Prometheus tests will" \
    "skip. Install it with: sudo apt-get install --no-install-recommends prometheus" >&2
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  echo "deploy/prometheus/install.sh: no apt-get here; install Prometheus 2.x (prometheus and promtool on PATH)" >&2
  exit 1
fi
echo "deploy/prometheus/install.sh: installing Debian's prometheus package" >&2
apt-get update -qq
# No recommends: node-exporter and friends are not needed. Where an init system runs, Debian starts its
# service on :9090; the tests never use it (they start their own server on a free port).
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
prometheus --version 2>&1 | head -1 >&2
