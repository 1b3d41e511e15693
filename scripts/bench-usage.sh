#!/usr/bin/env bash
# Usage API benchmark (issue 6 target: ≤ 50 ms at p95 with 1,000,000 calls): seeds 1,000,000
# calls over 30 days (100 users, 3 apps, 4 models, 5% failed) straight into the database,
# rebuilds the rollups (`aigne-hub stats rebuild`), then times, one request at a time:
#   - /api/user/usage-stats for 30 days (a member's own; an admin's allUsers=true)
#   - /api/user/model-calls page 1 with filters (status + model + time range; own and allUsers)
#
#   scripts/bench-usage.sh                    # SQLite
#   BENCH_DB=postgres scripts/bench-usage.sh
set -euo pipefail
cd "$(dirname "$0")/.."
CALLS=${BENCH_CALLS:-1000000}
REQUESTS=${BENCH_REQUESTS:-200}
KEY=bench-admin-key-0123456789
WORK=$(mktemp -d)
HUB=http://127.0.0.1:18091
BIN=./target/release/aigne-hub

DB_URL="sqlite://$WORK/data/aigne-hub.db"
if [ "${BENCH_DB:-sqlite}" = postgres ]; then
  scripts/ensure-postgres.sh >/dev/null
  PGDB="aigne_usage_$$"
  psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $PGDB" postgres
  DB_URL="postgres://postgres@127.0.0.1:5432/$PGDB"
fi
cleanup() {
  [ -n "${HUB_PID:-}" ] && { kill "$HUB_PID" 2>/dev/null; wait "$HUB_PID" 2>/dev/null; } || true
  [ -n "${PGDB:-}" ] && { sleep 0.5; psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $PGDB" postgres >/dev/null 2>&1 || true; }
  rm -rf "$WORK"
}
trap cleanup EXIT

cargo build --release -p aigne-hub >/dev/null 2>&1
if curl -s -o /dev/null $HUB/healthz; then echo "port 18091 is taken (an earlier run?)" >&2; exit 1; fi
hub_env() {
  env -i PATH="$PATH" HOME="$HOME" RUST_LOG=warn AIGNE_HUB_LISTEN=127.0.0.1:18091 \
    AIGNE_HUB_DATA_DIR="$WORK/data" AIGNE_HUB_ADMIN_KEY=$KEY AIGNE_HUB_DATABASE_URL="$DB_URL" "$@"
}
# In the background, `exec` makes $! the Hub itself (not a subshell around it).
serve() {
  exec env -i PATH="$PATH" HOME="$HOME" RUST_LOG=warn AIGNE_HUB_LISTEN=127.0.0.1:18091 \
    AIGNE_HUB_DATA_DIR="$WORK/data" AIGNE_HUB_ADMIN_KEY=$KEY AIGNE_HUB_DATABASE_URL="$DB_URL" $BIN
}
hub_env $BIN migrate
MEMBER=$(hub_env $BIN keys create --name bench --role member | tail -1)
serve > "$WORK/hub.log" 2>&1 &
HUB_PID=$!
for _ in $(seq 1 100); do curl -sf $HUB/healthz >/dev/null && break; sleep 0.1; done
ME=$(curl -sf -H "authorization: Bearer $MEMBER" $HUB/api/user/info | python3 -c 'import json,sys; print(json.load(sys.stdin)["user"]["did"])')
kill -TERM $HUB_PID; wait $HUB_PID 2>/dev/null || true; HUB_PID=

echo "== seeding $CALLS calls"
start=$(date +%s)
python3 - "$DB_URL" "$CALLS" "$ME" <<'PY'
import datetime, io, random, subprocess, sys, uuid
url, n, me = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rnd = random.Random(7)
users = [me] + [f"z1benchuser{i:03d}" for i in range(99)]
apps = ["", "z1benchapp1", "z1benchapp2"]
models = ["openai/gpt-4o-mini", "openai/gpt-5-mini", "anthropic/claude-sonnet-4-5", "google/gemini-2.5-flash"]
now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
def rows():
    for i in range(n):
        t = now - datetime.timedelta(seconds=rnd.random() * 30 * 86400)
        ok = rnd.random() >= 0.05
        p, c = rnd.randint(10, 2000), rnd.randint(1, 800)
        credits = f"{(p * 25 + c * 100) / 10**7:.7f}".rstrip("0").rstrip(".")
        yield (str(uuid.UUID(int=rnd.getrandbits(128))), rnd.choice(models), "chatCompletion",
               "success" if ok else "failed", p + c if ok else 0,
               '{"promptTokens":%d,"completionTokens":%d}' % (p, c), credits if ok else "0",
               rnd.randint(200, 8000), rnd.randint(50, 900), rnd.choice(apps) or None,
               rnd.choice(users), t.strftime("%Y-%m-%d %H:%M:%S.%f"))
cols = "id, model, type, status, total_usage, usage_metrics, credits, duration_ms, ttfb_ms, app_did, user_did, call_time, created_at"
if url.startswith("sqlite://"):
    import sqlite3
    db = sqlite3.connect(url[len("sqlite://"):])
    db.execute("PRAGMA journal_mode=WAL"); db.execute("PRAGMA synchronous=OFF")
    db.executemany(f"INSERT INTO model_calls ({cols}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                   (r + (r[-1],) for r in rows()))
    db.commit()
else:
    buf = io.StringIO()
    for r in rows():
        buf.write("\t".join("\\N" if v is None else str(v) for v in r + (r[-1],)) + "\n")
    subprocess.run(["psql", url, "-qc", f"\\copy model_calls ({cols}) FROM STDIN"],
                   input=buf.getvalue().encode(), check=True)
    subprocess.run(["psql", url, "-qc", "ANALYZE model_calls"], check=True)
PY
echo "seeded in $(( $(date +%s) - start )) s"
start=$(date +%s)
hub_env $BIN stats rebuild | tail -1
echo "rollups rebuilt in $(( $(date +%s) - start )) s"

serve > "$WORK/hub.log" 2>&1 &
HUB_PID=$!
for _ in $(seq 1 100); do curl -sf $HUB/healthz >/dev/null && break; sleep 0.1; done

python3 - "$HUB" "$KEY" "$MEMBER" "$REQUESTS" <<'PY'
import datetime, http.client, json, sys, time, urllib.parse
hub, admin, member, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
host = urllib.parse.urlparse(hub).netloc
now = datetime.datetime.now(datetime.timezone.utc)
start = (now - datetime.timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
week = (now - datetime.timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ")
cases = [
    ("usage-stats 30 days, own (day)", member, f"/api/user/usage-stats?timeType=day&start={start}"),
    ("usage-stats 30 days, own (hour)", member, f"/api/user/usage-stats?timeType=hour&start={start}"),
    ("usage-stats 30 days, allUsers (day)", admin, f"/api/user/usage-stats?allUsers=true&timeType=day&start={start}"),
    ("model-calls p1, own, status+model+7 days", member, f"/api/user/model-calls?status=success&model=gpt-4o&start={week}"),
    ("model-calls p1, allUsers, status+model+7 days", admin, f"/api/user/model-calls?allUsers=true&status=success&model=gpt-4o&start={week}"),
    ("model-calls p1, allUsers, no filter", admin, "/api/user/model-calls?allUsers=true"),
]
conn = http.client.HTTPConnection(host)
for name, key, path in cases:
    times = []
    for i in range(n):
        t = time.perf_counter()
        conn.request("GET", path, headers={"authorization": f"Bearer {key}"})
        res = conn.getresponse(); body = res.read()
        times.append((time.perf_counter() - t) * 1000)
        if res.status != 200:
            sys.exit(f"{name}: {res.status} {body[:300]!r}")
    doc = json.loads(body)
    what = f"calls={doc['totals']['calls']}" if "totals" in doc else f"count={doc['count']}{'+' if doc.get('countCapped') else ''}"
    times.sort()
    p = lambda q: times[min(len(times) - 1, int(q * len(times)))]
    print(f"{name:48s} p50 {p(0.5):7.1f} ms  p95 {p(0.95):7.1f} ms  ({what})")
PY
