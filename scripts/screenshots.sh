#!/usr/bin/env bash
# The Store screenshots (screenshots/*.png), taken from the real console: builds the release Hub
# with the console, starts it with demo data (billing on; two providers on a local mock upstream;
# real calls through the Hub, and a week of earlier calls written into the database), signs in
# with Debian's Chromium and captures the overview, providers, usage, playground and credits.
# KEEP=1 leaves the demo Hub running afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
scripts/build-ui.sh
cargo build --release -p aigne-hub
[ -x /usr/bin/chromium ] || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
WORK=$(mktemp -d)
KEY=demo-admin-key-0123456789
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
HUB=http://127.0.0.1:$PORT
cleanup() {
  [ -n "${HUB_PID:-}" ] && kill "$HUB_PID" 2>/dev/null || true
  [ -n "${MOCK_PID:-}" ] && kill "$MOCK_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

node ui/e2e/mock-upstream.mjs > "$WORK/mock.port" &
MOCK_PID=$!
for _ in $(seq 1 50); do [ -s "$WORK/mock.port" ] && break; sleep 0.1; done
MOCK=http://127.0.0.1:$(head -1 "$WORK/mock.port")/v1

hub() {
  env -i PATH="$PATH" HOME="$HOME" RUST_LOG=warn AIGNE_HUB_LISTEN=127.0.0.1:$PORT \
    AIGNE_HUB_DATA_DIR="$WORK/data" AIGNE_HUB_ADMIN_KEY=$KEY AIGNE_HUB_BILLING__ENABLED=true \
    "$ROOT/target/release/aigne-hub" "$@"
}
start_hub() {
  hub >> "$WORK/hub.log" 2>&1 &
  HUB_PID=$!
  for _ in $(seq 1 100); do curl -sf "$HUB/healthz" >/dev/null && return; sleep 0.1; done
  cat "$WORK/hub.log"; exit 1
}
stop_hub() { kill -TERM "$HUB_PID"; wait "$HUB_PID" 2>/dev/null || true; HUB_PID=; }
api() { curl -sf -H "authorization: Bearer $KEY" -H 'content-type: application/json' "$@"; }
id_of() { python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'; }

start_hub
ME=$(api "$HUB/api/user/info" | python3 -c 'import json,sys; print(json.load(sys.stdin)["user"]["did"])')
OPENAI=$(api -d "{\"name\":\"openai\",\"baseUrl\":\"$MOCK\"}" "$HUB/api/ai-providers" | id_of)
DEEPSEEK=$(api -d "{\"name\":\"deepseek\",\"baseUrl\":\"$MOCK\"}" "$HUB/api/ai-providers" | id_of)
api -d '{"name":"production","value":"sk-demo-openai-0000000000000000"}' "$HUB/api/ai-providers/$OPENAI/credentials" >/dev/null
api -d '{"name":"backup","value":"sk-demo-openai-1111111111111111","weight":50}' "$HUB/api/ai-providers/$OPENAI/credentials" >/dev/null
api -d '{"name":"main","value":"sk-demo-deepseek-22222222222222"}' "$HUB/api/ai-providers/$DEEPSEEK/credentials" >/dev/null
for rate in "$OPENAI gpt-4o-mini 0.00000015 0.0000006" "$OPENAI gpt-5-mini 0.00000025 0.000002" \
            "$DEEPSEEK deepseek-chat 0.00000027 0.0000011"; do
  set -- $rate
  api -d "{\"model\":\"$2\",\"type\":\"chatCompletion\",\"inputRate\":\"$3\",\"outputRate\":\"$4\"}" \
    "$HUB/api/ai-providers/$1/model-rates" >/dev/null
done
api -d "{\"userDid\":\"$ME\",\"amount\":\"25\",\"category\":\"paid\",\"description\":\"starter pack\"}" "$HUB/api/credits/grants" >/dev/null
for i in $(seq 1 24); do
  model=$([ $((i % 3)) = 0 ] && echo deepseek/deepseek-chat || echo openai/gpt-4o-mini)
  api -d "{\"model\":\"$model\",\"messages\":[{\"role\":\"user\",\"content\":\"demo question $i\"}]}" \
    "$HUB/api/v2/chat/completions" >/dev/null
done
stop_hub

# A week of earlier calls, as the rollups would have them (then rebuilt from the calls).
python3 - "$WORK/data/aigne-hub.db" "$ME" <<'PY'
import datetime, random, sqlite3, sys, uuid
path, me = sys.argv[1], sys.argv[2]
rnd = random.Random(11)
now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
models = [("openai/gpt-4o-mini", 0.15, 0.6, 6), ("openai/gpt-5-mini", 0.25, 2.0, 2), ("deepseek/deepseek-chat", 0.27, 1.1, 3)]
rows = []
for day in range(1, 8):
    for _ in range(rnd.randint(60, 160)):
        model, rin, rout, _w = rnd.choices(models, weights=[m[3] for m in models])[0]
        t = now - datetime.timedelta(days=day, seconds=rnd.random() * 86400)
        ok = rnd.random() >= 0.03
        p, c = rnd.randint(40, 1800), rnd.randint(20, 700)
        credits = f"{(p * rin + c * rout) / 1e6:.10f}".rstrip("0").rstrip(".") if ok else "0"
        rows.append((str(uuid.uuid4()), model, "chatCompletion", "success" if ok else "failed",
                     p + c if ok else 0, '{"promptTokens":%d,"completionTokens":%d}' % (p, c), credits,
                     rnd.randint(400, 4000), rnd.randint(120, 700), None, me,
                     t.strftime("%Y-%m-%d %H:%M:%S.%f"), t.strftime("%Y-%m-%d %H:%M:%S.%f"),
                     None if ok else "upstream timed out"))
db = sqlite3.connect(path)
db.executemany("INSERT INTO model_calls (id, model, type, status, total_usage, usage_metrics, credits, "
               "duration_ms, ttfb_ms, app_did, user_did, call_time, created_at, error_reason) "
               "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
db.commit()
print(f"{len(rows)} earlier calls")
PY
hub stats rebuild >/dev/null
start_hub
mkdir -p screenshots
HUB_URL=$HUB ADMIN_KEY=$KEY OUT="$ROOT/screenshots" node ui/e2e/screenshots.mjs
if [ -n "${KEEP:-}" ]; then
  echo "the demo Hub stays up at $HUB (admin key $KEY) until interrupted"
  wait "$HUB_PID"
fi
