#!/usr/bin/env bash
# Scaling past one Redis (issue 11): cross-node messages through one redis-server against a Redis Cluster of 3
# masters, one sitting. Two presenced nodes, ROOMS rooms of 2 (presence-load `rooms --room-size 2` with both nodes
# in --server: connection i goes to node i mod 2, so every room has one member on each node and every message
# crosses Redis), open loop at RATE messages/s per connection. Before and after the measured run it reads each Redis
# process's INFO (commandstats: PUBLISH/SPUBLISH calls, the messages; cpu: used_cpu_user + used_cpu_sys) and each
# node's CPU from /proc, and prints per Redis process the messages it carried and its CPU per message.
# Before each run it takes as long an idle window (nodes up, no traffic) and prints the CPU per message net of it too.
# Usage: bench/shards/run.sh [OUT_DIR]   (build first: dotnet build -c Release)
# Env: ROOMS (300), RATE (50 per connection), DURATION (10s), ROUNDS (2)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-/tmp/pd-shards-bench}
rooms=${ROOMS:-300}
rate=${RATE:-50}
duration=${DURATION:-10s}
rounds=${ROUNDS:-2}
daemon="$root/src/PresenceD.Server/bin/Release/net10.0/presenced"
load="$root/tools/PresenceD.Load/bin/Release/net10.0/presence-load"
mkdir -p "$out"
ulimit -n 20000

redis_ports=()
redis_pids=()
node_pids=()
cleanup() {
  for pid in "${node_pids[@]}" "${redis_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

wait_port() { # port
  for _ in $(seq 200); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return; sleep 0.05; done
  echo "nothing listens on $1" >&2
  exit 1
}

start_redis() { # port extra-args...
  local port=$1
  shift
  redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$out" --logfile "$out/redis-$port.log" "$@" &
  redis_pids+=($!)
  redis_ports+=("$port")
  wait_port "$port"
}

start_nodes() { # redis-setting
  local i
  for i in 0 1; do
    "$daemon" --port $((7610 + i)) --node_id "node$i" --backplane redis --redis "$1" --log_level warning \
      --max_connections 20000 >"$out/node$i.log" 2>&1 &
    node_pids+=($!)
  done
  wait_port 7610
  wait_port 7611
}

stop_all() {
  cleanup
  redis_ports=()
  redis_pids=()
  node_pids=()
}

# Per Redis port: "<messages> <cpu seconds> <commands>" (PUBLISH + SPUBLISH calls; user + system CPU; all calls).
redis_sample() { # port
  redis-cli -p "$1" info all | tr -d '\r' | awk -F'[:,=]' '
    /^cmdstat_publish:/ || /^cmdstat_spublish:/ { calls += $3 }
    /^cmdstat_/ { all += $3 }
    /^used_cpu_sys:/ { cpu += $2 } /^used_cpu_user:/ { cpu += $2 }
    END { printf "%d %.3f %d\n", calls, cpu, all }'
}

# Seconds of a duration such as 10s or 500ms.
seconds_of() { # duration
  case $1 in *ms) awk "BEGIN { print ${1%ms} / 1000 }" ;; *s) echo "${1%s}" ;; *) echo "$1" ;; esac
}

node_cpu() { # pid -> CPU seconds
  awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f\n", ($14 + $15) / hz }' "/proc/$1/stat"
}

measure() { # label round
  local label=$1 round=$2 port
  # The deployment's cost without traffic (cron, cluster bus, the nodes' own maintenance), over as long as the run:
  # subtracted from the run's CPU, it leaves what the messages cost.
  declare -A idle_before idle_cpu
  for port in "${redis_ports[@]}"; do idle_before[$port]=$(redis_sample "$port"); done
  sleep "$(seconds_of "$duration")"
  for port in "${redis_ports[@]}"; do
    read -r _ c0 _ <<<"${idle_before[$port]}"
    read -r _ c1 _ <<<"$(redis_sample "$port")"
    idle_cpu[$port]=$(awk "BEGIN { print $c1 - $c0 }")
  done
  declare -A before
  for port in "${redis_ports[@]}"; do before[$port]=$(redis_sample "$port"); done
  local cpu0 cpu1
  cpu0=$(node_cpu "${node_pids[0]}")
  cpu1=$(node_cpu "${node_pids[1]}")
  "$load" rooms --server 127.0.0.1:7610,127.0.0.1:7611 --connections $((rooms * 2)) --room-size 2 --rate "$rate" \
    --duration "$duration" --json --no-progress --room-prefix "$label-$round" >"$out/$label-$round.json" || true
  local total=0 line
  line="$label round $round: $(python3 "$out/result.py" "$out/$label-$round.json")"
  echo "$line" | tee -a "$out/summary.txt"
  echo "  nodes CPU s: $(awk "BEGIN { print $(node_cpu "${node_pids[0]}") - $cpu0 }"), $(awk "BEGIN { print $(node_cpu "${node_pids[1]}") - $cpu1 }")" | tee -a "$out/summary.txt"
  for port in "${redis_ports[@]}"; do
    read -r m0 c0 a0 <<<"${before[$port]}"
    read -r m1 c1 a1 <<<"$(redis_sample "$port")"
    awk -v p="$port" -v m=$((m1 - m0)) -v a=$((a1 - a0)) -v c="$(awk "BEGIN { print $c1 - $c0 }")" -v i="${idle_cpu[$port]}" 'BEGIN {
      printf "  redis %s: %d messages (%d commands), %.2f s CPU (idle %.2f), %s us CPU per message (%s net of idle)\n", p, m, a, c, i,
        (m > 0 ? sprintf("%.2f", c * 1e6 / m) : "-"), (m > 0 ? sprintf("%.2f", (c - i) * 1e6 / m) : "-") }' | tee -a "$out/summary.txt"
  done
}

# One line of a presence-load --json result.
cat >"$out/result.py" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
lat = r["latency_us"]
print(f"{r['deliveries_per_s']:,.0f} deliveries/s ({r['target_rate']:,.0f} messages/s due), "
      f"p50 {lat['p50'] / 1000:.2f} ms, p99 {lat['p99'] / 1000:.2f} ms, delivered {r['delivered']} of {r['expected']}")
PY
: >"$out/summary.txt"
echo "code $(git -C "$root" rev-parse --short HEAD), $rooms rooms of 2 across two nodes, $rate msg/s per connection, $duration" | tee -a "$out/summary.txt"

for round in $(seq "$rounds"); do
  # One redis-server.
  start_redis 7620
  start_nodes 127.0.0.1:7620
  measure single "$round"
  stop_all

  # A Redis Cluster of 3 masters (no replicas: the figure is the work per shard), bus ports reserved beside them.
  for port in 7621 7622 7623; do
    start_redis "$port" --cluster-enabled yes --cluster-config-file "$out/nodes-$port-$round.conf" --cluster-port $((port + 100))
  done
  redis-cli --cluster create 127.0.0.1:7621 127.0.0.1:7622 127.0.0.1:7623 --cluster-replicas 0 --cluster-yes >"$out/create.log"
  for _ in $(seq 200); do
    ok=0
    for port in 7621 7622 7623; do redis-cli -p "$port" cluster info | grep -q 'cluster_state:ok' && ok=$((ok + 1)); done
    [[ $ok == 3 ]] && break
    sleep 0.1
  done
  start_nodes 127.0.0.1:7621,127.0.0.1:7622,127.0.0.1:7623
  measure cluster3 "$round"
  stop_all
done
echo "summary: $out/summary.txt"
