#!/usr/bin/env bash
# The fuzz harness (issue 17) on demand, for N minutes each: generated and mutated client streams through
# the real frame reader, decoder, session and dispatcher with no sockets (Server.Tests Fuzz/), then the
# differential check of our MessagePack reader against the MessagePack 2.5.307 package (Protocol.Tests
# Fuzz/). Prints progress and a summary table (frames/s, inputs/s); exit status 0 when both passed.
#
#   tools/fuzz.sh [--minutes N] [--seed S] [--no-build]
set -euo pipefail
cd "$(dirname "$0")/.."

minutes=10
seed=$RANDOM
build=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --minutes) minutes="$2"; shift 2 ;;
    --seed) seed="$2"; shift 2 ;;
    --no-build) build=0; shift ;;
    -h|--help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "fuzz.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
done
[[ "$minutes" =~ ^[0-9]+([.][0-9]+)?$ ]] || { echo "fuzz.sh: --minutes takes a number, got '$minutes'" >&2; exit 2; }
[[ "$seed" =~ ^[0-9]+$ ]] || { echo "fuzz.sh: --seed takes a whole number, got '$seed'" >&2; exit 2; }

out="TestResults/fuzz-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
if [[ $build == 1 ]]; then
  dotnet build tests/PresenceD.Server.Tests/PresenceD.Server.Tests.csproj -c Release -v q -nologo
  dotnet build tests/PresenceD.Protocol.Tests/PresenceD.Protocol.Tests.csproj -c Release -v q -nologo
fi
limit=$(awk -v m="$minutes" 'BEGIN { printf "%d", m * 60 + 300 }')
export PD_FUZZ_MINUTES="$minutes" PD_FUZZ_SEED="$seed" PD_FUZZ_OUT="$out/figures.txt"
: > "$PD_FUZZ_OUT"
status=0
run() { # name, project, filter
  echo "$(date -u +%H:%M:%S) $1: $minutes min, seed $seed"
  if timeout "$limit" dotnet test "$2" -c Release --no-build -nologo --filter "$3" > "$out/$1.log" 2>&1; then
    echo "$(date -u +%H:%M:%S) $1: passed"
  else
    status=1
    echo "$(date -u +%H:%M:%S) $1: FAILED, see $out/$1.log"
    grep -E "Error Message" -A6 "$out/$1.log" | head -20 || true
  fi
}
run dispatch-fuzz tests/PresenceD.Server.Tests "FullyQualifiedName~Fuzz.EmbeddedDispatchFuzzTests"
run msgpack-differential tests/PresenceD.Protocol.Tests "FullyQualifiedName~Fuzz.MessagePackDifferentialTests"
echo
echo "| check | figures |"
echo "|---|---|"
sed 's/^\([^:]*\): /| \1 | /; s/$/ |/' "$PD_FUZZ_OUT"
exit $status
