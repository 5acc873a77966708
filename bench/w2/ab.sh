#!/bin/bash
# Alternates W2 of the peers harness against several servers, N rounds, and prints per server and round the
# server's CPU per message, the load generator's CPU, p50/p99, and (with perf) the server's system calls and
# context switches per message over 5 s of the measured window. Used for issue 12's A/B runs, where the noise
# between runs is larger than the effects: compare within a round, and use the client's CPU as the machine's
# yardstick (it moves with the server's when the whole machine slows down).
#
#   PEERS=/tmp/peers bench/w2/ab.sh 4 redis "presenced:src/PresenceD.Server/bin/Release/net10.0/presenced" \
#       "inline:env SOME_SETTING=1 src/PresenceD.Server/bin/Release/net10.0/presenced"
#
# Each argument after N is `label:command` (the command gets the peers harness's presenced flags) or `redis`.
# PEERS is a copy of ../shared/peers whose FanoutBench is built (dotnet build FanoutBench -c Release).
set -u
rounds=${1:?rounds}; shift
PEERS=${PEERS:?copy of ../shared/peers with FanoutBench built}
BENCH="$PEERS/FanoutBench/bin/Release/net10.0/FanoutBench.dll"
DURATION=${DURATION:-10}
ulimit -n 20000
PRESENCED_FLAGS="--bind 127.0.0.1 --port 7400 --heartbeat_interval 100s --heartbeat_timeout 300s --hello_timeout 60s
  --max_rooms_per_connection 256 --max_connections 19900"
field() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p" <<<"$2"; }

one() { # label kind port command...
  local label=$1 kind=$2 port=$3; shift 3
  "$@" >"/tmp/w2ab-$label.log" 2>&1 &
  local pid=$! stat=/tmp/w2ab-$label.perf
  for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
  : >"$stat"
  # 5 s of perf stat inside the measured window (after setup and the 1 s warm-up)
  local perfpid=""
  if command -v perf >/dev/null; then
    (sleep 4; timeout -s INT 5 perf stat -x, -e raw_syscalls:sys_enter,context-switches -p "$pid" -o "$stat" 2>/dev/null) &
    perfpid=$!
  fi
  local out
  out=$(timeout 200 dotnet "$BENCH" --server "$kind" --port "$port" --pid "$pid" --workload W2 --duration "$DURATION" | grep RESULT)
  [[ -n $perfpid ]] && wait "$perfpid" 2>/dev/null
  kill "$pid"; wait "$pid" 2>/dev/null
  local sent cpu sys ctx
  sent=$(field sent "$out"); cpu=$(field server_cpu_s "$out")
  sys=$(awk -F, '/sys_enter/{print $1}' "$stat"); ctx=$(awk -F, '/context-switches/{print $1}' "$stat")
  awk -v l="$label" -v s="$sent" -v c="$cpu" -v cc="$(field client_cpu_s "$out")" -v p50="$(field p50_us "$out")" \
      -v p99="$(field p99_us "$out")" -v sys="${sys:-0}" -v ctx="${ctx:-0}" -v d="$DURATION" 'BEGIN {
    m5 = s * 5 / d  # messages in the 5 s perf window
    printf "%-12s server %.1f us/msg  client %.2f s  p50 %s us  p99 %s us  syscalls/msg %.2f  ctx/msg %.2f\n",
      l, 1e6 * c / s, cc, p50, p99, sys / m5, ctx / m5 }'
}

for r in $(seq "$rounds"); do
  echo "round $r"
  for spec in "$@"; do
    if [[ $spec == redis ]]; then
      one "redis" redis 6391 redis-server --port 6391 --bind 127.0.0.1 --protected-mode no --save '' --appendonly no --maxclients 19900
    else
      # shellcheck disable=SC2086 # the command and the flags are word lists
      one "${spec%%:*}" presenced 7400 ${spec#*:} $PRESENCED_FLAGS
    fi
  done
done
