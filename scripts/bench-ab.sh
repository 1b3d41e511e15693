#!/usr/bin/env bash
# A/B of two Hub binaries on the gateway path (../shared/bench fixtures): both run at once on
# SQLite against the nginx mock upstream, and wrk alternates between them in rounds, so machine
# noise hits both alike. Prints each round's ratio and the total ratio B/A (non-streaming chat,
# 64 connections). Needs nginx, wrk and bc (Debian; nginx and wrk installed if missing).
#
#   scripts/bench-ab.sh OLD_BINARY NEW_BINARY          # AB_ROUNDS (5) rounds of AB_SECS (6) each
#   AB_STEPS=responses scripts/bench-ab.sh OLD NEW     # stored Responses turns (JSON, stream):
#                                                      # median p50 at 1000 req/s (oha), B/A
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
    XAI_API_KEY=bench-upstream-key XAI_BASE_URL=http://127.0.0.1:18080/v1 \
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
STEPS=" ${AB_STEPS:-chat} "
if [[ $STEPS == *" responses "* ]]; then
  command -v oha >/dev/null || cargo install oha --locked
  p50() { # port body
    oha -q 1000 -z 3s -c 64 --no-tui --output-format json -m POST -H 'content-type: application/json' \
      -H "authorization: Bearer $KEY" -d "$2" "http://127.0.0.1:$1/v1/responses" |
      python3 -c 'import json,sys; print("%.3f" % (json.load(sys.stdin)["latencyPercentiles"]["p50"] * 1000))'
  }
  for body in '{"model":"xai/gpt-4o-mini","input":"Say hello."}' \
              '{"model":"deepseek/gpt-4o-mini","stream":true,"input":"Say hello."}'; do
    as=(); bs=()
    for _ in $(seq 1 "$ROUNDS"); do as+=("$(p50 18091 "$body")"); bs+=("$(p50 18092 "$body")"); done
    python3 - "$body" "${as[*]}" "${bs[*]}" <<'PY'
import statistics, sys
a = statistics.median(map(float, sys.argv[2].split()))
b = statistics.median(map(float, sys.argv[3].split()))
print(f"responses {sys.argv[1]}: p50 A {a:.3f} ms B {b:.3f} ms, B/A {b / a:.3f}")
PY
  done
fi
[[ $STEPS == *" chat "* ]] || exit 0
for model in openai/gpt-4o-mini; do
  ta=0; tb=0
  for r in $(seq 1 "$ROUNDS"); do
    a=$(rps 18091 "$model"); b=$(rps 18092 "$model")
    ta=$(echo "$ta + $a" | bc -l); tb=$(echo "$tb + $b" | bc -l)
    printf '%s round %d: A %.0f B %.0f req/s, B/A %.3f\n' "$model" "$r" "$a" "$b" "$(echo "$b / $a" | bc -l)"
  done
  printf '%s: B/A %.3f over %d rounds\n' "$model" "$(echo "$tb / $ta" | bc -l)" "$ROUNDS"
done
