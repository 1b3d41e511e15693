#!/usr/bin/env bash
# What billing costs (issue 6 target: ≤ 10% of the gateway's non-stream throughput): the same
# Hub, database and priced provider, billing off then on, alternating, in one run on this
# machine, against the nginx mock upstream (../shared/bench). Prints requests/s and the ratio.
#
#   scripts/bench-billing.sh                 # SQLite, 15 s per step, 2 rounds
#   BENCH_DB=postgres scripts/bench-billing.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BENCH=${BENCH_DIR:-$ROOT/../shared/bench}
SECS=${BENCH_SECS:-15}
ROUNDS=${BENCH_ROUNDS:-2}
CONNS=64
KEY=bench-admin-key-0123456789
WORK=$(mktemp -d)
HUB=http://127.0.0.1:18090

need() { command -v "$1" >/dev/null 2>&1; }
if ! need nginx || ! need wrk; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light wrk >/dev/null
fi

DB_URL="sqlite://$WORK/data/aigne-hub.db"
if [ "${BENCH_DB:-sqlite}" = postgres ]; then
  scripts/ensure-postgres.sh >/dev/null
  PGDB="aigne_bench_$$"
  psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $PGDB" postgres
  DB_URL="postgres://postgres@127.0.0.1:5432/$PGDB"
fi

cleanup() {
  [ -n "${HUB_PID:-}" ] && { kill "$HUB_PID" 2>/dev/null; wait "$HUB_PID" 2>/dev/null; } || true
  [ -f /tmp/mockllm-nginx.pid ] && kill "$(cat /tmp/mockllm-nginx.pid)" 2>/dev/null || true
  [ -n "${PGDB:-}" ] && { sleep 0.5; psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $PGDB" postgres >/dev/null 2>&1 || true; }
  rm -rf "$WORK"
}
trap cleanup EXIT

cargo build --release -p aigne-hub >/dev/null 2>&1
nginx -c "$BENCH/mock-upstream.nginx.conf" -p "$WORK" &
sleep 0.5

start_hub() {
  env -i PATH="$PATH" HOME="$HOME" RUST_LOG=warn \
    AIGNE_HUB_LISTEN=127.0.0.1:18090 AIGNE_HUB_DATA_DIR="$WORK/data" AIGNE_HUB_ADMIN_KEY=$KEY \
    AIGNE_HUB_DATABASE_URL="$DB_URL" AIGNE_HUB_BILLING__ENABLED="$1" \
    ./target/release/aigne-hub >> "$WORK/hub.log" 2>&1 &
  HUB_PID=$!
  for _ in $(seq 1 100); do curl -sf $HUB/healthz >/dev/null && return; sleep 0.1; done
  echo "hub did not start:"; cat "$WORK/hub.log"; exit 1
}
stop_hub() { kill -TERM "$HUB_PID"; wait "$HUB_PID" 2>/dev/null || true; HUB_PID=; }
api() { curl -sf -H "authorization: Bearer $KEY" -H 'content-type: application/json' "$@"; }

# A priced provider in the database (env-only providers have no rates), and credits that last.
start_hub false
PID=$(api -d '{"name":"openai","baseUrl":"http://127.0.0.1:18080/v1"}' $HUB/api/ai-providers | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
api -d '{"name":"k","value":"bench-upstream-key"}' $HUB/api/ai-providers/$PID/credentials >/dev/null
api -d '{"model":"gpt-4o-mini","type":"chatCompletion","inputRate":"0.0000025","outputRate":"0.00001"}' \
  $HUB/api/ai-providers/$PID/model-rates >/dev/null
ME=$(api $HUB/api/user/info | python3 -c 'import json,sys; print(json.load(sys.stdin)["user"]["did"])')
api -d "{\"userDid\":\"$ME\",\"amount\":\"100000000\"}" $HUB/api/credits/grants >/dev/null
stop_hub

rps() {
  local out
  out=$(MODEL=openai/gpt-4o-mini KEY=$KEY wrk -t2 -c$CONNS -d${SECS}s -s "$BENCH/chat.lua" $HUB/api/v2/chat/completions)
  local non2xx
  non2xx=$(awk '/Non-2xx/ {print $5}' <<<"$out")
  [ -z "$non2xx" ] || { echo "non-2xx answers: $non2xx" >&2; exit 1; }
  awk '/Requests\/sec/ {print $2}' <<<"$out"
}

off=(); on=()
for round in $(seq 1 "$ROUNDS"); do
  for billing in false true; do
    start_hub $billing
    r=$(rps)
    stop_hub
    if [ $billing = true ]; then on+=("$r"); else off+=("$r"); fi
    echo "round $round billing=$billing: $r req/s"
  done
done
python3 - "${off[*]}" "${on[*]}" <<'PY'
import sys
off = [float(x) for x in sys.argv[1].split()]
on = [float(x) for x in sys.argv[2].split()]
a, b = sum(off) / len(off), sum(on) / len(on)
print(f"billing off {a:.0f} req/s, on {b:.0f} req/s: on/off = {b / a:.3f} (cost {100 * (1 - b / a):.1f}%)")
PY
ME_ROWS=$(python3 - "$DB_URL" <<'PY' 2>/dev/null || true
import sys, sqlite3
url = sys.argv[1]
if url.startswith("sqlite://"):
    c = sqlite3.connect(url[len("sqlite://"):])
    print(c.execute("select coalesce(sum(call_count), 0) from credit_transactions where kind='usage'").fetchone()[0])
PY
)
[ -n "$ME_ROWS" ] && echo "calls debited in the ledger: $ME_ROWS"
