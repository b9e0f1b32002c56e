#!/usr/bin/env bash
# Installs a Debian package that tests need, when it is missing:
#   bash deploy/debian-package.sh PACKAGE 'CHECK' 'WHAT IT IS FOR'
# CHECK is a shell command that succeeds when the package's files are there (then this is a no-op). Needs
# root (apt-get); without it, says how and exits 0, so `make setup` still works for a developer, and the
# tests that need the package then say what is missing (or skip, outside CI).
set -euo pipefail
package=$1 check=$2 what=$3

if eval "$check" >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "deploy/debian-package.sh: not root, so $package ($what) is not installed; install it with:" \
    "sudo apt-get install --no-install-recommends $package" >&2
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  echo "deploy/debian-package.sh: no apt-get here; install $package ($what) by other means" >&2
  exit 1
fi
echo "deploy/debian-package.sh: installing Debian's $package ($what)" >&2
apt-get update -qq
# No recommends: only the package itself is needed (prometheus would pull node-exporter and friends).
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$package" >/dev/null
if ! eval "$check" >/dev/null 2>&1; then
  echo "deploy/debian-package.sh: $package installed, but its check still fails: $check" >&2
  exit 1
fi
