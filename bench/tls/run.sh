#!/usr/bin/env bash
# TLS against plain TCP, one sitting (issue 15): the peers' W1 (fan-out, 1,000 subscribers, window 100), W2 (5,000
# connections in rooms of 10, 1 message/s each) and W3 shape (idle connections, server KB each) through presence-load,
# each workload alternating plain and TLS ROUNDS times. W1 and W2 run against one daemon with `tls optional`, so both
# variants meet the same process; each idle run gets a fresh daemon (`tls off` or `tls on`) so its RSS is its own.
# Usage: bench/tls/run.sh [OUT_DIR]   (build first: dotnet build -c Release)   Env: ROUNDS (2), IDLE (8000), DURATION (10s)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-/tmp/pd-tls-bench}
rounds=${ROUNDS:-2}
idle=${IDLE:-8000}
duration=${DURATION:-10s}
daemon="$root/src/PresenceD.Server/bin/Release/net10.0/presenced"
load="$root/tools/PresenceD.Load/bin/Release/net10.0/presence-load"
mkdir -p "$out"
ulimit -n 20000

# A throwaway CA and a server certificate for localhost (ECDSA P-256, as most deployments now use).
certs="$out/certs"
mkdir -p "$certs"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj "/CN=bench CA" \
  -keyout "$certs/ca.key" -out "$certs/ca.pem" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=localhost" \
  -keyout "$certs/server.key" -out "$certs/server.csr" 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >"$certs/ext.cnf"
openssl x509 -req -in "$certs/server.csr" -CA "$certs/ca.pem" -CAkey "$certs/ca.key" -CAcreateserial -days 2 \
  -extfile "$certs/ext.cnf" -out "$certs/server.pem" 2>/dev/null
tls_files=(--tls_cert_file "$certs/server.pem" --tls_key_file "$certs/server.key")

port=7690
start_daemon() { # extra settings...
  "$daemon" --port "$port" --log_level warning --max_connections 20000 --heartbeat_interval 5m --heartbeat_timeout 10m "$@" &
  pid=$!
  for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return; sleep 0.1; done
  echo "presenced did not start" >&2
  exit 1
}
stop_daemon() { kill "$pid"; wait "$pid" || true; }
variant_flags() { # plain|tls
  if [[ $1 == tls ]]; then echo --server "localhost:$port" --tls --ca-file "$certs/ca.pem"; else echo --server "127.0.0.1:$port"; fi
}

start_daemon --tls optional "${tls_files[@]}"
for round in $(seq "$rounds"); do
  for variant in plain tls; do
    # shellcheck disable=SC2046
    "$load" fanout $(variant_flags $variant) --subscribers 1000 --window 100 --duration "$duration" --json --no-progress \
      --server-pid "$pid" --room-prefix "w1-$variant-$round" >"$out/w1-$variant-$round.json"
    # shellcheck disable=SC2046
    "$load" rooms $(variant_flags $variant) --connections 5000 --room-size 10 --rate 1 --duration "$duration" --json --no-progress \
      --server-pid "$pid" --room-prefix "w2-$variant-$round" >"$out/w2-$variant-$round.json"
  done
done
stop_daemon

for round in $(seq "$rounds"); do
  for variant in plain tls; do
    if [[ $variant == tls ]]; then start_daemon --tls on "${tls_files[@]}"; else start_daemon; fi
    # shellcheck disable=SC2046
    "$load" idle $(variant_flags $variant) --connections "$idle" --duration 5s --json --no-progress --server-pid "$pid" \
      >"$out/w3-$variant-$round.json"
    stop_daemon
  done
done

echo "results in $out (one --json result per run)"
for f in "$out"/w*.json; do
  printf '%s: ' "$(basename "$f" .json)"
  python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); l=r.get("latency_us") or {}; print({k: r.get(k) for k in ("ok","connections","sent_per_s","deliveries_per_s","server_rss_mb","kb_per_conn","server_cpu_s","client_cpu_s")}, "p50", l.get("p50"), "p99", l.get("p99"))' "$f"
done
