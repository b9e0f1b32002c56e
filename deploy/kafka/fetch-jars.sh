#!/usr/bin/env bash
# Put a single-node KRaft Kafka broker and its run-time dependencies into deploy/kafka/lib/ from Maven Central.
# Idempotent: a stamp holding the hash of pom.xml makes a second run return at once; a changed pom refetches.
# Fetches into a temporary folder and swaps it in, so an interrupted run never leaves a half-filled lib/.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
lib="$here/lib"
stamp="$lib/.fetched"
want="$(sha256sum "$here/pom.xml" | cut -d' ' -f1)"

if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  echo "kafka jars: up to date in $lib"
  exit 0
fi

need_pkg() {  # a brand-new machine may lack the JDK or Maven: install them from Debian if we can
  local cmd="$1" pkg="$2"
  command -v "$cmd" >/dev/null 2>&1 && return 0
  if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "kafka jars: installing $pkg for $cmd"
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$pkg" >/dev/null
  else
    echo "kafka jars: '$cmd' is missing; install $pkg" >&2
    exit 1
  fi
}
need_pkg java openjdk-17-jre-headless
need_pkg mvn maven

java_major="$(java -XshowSettings:properties -version 2>&1 | awk -F' = ' '/java.specification.version/ {print $2}')"
if (( ${java_major%%.*} < 17 )); then
  echo "kafka jars: Kafka 4 needs Java 17 or newer, found $java_major" >&2
  exit 1
fi

mkdir -p "$here/target"
tmp="$(mktemp -d "$here/target/lib.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
echo "kafka jars: fetching into $lib"
if ! mvn -B -Dstyle.color=never -f "$here/pom.xml" dependency:copy-dependencies \
  -DincludeScope=runtime -DoutputDirectory="$tmp/lib" >"$tmp/mvn.log" 2>&1; then
  tail -n 40 "$tmp/mvn.log" >&2
  echo "kafka jars: mvn failed (last lines above)" >&2
  exit 1
fi
echo "$want" > "$tmp/lib/.fetched"
rm -rf "$lib"
mv "$tmp/lib" "$lib"
echo "kafka jars: $(find "$lib" -name '*.jar' | wc -l) jars in $lib"
