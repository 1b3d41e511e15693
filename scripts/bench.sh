#!/usr/bin/env bash
# Gateway benchmark (issue 4): the Hub against nginx as a pure proxy and against the mock hit
# directly, all in one run on this machine (../shared/bench fixtures). Prints ratios and the
# numbers behind them. Needs nginx + wrk (Debian) and oha (crates.io); installs them if missing.
#
#   scripts/bench.sh              # default: 15 s per step
#   BENCH_SECS=60 scripts/bench.sh
#   BENCH_ROUNDS=3                # the throughput step alternates proxy, Hub and floor this
#                                 # many times, BENCH_SECS / BENCH_ROUNDS each (at least 5 s)
#   BENCH_STEPS="dialects"        # only these steps (default: throughput latency dialects)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BENCH=${BENCH_DIR:-$ROOT/../shared/bench}
SECS=${BENCH_SECS:-15}
STEPS=" ${BENCH_STEPS:-throughput latency dialects} "
step_on() { [[ $STEPS == *" $1 "* ]]; }
CONNS=64
RATE=1000
KEY=bench-admin-key-0123456789
WORK=$(mktemp -d)

need() { command -v "$1" >/dev/null 2>&1; }
if ! need nginx || ! need wrk; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light wrk >/dev/null
fi
need oha || cargo install oha --locked

cleanup() {
  [ -n "${HUB_PID:-}" ] && kill "$HUB_PID" 2>/dev/null || true
  [ -n "${FLOOR_PID:-}" ] && kill "$FLOOR_PID" 2>/dev/null || true
  [ -f /tmp/mockllm-nginx.pid ] && kill "$(cat /tmp/mockllm-nginx.pid)" 2>/dev/null || true
  [ -f /tmp/purepx-nginx.pid ] && kill "$(cat /tmp/purepx-nginx.pid)" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

cargo build --release -p aigne-hub --bin aigne-hub --example forward_floor >/dev/null 2>&1
nginx -c "$BENCH/mock-upstream.nginx.conf" -p "$WORK" &
nginx -c "$BENCH/pure-proxy.nginx.conf" -p "$WORK" &
sleep 0.5

env -i PATH="$PATH" HOME="$HOME" RUST_LOG=warn \
  AIGNE_HUB_LISTEN=127.0.0.1:18090 AIGNE_HUB_DATA_DIR="$WORK/data" AIGNE_HUB_ADMIN_KEY=$KEY \
  OPENAI_API_KEY=bench-upstream-key OPENAI_BASE_URL=http://127.0.0.1:18080/v1 \
  DEEPSEEK_API_KEY=bench-upstream-key DEEPSEEK_BASE_URL=http://127.0.0.1:18080/sse/v1 \
  XAI_API_KEY=bench-upstream-key XAI_BASE_URL=http://127.0.0.1:18080/v1 \
  ./target/release/aigne-hub > "$WORK/hub.log" 2>&1 &
HUB_PID=$!
for _ in $(seq 1 100); do curl -sf http://127.0.0.1:18090/healthz >/dev/null && break; sleep 0.1; done

JSON_BODY='{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"Say hello."}]}'
STREAM_BODY='{"model":"deepseek/gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"Say hello."}]}'
MOCK_STREAM_BODY='{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"Say hello."}]}'
answered=0

# wrk: $STEP seconds at $CONNS connections. Prints "rps total non2xx".
wrk_rps() {
  local url=$1 model=$2 key=$3
  local out
  out=$(MODEL=$model KEY=$key wrk -t2 -c$CONNS -d${STEP}s -s "$BENCH/chat.lua" "$url")
  local rps non2xx total
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  total=$(awk '/requests in/ {print $1}' <<<"$out")
  non2xx=$(awk '/Non-2xx/ {print $5}' <<<"$out"); non2xx=${non2xx:-0}
  echo "$rps $total $non2xx"
}

# CPU time of a process so far, by thread name, in clock ticks: prints one JSON object
# {"thread name": [user, system], ...} (threads of one name are summed).
cpu_snapshot() {
  python3 - "$1" <<'PY'
import json, os, sys
pid = sys.argv[1]
out = {}
for tid in os.listdir(f"/proc/{pid}/task"):
    try:
        stat = open(f"/proc/{pid}/task/{tid}/stat").read()
    except FileNotFoundError:
        continue
    name = stat[stat.index("(") + 1:stat.rindex(")")]
    fields = stat[stat.rindex(")") + 2:].split()
    user, system = out.get(name, (0, 0))
    out[name] = (user + int(fields[11]), system + int(fields[12]))
print(json.dumps(out))
PY
}

# CPU per request over the rounds: the snapshot pairs in $1 (before/after lines), $2 requests.
cpu_per_request() {
  python3 - "$1" "$2" "$(getconf CLK_TCK)" <<'PY'
import json, sys
lines = open(sys.argv[1]).read().split("\n")
requests, tck = int(sys.argv[2]), int(sys.argv[3])
spent = {}
for before, after in zip(lines[0::2], lines[1::2]):
    b, a = json.loads(before), json.loads(after)
    for name, (u, s) in a.items():
        u0, s0 = b.get(name, (0, 0))
        pu, ps = spent.get(name, (0, 0))
        spent[name] = (pu + u - u0, ps + s - s0)
us = lambda ticks: ticks * 1e6 / tck / max(requests, 1)
labels = {"actix-rt|system": "HTTP workers", "usage-writer": "usage writer",
          "tokio-rt-worker": "blocking pool (WAL checkpoint)"}
total = 0.0
parts = []
for name, (u, s) in sorted(spent.items(), key=lambda kv: -sum(kv[1])):
    total += us(u + s)
    if us(u + s) >= 0.05:
        parts.append(f"{labels.get(name, name)} {us(u + s):.1f} (user {us(u):.1f}, sys {us(s):.1f})")
print(f"{total:.1f} µs per request: " + "; ".join(parts))
PY
}

# oha at a fixed rate: prints "p50_ms p99_ms ok_count".
oha_latency() {
  local url=$1 body=$2 key=$3 secs=${4:-$SECS}
  oha -q $RATE -z ${secs}s -c $CONNS --no-tui --output-format json -m POST \
      -H 'content-type: application/json' ${key:+-H "authorization: Bearer $key"} -d "$body" "$url" \
    | python3 -c '
import json, sys
d = json.load(sys.stdin)
p = d["latencyPercentiles"]
ok = d["statusCodeDistribution"].get("200", 0)
print("%.3f %.3f %d" % (p["p50"] * 1000, p["p99"] * 1000, ok))'
}

# Throughput: the proxy, the Hub and the stack's floor (actix-web in, reqwest out, nothing else:
# how much of the distance to nginx is the framework's and how much the Hub's) take turns in
# $ROUNDS rounds of SECS/ROUNDS each, so a drift of the shared machine during the step weighs on
# all three alike. Each ratio is total requests over the same total time.
ROUNDS=${BENCH_ROUNDS:-3}
if step_on throughput; then
STEP=$(( SECS / ROUNDS > 5 ? SECS / ROUNDS : 5 ))
echo "== throughput, non-stream, $CONNS connections, $ROUNDS alternating rounds of ${STEP}s each"
FLOOR_LISTEN=127.0.0.1:18095 ./target/release/examples/forward_floor > "$WORK/floor.log" 2>&1 &
FLOOR_PID=$!
sleep 0.5
proxy_n=0; hub_n=0; floor_n=0; hub_non2xx=0
ratio() { python3 -c "print(f'{$1/$2:.2f}')"; }
for round in $(seq 1 "$ROUNDS"); do
  read -r p_rps p_total _ < <(wrk_rps http://127.0.0.1:18081/v1/chat/completions gpt-4o-mini "")
  cpu_snapshot "$HUB_PID" >> "$WORK/hub.cpu"
  read -r h_rps h_total h_non2xx < <(wrk_rps http://127.0.0.1:18090/api/v2/chat/completions openai/gpt-4o-mini $KEY)
  cpu_snapshot "$HUB_PID" >> "$WORK/hub.cpu"
  cpu_snapshot "$FLOOR_PID" >> "$WORK/floor.cpu"
  read -r f_rps f_total _ < <(wrk_rps http://127.0.0.1:18095/v1/chat/completions gpt-4o-mini "")
  cpu_snapshot "$FLOOR_PID" >> "$WORK/floor.cpu"
  proxy_n=$((proxy_n + p_total)); hub_n=$((hub_n + h_total)); floor_n=$((floor_n + f_total))
  hub_non2xx=$((hub_non2xx + h_non2xx))
  echo "  round $round: proxy $p_rps req/s  hub $h_rps  floor $f_rps   hub/proxy $(ratio "$h_rps" "$p_rps")"
done
kill "$FLOOR_PID" 2>/dev/null || true; FLOOR_PID=
answered=$((answered + hub_n - hub_non2xx))
t=$((STEP * ROUNDS))
echo "pure proxy: $((proxy_n / t)) req/s   hub: $((hub_n / t)) req/s   ratio: $(ratio "$hub_n" "$proxy_n")  (hub non-2xx: $hub_non2xx)"
echo "stack floor (actix-web + reqwest forwarding only): $((floor_n / t)) req/s   ratio to the proxy: $(ratio "$floor_n" "$proxy_n")   hub/floor: $(ratio "$hub_n" "$floor_n")"
# CPU per request moves less with the shared machine's drift than req/s does: what each costs.
echo "hub CPU: $(cpu_per_request "$WORK/hub.cpu" "$hub_n")"
echo "floor CPU: $(cpu_per_request "$WORK/floor.cpu" "$floor_n")"

fi

if step_on latency; then
echo "== added latency at $RATE req/s, non-stream"
read -r m50 m99 _ < <(oha_latency http://127.0.0.1:18080/v1/chat/completions "$JSON_BODY" "")
read -r h50 h99 hok < <(oha_latency http://127.0.0.1:18090/api/v2/chat/completions "$JSON_BODY" $KEY)
answered=$((answered + hok))
python3 -c "print(f'mock p50 {$m50:.3f} ms p99 {$m99:.3f} ms | hub p50 {$h50:.3f} ms p99 {$h99:.3f} ms | added p50 {$h50-$m50:.3f} ms p99 {$h99-$m99:.3f} ms')"

echo "== added latency at $RATE req/s, streaming (the mock sends the whole stream at once, so this is time to first byte + relay)"
read -r s50 s99 _ < <(oha_latency http://127.0.0.1:18080/sse/v1/chat/completions "$MOCK_STREAM_BODY" "")
read -r t50 t99 tok < <(oha_latency http://127.0.0.1:18090/api/v2/chat/completions "$STREAM_BODY" $KEY)
answered=$((answered + tok))
python3 -c "print(f'mock p50 {$s50:.3f} ms p99 {$s99:.3f} ms | hub p50 {$t50:.3f} ms p99 {$t99:.3f} ms | added p50 {$t50-$s50:.3f} ms p99 {$t99-$s99:.3f} ms')"

fi

if step_on dialects; then
# Each dialect and Chat Completions take turns in $DROUNDS rounds of a few seconds, so a drift of
# the shared machine weighs on all alike; a dialect's figure is the median of its rounds' p50s.
DROUNDS=${BENCH_DIALECT_ROUNDS:-5}
DSECS=$(( SECS / DROUNDS > 3 ? SECS / DROUNDS : 3 ))
echo "== the newer dialects (Responses, Messages, Gemini) at $RATE req/s through the Hub, same mock, $DROUNDS alternating rounds of ${DSECS}s: median p50 against Chat Completions"
# Responses to OpenAI go to OpenAI's own Responses API, which the shared mock does not serve;
# xAI (the same mock, Chat Completions) measures the translation, the heavier way through.
RESP_BODY='{"model":"xai/gpt-4o-mini","input":"Say hello."}'
RESP_STREAM_BODY='{"model":"deepseek/gpt-4o-mini","stream":true,"input":"Say hello."}'
MSG_BODY='{"model":"openai/gpt-4o-mini","max_tokens":64,"messages":[{"role":"user","content":"Say hello."}]}'
MSG_STREAM_BODY='{"model":"deepseek/gpt-4o-mini","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"Say hello."}]}'
GEM_BODY='{"contents":[{"role":"user","parts":[{"text":"Say hello."}]}]}'
H=http://127.0.0.1:18090
for kind in json stream; do
  if [ $kind = json ]; then chat=$JSON_BODY resp=$RESP_BODY msg=$MSG_BODY gem=openai/gpt-4o-mini:generateContent; else chat=$STREAM_BODY resp=$RESP_STREAM_BODY msg=$MSG_STREAM_BODY gem='deepseek/gpt-4o-mini:streamGenerateContent?alt=sse'; fi
  targets=(
    "chat|$H/v1/chat/completions|$chat"
    "responses|$H/v1/responses|$resp"
    "responses store:false|$H/v1/responses|${resp%\}},\"store\":false}"
    "messages|$H/v1/messages|$msg"
    "gemini|$H/v1beta/models/$gem|$GEM_BODY"
  )
  : > "$WORK/rounds"
  for _ in $(seq 1 "$DROUNDS"); do
    for t in "${targets[@]}"; do
      IFS='|' read -r name url body <<<"$t"
      read -r p50 p99 ok < <(oha_latency "$url" "$body" $KEY "$DSECS")
      answered=$((answered + ok))
      echo "$name|$p50|$p99|$ok" >> "$WORK/rounds"
    done
  done
  python3 - "$kind" "$WORK/rounds" <<'PY'
import statistics, sys
kind, path = sys.argv[1], sys.argv[2]
rows = {}
for line in open(path):
    name, p50, p99, ok = line.strip().split("|")
    rows.setdefault(name, []).append((float(p50), float(p99), int(ok)))
chat = statistics.median(r[0] for r in rows["chat"])
parts = []
for name, rs in rows.items():
    p50 = statistics.median(r[0] for r in rs)
    p99 = statistics.median(r[1] for r in rs)
    ok = sum(r[2] for r in rs)
    ratio = "" if name == "chat" else f" ({p50 / chat:.3f}x)"
    parts.append(f"{name} p50 {p50:.3f} ms p99 {p99:.3f}{ratio} ok {ok}")
print(f"{kind}: " + " | ".join(parts))
PY
done
fi

echo "== memory and rows"
rss=$(awk '/VmHWM/ {print $2}' /proc/$HUB_PID/status)
echo "peak RSS: $((rss / 1024)) MB"
kill -TERM $HUB_PID; wait $HUB_PID 2>/dev/null || true; HUB_PID=
rows=$(python3 -c "import sqlite3; c=sqlite3.connect('$WORK/data/aigne-hub.db'); print(c.execute(\"select count(*) from model_calls where status='success'\").fetchone()[0])")
# The load tools stop mid-flight: the Hub may finish (and record) a few requests they no longer
# count, so rows ≥ answered; a row missing for an answered request would show as "lost".
lost=$((answered > rows ? answered - rows : 0))
echo "requests answered 200: $answered   success rows written: $rows   lost: $lost"
