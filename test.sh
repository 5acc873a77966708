#!/usr/bin/env bash
# The one test command for CI and developers: installs what the tests need, builds PresenceD.sln (Release),
# runs every tests/*/*.Tests.csproj in turn and ends with the line "N passed, N failed".
# Extra arguments go to every `dotnet test` call, e.g. ./test.sh --filter "FullyQualifiedName~Framing".
# Environment: PRESENCED_TEST_TIMEOUT (seconds per project, default 720),
#              PRESENCED_TEST_BUDGET (seconds for build + all tests, default 1500; installs are not counted).
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$repo_root"

per_project_timeout="${PRESENCED_TEST_TIMEOUT:-720}"
budget="${PRESENCED_TEST_BUDGET:-1500}"
results_dir="$repo_root/TestResults/test-sh"
logs_dir="$results_dir/logs"

# redis-server and haproxy live in /usr/sbin, which a non-login PATH may lack.
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
# Reused MSBuild nodes outlive the run and can hold CI's output pipe open.
export MSBUILDDISABLENODEREUSE=1

say() { printf '%s\n' "$*"; }
warn() { printf 'test.sh: warning: %s\n' "$*" >&2; }
die() {
  printf 'test.sh: error: %s\n' "$*" >&2
  say "0 passed, 1 failed"
  exit 1
}

# Prints a log whole when short, else its head and tail, so a failure stays readable in CI output.
show_log() {
  local file="$1" lines
  lines=$(wc -l <"$file")
  if ((lines <= 600)); then
    cat "$file"
  else
    head -n 300 "$file"
    say "... ($((lines - 500)) lines cut, full log: $file) ..."
    tail -n 200 "$file"
  fi
}

apt_lists_present() {
  compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null
}

# Installs packages quietly; refreshes package lists only when the first attempt failed for lack of them.
apt_install() {
  local log
  log=$(mktemp)
  local -a install=(apt-get install -y -qq --no-install-recommends -o Dpkg::Use-Pty=0 "$@")
  if DEBIAN_FRONTEND=noninteractive "${install[@]}" >"$log" 2>&1; then
    rm -f "$log"
    return 0
  fi
  if ! apt_lists_present || grep -qE 'Unable to locate package|has no installation candidate|404' "$log"; then
    if DEBIAN_FRONTEND=noninteractive apt-get update -qq >"$log" 2>&1 &&
      DEBIAN_FRONTEND=noninteractive "${install[@]}" >"$log" 2>&1; then
      rm -f "$log"
      return 0
    fi
  fi
  cat "$log" >&2
  rm -f "$log"
  return 1
}

# Package postinst scripts would otherwise start redis/haproxy services that outlive the run.
with_services_blocked() {
  local policy=/usr/sbin/policy-rc.d created=0 status=0
  if [[ ! -e "$policy" && -w /usr/sbin ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && created=1
  fi
  "$@" || status=$?
  if ((created)); then rm -f "$policy"; fi
  return "$status"
}

install_dependencies() {
  local -a missing=()
  command -v redis-server >/dev/null || missing+=(redis-server)
  command -v haproxy >/dev/null || missing+=(haproxy)
  command -v node >/dev/null || missing+=(nodejs)
  command -v npm >/dev/null || missing+=(npm)
  if ((${#missing[@]})); then
    say "installing: ${missing[*]}"
    command -v apt-get >/dev/null || die "missing ${missing[*]} and no apt-get to install them"
    with_services_blocked apt_install "${missing[@]}" || die "apt-get could not install: ${missing[*]}"
  fi
  if ! command -v promtool >/dev/null; then
    say "installing: prometheus (for promtool check/test rules)"
    with_services_blocked apt_install prometheus ||
      warn "could not install prometheus; the alert rule tests will skip promtool"
  fi
  if ! command -v systemd-analyze >/dev/null; then
    say "installing: systemd (for systemd-analyze verify)"
    with_services_blocked apt_install systemd ||
      warn "could not install systemd; tests that need systemd-analyze will skip that check"
  fi
}

raise_open_files_limit() {
  local hard
  hard=$(ulimit -Hn)
  ulimit -n "$hard" 2>/dev/null || warn "could not raise the open-files limit to $hard (now $(ulimit -n))"
}

install_interop_modules() {
  local dir="$repo_root/tests/interop"
  [[ -f "$dir/package-lock.json" ]] || return 0
  # npm writes node_modules/.package-lock.json on every install: it stamps when node_modules was made.
  if [[ -f "$dir/node_modules/.package-lock.json" && ! "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]]; then
    return 0
  fi
  say "npm ci in tests/interop"
  local log="$logs_dir/npm-ci.log"
  if ! (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) >"$log" 2>&1; then
    show_log "$log" >&2
    die "npm ci failed in tests/interop"
  fi
}

build_solution() {
  local log="$logs_dir/build.log" started=$SECONDS
  local -a extra=()
  # In CI no compiler server may outlive the run.
  if [[ "${CI:-}" == "true" ]]; then extra+=(-p:UseSharedCompilation=false); fi
  say "building PresenceD.sln (Release)"
  local status=0
  timeout --kill-after=30 "$((deadline - SECONDS))" \
    dotnet build PresenceD.sln -c Release -nologo -v quiet "${extra[@]}" >"$log" 2>&1 || status=$?
  if ((status != 0)); then
    show_log "$log" >&2
    if ((status == 124 || status == 137)); then die "build timed out (budget ${budget} s)"; fi
    die "build failed"
  fi
  say "build ok ($((SECONDS - started)) s)"
}

# Echoes "passed failed skipped" from a .trx file's Counters element (errors, timeouts, aborts count as failed;
# VSTest leaves notExecuted at 0 for skipped tests, so skipped is total - executed).
trx_counts() {
  local counters
  counters=$(grep -o '<Counters [^>]*>' "$1" | head -n 1 || true)
  attr() {
    local value
    value=$(sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p" <<<"$counters")
    printf '%s' "${value:-0}"
  }
  say "$(attr passed) $(($(attr failed) + $(attr error) + $(attr timeout) + $(attr aborted))) $(($(attr total) - $(attr executed)))"
}

total_passed=0
total_failed=0
total_skipped=0

run_project() {
  local project="$1"
  shift
  local name log trx remaining limit status=0 started=$SECONDS passed=0 failed=0 skipped=0
  name=$(basename "$project" .csproj)
  log="$logs_dir/$name${run_suffix:-}.log"
  trx="$results_dir/$name${run_suffix:-}.trx"
  # Only the solution is built, so a project left out of it would run stale or missing binaries.
  if ! grep -qF -e "\\$name.csproj\"" -e "/$name.csproj\"" PresenceD.sln; then
    say "$name: not run, $project is not in PresenceD.sln (dotnet sln PresenceD.sln add $project)"
    total_failed=$((total_failed + 1))
    return
  fi
  remaining=$((deadline - SECONDS))
  if ((remaining < 15)); then
    say "$name: not run, the ${budget} s budget is spent"
    total_failed=$((total_failed + 1))
    return
  fi
  limit=$((remaining < per_project_timeout ? remaining : per_project_timeout))
  timeout --kill-after=30 "$limit" dotnet test "$project" -c Release --no-build \
    --logger "trx;LogFileName=$name${run_suffix:-}.trx" --results-directory "$results_dir" "$@" >"$log" 2>&1 || status=$?
  if [[ -f "$trx" ]]; then
    read -r passed failed skipped < <(trx_counts "$trx")
  fi
  if ((status != 0 && failed == 0)); then
    failed=1
  fi
  total_passed=$((total_passed + passed))
  total_failed=$((total_failed + failed))
  total_skipped=$((total_skipped + skipped))
  local summary="$name${run_suffix:-}: $passed passed, $failed failed, $skipped skipped ($((SECONDS - started)) s)"
  if ((status == 124 || status == 137)); then
    summary="$summary - TIMED OUT after $limit s"
  elif ((status != 0)); then
    summary="$summary - dotnet test exited with $status"
  fi
  if ((failed > 0)); then
    say "---- $name${run_suffix:-} output ----"
    show_log "$log"
    say "---- end of $name${run_suffix:-} output ----"
  fi
  say "$summary"
}

# The C client (src/clients/c): a CMake build under ASan/UBSan, its tests against the built daemon and a
# fake hostile server, and the fuzz loop (20 s); its counts join the totals. Installs cmake and gcc if missing.
run_c_client_tests() {
  local script="$repo_root/src/clients/c/tests/run-tests.sh" log="$logs_dir/c-client.log" started=$SECONDS
  local status=0 counts passed=0 failed=0
  local -a missing=()
  command -v cmake >/dev/null || missing+=(cmake)
  command -v cc >/dev/null || missing+=(gcc)
  if ((${#missing[@]})); then
    say "installing: ${missing[*]}"
    if ! apt_install "${missing[@]}"; then
      say "c-client: not run, apt-get could not install: ${missing[*]}"
      total_failed=$((total_failed + 1))
      return
    fi
  fi
  timeout --kill-after=30 300 bash "$script" "$results_dir/c-client" >"$log" 2>&1 || status=$?
  counts=$(sed -n 's/^c-client: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' "$log" | tail -n 1)
  if [[ -n "$counts" ]]; then read -r passed failed <<<"$counts"; fi
  if ((status != 0 && failed == 0)); then failed=1; fi
  if ((failed > 0)); then
    say "---- c-client output ----"
    show_log "$log"
    say "---- end of c-client output ----"
  fi
  total_passed=$((total_passed + passed))
  total_failed=$((total_failed + failed))
  say "c-client: $passed passed, $failed failed ($((SECONDS - started)) s)"
}

main() {
  # One stream, so the closing "N passed, N failed" line is last however CI captures output.
  exec 2>&1
  command -v dotnet >/dev/null || die "the .NET SDK (dotnet) is not on PATH"
  rm -rf "$results_dir"
  mkdir -p "$logs_dir"

  install_dependencies
  raise_open_files_limit
  install_interop_modules

  deadline=$((SECONDS + budget))
  build_solution

  local -a projects=()
  local project
  for project in tests/*/*.Tests.csproj; do
    [[ -f "$project" ]] && projects+=("$project")
  done
  say "running ${#projects[@]} test project(s)"
  for project in "${projects[@]}"; do
    run_project "$project" "$@"
  done
  # The server's tests once more on the other send engine (io_engine epoll; the default run is io_uring).
  PRESENCED_TEST_IO_ENGINE=epoll run_suffix=".epoll" run_project tests/PresenceD.Server.Tests/PresenceD.Server.Tests.csproj "$@"
  run_c_client_tests

  if ((total_skipped > 0)); then say "$total_skipped skipped"; fi
  say "$total_passed passed, $total_failed failed"
  ((total_failed == 0))
}

main "$@"
