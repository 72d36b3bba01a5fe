#!/usr/bin/env bash
# Installs what the tests need beyond scripts/setup.sh: s3rver (npm), the S3-compatible server the
# results-to-S3 tests run on 127.0.0.1, into .vigil/tools; PostgreSQL's server programs (Debian
# `postgresql`), which the fleet tests run as a private throwaway server on a 127.0.0.1 port (they start
# and remove it themselves; the system's own PostgreSQL service is not used); and Debian's chromium, the
# browser the dashboard tests drive through Playwright (never a downloaded browser). Idempotent and quiet
# when all is there.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$root/.vigil/tools"
s3rver_version="3.7.1"

if ! command -v npm >/dev/null; then
  echo "vigil test-setup: installing nodejs and npm" >&2
  sudo=""; [[ $(id -u) -eq 0 ]] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq >&2
  $sudo apt-get install -y -qq --no-install-recommends nodejs npm >&2
fi

apt_install() {
  local sudo=""; [[ $(id -u) -eq 0 ]] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  for attempt in 1 2 3 4 5 6; do # another apt run may hold dpkg's lock for a while
    if $sudo apt-get update -qq >&2 && $sudo apt-get install -y -qq --no-install-recommends "$@" >&2; then return 0; fi
    echo "vigil test-setup: apt-get failed (attempt $attempt), retrying in 10 s" >&2
    sleep 10
  done
  return 1
}

if ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || ! command -v runuser >/dev/null; then
  echo "vigil test-setup: installing postgresql (server programs for the fleet tests)" >&2
  apt_install postgresql util-linux
fi

if [[ ! -x /usr/bin/chromium ]]; then
  echo "vigil test-setup: installing chromium (the browser of the dashboard tests)" >&2
  apt_install chromium
fi

if [[ ! -x "$tools/node_modules/.bin/s3rver" ]]; then
  echo "vigil test-setup: installing s3rver $s3rver_version into $tools" >&2
  mkdir -p "$tools"
  npm install --prefix "$tools" --no-audit --no-fund --loglevel=error "s3rver@$s3rver_version" >&2
fi
