#!/usr/bin/env bash
# A/B of two Hub binaries on the gateway path (../shared/bench fixtures): both run at once on
# SQLite against the nginx mock upstream, and wrk alternates between them in rounds, so machine
# noise hits both alike. Prints each round's ratio and the total ratio B/A (non-streaming chat,
# 64 connections). Needs nginx, wrk and bc (Debian; nginx and wrk installed if missing).
#
#   scripts/bench-ab.sh OLD_BINARY NEW_BINARY          # AB_ROUNDS (5) rounds of AB_SECS (6) each
set -euo pipefail
cd "$(dirname "$0")/.."
A=${1:?old binary}
B=${2:?new binary}
BENCH=${BENCH_DIR:-$PWD/../shared/bench}
ROUNDS=${AB_ROUNDS:-5}
SECS=${AB_SECS:-6}
KEY=bench-admin-key-0123456789
WORK=$(mktemp -d)
command -v nginx >/dev/null && command -v wrk >/dev/null ||
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light wrk >/dev/null
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -f /tmp/mockllm-nginx.pid ] && kill "$(cat /tmp/mockllm-nginx.pid)" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
nginx -c "$BENCH/mock-upstream.nginx.conf" -p "$WORK" > /dev/null 2>&1 &
sleep 0.5

start_hub() { # binary port
  env -i PATH="$PATH" HOME="$HOME" RUST_LOG=warn \
    AIGNE_HUB_LISTEN=127.0.0.1:$2 AIGNE_HUB_DATA_DIR="$WORK/data-$2" AIGNE_HUB_ADMIN_KEY=$KEY \
    OPENAI_API_KEY=bench-upstream-key OPENAI_BASE_URL=http://127.0.0.1:18080/v1 \
    DEEPSEEK_API_KEY=bench-upstream-key DEEPSEEK_BASE_URL=http://127.0.0.1:18080/sse/v1 \
    "$1" > "$WORK/hub-$2.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$2/healthz" >/dev/null && return; sleep 0.1; done
  echo "hub $1 did not start" >&2; exit 1
}
start_hub "$A" 18091
start_hub "$B" 18092

rps() { # port model
  MODEL=$2 KEY=$KEY wrk -t2 -c64 -d${SECS}s -s "$BENCH/chat.lua" "http://127.0.0.1:$1/api/v2/chat/completions" |
    awk '/Requests\/sec/ {print $2}'
}
for model in openai/gpt-4o-mini; do
  ta=0; tb=0
  for r in $(seq 1 "$ROUNDS"); do
    a=$(rps 18091 "$model"); b=$(rps 18092 "$model")
    ta=$(echo "$ta + $a" | bc -l); tb=$(echo "$tb + $b" | bc -l)
    printf '%s round %d: A %.0f B %.0f req/s, B/A %.3f\n' "$model" "$r" "$a" "$b" "$(echo "$b / $a" | bc -l)"
  done
  printf '%s: B/A %.3f over %d rounds\n' "$model" "$(echo "$tb / $ta" | bc -l)" "$ROUNDS"
done
