#!/usr/bin/env bash
# Fetch a portable Beam runner for tests/integration/test_portable.py into deploy/flink/bin/ (git-ignored).
#
# 1. Beam's Flink job server, org.apache.beam:beam-runners-flink-<FLINK>-job-server:<BEAM>, from Maven
#    Central. Where the registry does not serve it (this workplace's mirror serves no Beam runner jar at
#    all, see deploy/DEPLOY.md), this step reports it and goes on.
# 2. Prism, Beam's portable runner written in Go, built from the Go module github.com/apache/beam/sdks/v2
#    at the same Beam version (needs `go` on the PATH; the first build takes a few minutes).
#
# Idempotent: what is already there at the right version is kept. Exits non-zero only if neither runner
# could be had. Prints the paths it provides.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BIN="$HERE/bin"
BEAM=${BEAM_VERSION:-$(sed -n 's/^ *"apache-beam==\([0-9.]*\)".*/\1/p' "$ROOT/pyproject.toml")}
FLINK=${FLINK_VERSION:-1.19}
mkdir -p "$BIN"
[ -n "$BEAM" ] || { echo "cannot read the apache-beam pin from pyproject.toml" >&2; exit 1; }

have=0
jar="$BIN/beam-runners-flink-$FLINK-job-server-$BEAM.jar"
if [ -s "$jar" ]; then
  have=1
elif command -v mvn >/dev/null; then
  artifact="org.apache.beam:beam-runners-flink-$FLINK-job-server:$BEAM"
  if mvn -B -q -U dependency:get -Dtransitive=false -Dartifact="$artifact" >"$BIN/mvn.log" 2>&1; then
    cp "$HOME/.m2/repository/org/apache/beam/beam-runners-flink-$FLINK-job-server/$BEAM/$(basename "$jar")" "$jar"
    have=1
  else
    echo "flink job server: not served ($artifact): $(grep -m1 -o 'Could not find artifact[^(]*' "$BIN/mvn.log" || tail -1 "$BIN/mvn.log")" >&2
  fi
fi
[ -s "$jar" ] && echo "flink_job_server_jar=$jar"

prism="$BIN/prism"
if [ -x "$prism" ] && [ "$(cat "$BIN/prism.version" 2>/dev/null)" = "$BEAM" ]; then
  have=1
elif command -v go >/dev/null; then
  echo "building prism v$BEAM from the Go module proxy (first time: a few minutes)..." >&2
  if GOBIN="$BIN" GOFLAGS=-buildvcs=false nice -n 10 go install "github.com/apache/beam/sdks/v2/go/cmd/prism@v$BEAM" >"$BIN/go.log" 2>&1; then
    echo "$BEAM" >"$BIN/prism.version"
    have=1
  else
    echo "prism: build failed, see $BIN/go.log" >&2
  fi
else
  echo "prism: no go toolchain on the PATH" >&2
fi
[ -x "$prism" ] && echo "prism_location=$prism"

[ "$have" = 1 ] || { echo "no portable runner available" >&2; exit 1; }
