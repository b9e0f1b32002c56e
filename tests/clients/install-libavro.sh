#!/usr/bin/env bash
# Installs Debian's `libavro-dev` (Apache Avro C 1.11.1), which the C client of the Avro conformance tests
# links (tests/clients/c). Idempotent: a no-op when avro.h is there. Needs root (apt-get); without it, says
# how and exits 0, so `make setup` goes on and tests/clients/build.sh then names what is missing.
set -euo pipefail

if [ -f /usr/include/avro.h ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "tests/clients/install-libavro.sh: not root, so Apache Avro C is not installed; install it with:" \
    "sudo apt-get install --no-install-recommends libavro-dev" >&2
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  echo "tests/clients/install-libavro.sh: no apt-get here; install Apache Avro C 1.11 (avro.h, libavro)" >&2
  exit 1
fi
echo "tests/clients/install-libavro.sh: installing Debian's libavro-dev" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libavro-dev >/dev/null
