#!/usr/bin/env bash
# Install and build the Avro clients the conformance tests run: Go (hamba/avro), JavaScript (avsc), Rust
# (apache-avro) and C (Apache Avro C, Debian's libavro-dev, which make clients installs as root).
# Versions are pinned by go.sum, package-lock.json and Cargo.lock; after one run everything is local (Go's
# module cache, node_modules, cargo's registry cache), so later runs and the tests work offline. Idempotent:
# the build caches and a stamp of the npm lock file make a second run take about a second.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
export GOTOOLCHAIN=local GOFLAGS=-mod=readonly

build="$(cd "$here/../.." && pwd)/build/clients"

# rustup installs cargo in ~/.cargo/bin, which a non-login shell (cron, CI) may not have on PATH.
if ! command -v cargo >/dev/null && [[ -x "$HOME/.cargo/bin/cargo" ]]; then
  PATH="$HOME/.cargo/bin:$PATH"
fi

for tool in go npm cargo gcc; do
  if ! command -v "$tool" >/dev/null; then
    echo "tests/clients/build.sh: $tool is not on PATH; the Avro client conformance tests need Go (the version" \
      "in tests/clients/go/go.mod), Node.js 20 with npm, Rust's cargo (1.88 or later) and gcc" >&2
    exit 1
  fi
done
if ! printf '#include <avro.h>\nint main(void) { return avro_schema_null() == 0; }\n' |
  gcc -x c - -lavro -o /dev/null 2>/dev/null; then
  echo "tests/clients/build.sh: Apache Avro C (avro.h and libavro) is missing; install Debian's package:" \
    "apt-get install libavro-dev (make clients does, as root; make setup runs it)" >&2
  exit 1
fi

(cd "$here/go" && go build -o target/avroclient .)
echo "clients: go reader built in tests/clients/go/target"

stamp="$here/js/node_modules/.lock-sha256"
want="$(sha256sum "$here/js/package-lock.json" | cut -d' ' -f1)"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
  (cd "$here/js" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$want" > "$stamp"
fi
echo "clients: js reader installed in tests/clients/js/node_modules"

# Online once (cargo fetch, a no-op when the registry cache has every crate of Cargo.lock), then offline.
# The dev profile: it builds in about half the CPU time of --release, and the tests' records are small.
(cd "$here/rust" && cargo fetch --locked --quiet &&
  cargo build --offline --locked --quiet --target-dir "$build/rust")
echo "clients: rust reader built in build/clients/rust/debug"

mkdir -p "$build/c"
if [[ ! "$build/c/avroclient" -nt "$here/c/avroclient.c" ]]; then
  gcc -std=c11 -D_DEFAULT_SOURCE -O2 -Wall -Wextra -Werror -o "$build/c/avroclient" "$here/c/avroclient.c" -lavro -lm
fi
echo "clients: c reader built in build/clients/c"
