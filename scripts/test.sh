#!/usr/bin/env bash
# The test command (README, CI): installs what is missing, builds, runs every test, and ends with
# one plain "N passed, N failed, N skipped" line. Extra arguments go to `dotnet test` (e.g. --filter Black).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/setup.sh" --tests

log="$(mktemp)"
status=0
dotnet test "$root/Vigil.slnx" -c Release -nologo "$@" 2>&1 | tee "$log" || status=$?

# VSTest prints one line per test assembly: "Passed!  - Failed: 0, Passed: 42, Skipped: 0, Total: 42, ..."
read -r passed failed skipped < <(grep -E '(Passed|Failed)! +- Failed:' "$log" | sed -E 's/.*Failed: *([0-9]+), Passed: *([0-9]+), Skipped: *([0-9]+).*/\2 \1 \3/' |
  awk '{p+=$1; f+=$2; s+=$3} END {print p+0, f+0, s+0}')
rm -f "$log"
echo "tests: ${passed} passed, ${failed} failed, ${skipped} skipped"
if [[ $status -ne 0 || $failed -ne 0 || $passed -eq 0 ]]; then exit 1; fi
