#!/usr/bin/env bash
# ensure-package.sh <command> <debian-package>: install a system tool the project uses (nginx for
# `make up`'s front door, wrk for `make bench`) when it is missing and this machine can: as root,
# or with password-less sudo, through apt-get. Otherwise say so and succeed: callers fall back.
set -uo pipefail
cmd="$1"; pkg="$2"
if command -v "$cmd" >/dev/null 2>&1 || [ -x "/usr/sbin/$cmd" ]; then exit 0; fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "note: $cmd is not installed and there is no apt-get here; install $pkg yourself" >&2
  exit 0
fi
if [ "$(id -u)" = 0 ]; then sudo=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo -n"
else
  echo "note: $cmd is not installed; run: sudo apt-get install $pkg" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
echo "installing $pkg (apt-get) for $cmd" >&2
$sudo apt-get install -y -q --no-install-recommends "$pkg" >/dev/null \
  || { $sudo apt-get update -q >/dev/null && $sudo apt-get install -y -q --no-install-recommends "$pkg" >/dev/null; } \
  || echo "note: could not install $pkg; install it yourself" >&2
exit 0
