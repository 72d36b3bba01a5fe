#!/usr/bin/env bash
# Installs what Vigil needs on Debian/Ubuntu when it is missing: FFmpeg's development headers (the
# native shim compiles against them), the ffmpeg CLI (demo clips, tests, benchmarks), a C compiler,
# make and pkg-config, GNU time (peak memory in benchmarks), and Node.js with npm (the build installs
# the dashboard's packages from web/package-lock.json). With --tests, also what only the
# tests need. Idempotent and quiet when all is there.
set -euo pipefail
tests=0; [[ "${1:-}" == "--tests" ]] && tests=1
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

need=()
have_pkg() { pkg-config --exists "$1" 2>/dev/null; }
command -v cc >/dev/null || need+=(gcc)
command -v make >/dev/null || need+=(make)
command -v pkg-config >/dev/null || need+=(pkg-config)
command -v ffmpeg >/dev/null || need+=(ffmpeg)
[[ -x /usr/bin/time ]] || need+=(time)
# the dashboard (web/) is built with npm by the .NET build
command -v node >/dev/null || need+=(nodejs)
command -v npm >/dev/null || need+=(npm)
for lib in libavformat libavcodec libavutil libswscale libswresample; do
  have_pkg "$lib" || need+=("$lib-dev")
done

if ((${#need[@]})); then
  echo "vigil setup: installing ${need[*]}" >&2
  sudo=""; [[ $(id -u) -eq 0 ]] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq >&2
  $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
fi

if ! command -v dotnet >/dev/null; then
  echo "vigil setup: the .NET 10 SDK is required (https://learn.microsoft.com/dotnet/core/install/linux-debian)" >&2
  exit 1
fi

if ((tests)); then
  "$root/scripts/test-setup.sh"
fi
