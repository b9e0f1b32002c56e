#!/usr/bin/env bash
# Build the Maven projects the tests run: Avro's Java conformance checker and the Java consumer example.
# Each project compiles to its target/classes with its runtime jars in target/lib (both gitignored).
# Idempotent and offline after the first fetch: a stamp holding the hash of the pom and the sources makes a
# second run return without starting Maven; Maven itself reads ~/.m2 before the network.
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
projects=("$@")
if (( ${#projects[@]} == 0 )); then
  projects=("$root/tests/java/avro-conformance" "$root/examples/consumers/java")
fi

bash "$root/deploy/kafka/fetch-jars.sh" >/dev/null  # the JDK and Maven, installed there when missing

for dir in "${projects[@]}"; do
  dir="$(cd "$dir" && pwd)"
  stamp="$dir/target/.built"
  want="$(cd "$dir" && find pom.xml src -type f | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -d' ' -f1)"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" && -d "$dir/target/lib" ]]; then
    echo "java: up to date in ${dir#"$root"/}"
    continue
  fi
  echo "java: building ${dir#"$root"/}"
  rm -f "$stamp"
  mkdir -p "$dir/target"
  log="$dir/target/mvn.log"
  if ! mvn -B -Dstyle.color=never -f "$dir/pom.xml" compile dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$dir/target/lib" >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    echo "java: mvn failed for $dir (last lines above)" >&2
    exit 1
  fi
  echo "$want" > "$stamp"
done
