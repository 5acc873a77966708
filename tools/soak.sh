#!/usr/bin/env bash
# The churn soak (issue 17) on demand: 500 clients churning in 50 rooms against the built `presenced`
# binary for N minutes, VmRSS and connections sampled every second. Prints progress every 10 s and a
# summary table; leaves churn.csv, churn.svg (RSS and connections over time), summary.md and
# progress.log in the output directory. Exit status: that of the test (0: RSS flat within 5% of its
# 1-minute sample, back near the baseline once the clients left, every view exact, every room empty).
#
#   tools/soak.sh [--minutes N] [--out DIR] [--no-build]
set -euo pipefail
cd "$(dirname "$0")/.."

minutes=10
out="TestResults/soak-$(date -u +%Y%m%dT%H%M%SZ)"
build=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --minutes) minutes="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --no-build) build=0; shift ;;
    -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "soak.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
done
[[ "$minutes" =~ ^[0-9]+([.][0-9]+)?$ ]] || { echo "soak.sh: --minutes takes a number, got '$minutes'" >&2; exit 2; }

export PATH="$PATH:/usr/sbin"
ulimit -n 20000 2>/dev/null || true
mkdir -p "$out"
out="$(cd "$out" && pwd)"
if [[ $build == 1 ]]; then
  dotnet build src/PresenceD.Server/PresenceD.Server.csproj -c Release -v q -nologo
  dotnet build tests/PresenceD.Operations.Tests/PresenceD.Operations.Tests.csproj -c Release -v q -nologo
fi

echo "churn soak: $minutes min, output in $out"
: > "$out/progress.log"
tail -n +1 -F "$out/progress.log" 2>/dev/null &
tailer=$!
trap 'kill "$tailer" 2>/dev/null || true' EXIT
# The test's own deadline plus the warm-up and the checks at the end.
limit=$(awk -v m="$minutes" 'BEGIN { printf "%d", m * 60 + 300 }')
set +e
PD_SOAK_MINUTES="$minutes" PD_SOAK_OUT="$out" timeout "$limit" \
  dotnet test tests/PresenceD.Operations.Tests -c Release --no-build -nologo \
  --filter "FullyQualifiedName~Soak.ChurnSoakTests" > "$out/dotnet-test.log" 2>&1
status=$?
set -e
sleep 1 # lets tail print the last lines of the progress log before it is stopped
kill "$tailer" 2>/dev/null || true
if [[ $status -ne 0 ]]; then
  echo "soak FAILED (exit $status); see $out/dotnet-test.log"
  grep -E "Assert|Error Message|failed" -A3 "$out/dotnet-test.log" | head -30 || true
else
  echo "soak passed; chart $out/churn.svg, series $out/churn.csv"
fi
exit $status
