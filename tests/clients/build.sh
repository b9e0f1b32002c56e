#!/usr/bin/env bash
# Install and build the Go (hamba/avro) and JavaScript (avsc) Avro clients the conformance tests run.
# Versions are pinned by go.sum and package-lock.json; after one run everything is local (Go's module cache,
# node_modules), so later runs and the tests work offline. Idempotent: Go's build cache and a stamp of the
# lock file make a second run take about a second.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
export GOTOOLCHAIN=local GOFLAGS=-mod=readonly

for tool in go npm; do
  if ! command -v "$tool" >/dev/null; then
    echo "tests/clients/build.sh: $tool is not on PATH; the Avro client conformance tests need Go (the version" \
      "in tests/clients/go/go.mod) and Node.js 20 with npm" >&2
    exit 1
  fi
done

(cd "$here/go" && go build -o target/avroclient .)
echo "clients: go reader built in tests/clients/go/target"

stamp="$here/js/node_modules/.lock-sha256"
want="$(sha256sum "$here/js/package-lock.json" | cut -d' ' -f1)"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
  (cd "$here/js" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$want" > "$stamp"
fi
echo "clients: js reader installed in tests/clients/js/node_modules"
