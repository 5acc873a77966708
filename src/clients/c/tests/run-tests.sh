#!/usr/bin/env bash
# Builds the C client with CMake under ASan/UBSan and runs its tests: the codec, a fake hostile
# server, the real daemon (every op, reconnects after a restart and a drain), and the bounded fuzz
# loop. Ends with "c-client: N passed, N failed" (the sum over the test programs).
# usage: run-tests.sh [BUILD_DIR]
# env:   PRESENCED_BIN   the daemon (default: the Release build of src/PresenceD.Server)
#        PD_SANITIZE     ON (default) or OFF
#        PD_FUZZ_SECONDS length of the fuzz loop (default 20)
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source_dir="$(dirname "$here")"
repo_root="$(cd "$source_dir/../../.." && pwd)"
build_dir="${1:-$repo_root/TestResults/c-client}"
export PRESENCED_BIN="${PRESENCED_BIN:-$repo_root/src/PresenceD.Server/bin/Release/net10.0/presenced}"
export PD_FUZZ_SECONDS="${PD_FUZZ_SECONDS:-20}"
# Leaks and undefined behaviour are errors; a report names the file and line.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

mkdir -p "$build_dir"
if ! cmake -S "$source_dir" -B "$build_dir" -DCMAKE_BUILD_TYPE=Debug -DPD_SANITIZE="${PD_SANITIZE:-ON}" \
      -DPRESENCED_BIN="$PRESENCED_BIN" >"$build_dir/configure.log" 2>&1 ||
   ! cmake --build "$build_dir" -j 2 >"$build_dir/build.log" 2>&1; then
  cat "$build_dir/configure.log" "$build_dir/build.log" 2>/dev/null | tail -n 60
  echo "c-client: 0 passed, 1 failed"
  exit 1
fi

passed=0
failed=0
for test in test_codec test_hostile test_client fuzz_decoder; do
  log="$build_dir/$test.log"
  status=0
  (cd "$build_dir" && "./$test") >"$log" 2>&1 || status=$?
  counts=$(sed -n 's/^[a-z]*: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' "$log" | tail -n 1)
  p=0 f=0
  if [[ -n "$counts" ]]; then read -r p f <<<"$counts"; fi
  # A crash or a sanitizer report after the last test still fails the program.
  if ((status != 0 && f == 0)); then f=1; fi
  passed=$((passed + p))
  failed=$((failed + f))
  if ((f > 0)); then
    echo "---- $test output ($log) ----"
    tail -n 120 "$log"
    echo "---- end of $test output ----"
  fi
  grep -E '^fuzz: [0-9]+ inputs' "$log" || true
  echo "$test: $p passed, $f failed"
done
echo "c-client: $passed passed, $failed failed"
((failed == 0))
