#!/usr/bin/env bash
# The dashboard at scale: N live UDP streams (default 64) into vigil serve and the mosaic in Debian's
# chromium at 1920×1080, medium tiles then small ones (all on screen); prints frame times (rAF),
# long tasks and thumbnail bytes per second, and writes TestResults/dashboard/scale-N.json.
# Usage: scripts/bench-dashboard.sh [STREAMS] [SECONDS]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/setup.sh" --tests
export VIGIL_DASHBOARD_SCALE="${1:-64}" VIGIL_DASHBOARD_SECONDS="${2:-30}"
dotnet test "$root/tests/Vigil.Tests" -c Release -nologo --filter "FullyQualifiedName~DashboardScaleTests" --logger "console;verbosity=detailed" |
  grep -E "tiles [ms]:|screenshot:|figures:|Passed|Failed|Error" || true
