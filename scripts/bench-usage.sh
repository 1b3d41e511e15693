#!/usr/bin/env bash
# Usage API benchmark (target: ≤ 50 ms at p95 at 10,000,000 calls): seeds BENCH_CALLS calls
# (default 1,000,000) over 30 days, oldest first (100 users, 3 apps, 4 models, 5% failed), each row as the
# usage writer writes it, straight into the database; reports the bytes per stored call (table
# and indexes); rebuilds the rollups (`aigne-hub stats rebuild`), then times, one request at a time:
#   - /api/user/usage-stats for 30 days by day and by hour (a member's own; an admin's allUsers)
#   - /api/user/model-calls page 1: no filter; status + model + 7 days; an app; a user (a
#     member's own); a text search
#   - /api/user/model-calls/export: time to the first byte of the CSV
#
#   scripts/bench-usage.sh                                   # SQLite
#   BENCH_DB=postgres scripts/bench-usage.sh
#   BENCH_CALLS=10000000 BENCH_REQUESTS=100 scripts/bench-usage.sh
#   BENCH_SKIP_REBUILD=1 …   # call-log kinds only (the rollups' size does not grow with calls)
#   BENCH_KEEP=1 …           # keep the seeded database (and the PostgreSQL one) for a closer look
#   BENCH_REUSE=/tmp/dir …   # time a kept database again (after `migrate` brings it to this build)
set -euo pipefail
cd "$(dirname "$0")/.."
CALLS=${BENCH_CALLS:-1000000}
REQUESTS=${BENCH_REQUESTS:-200}
KEY=bench-admin-key-0123456789
WORK=$(mktemp -d)
HUB=http://127.0.0.1:18091
BIN=./target/release/aigne-hub

REUSE=${BENCH_REUSE:-}
if [ -n "$REUSE" ]; then
  rm -rf "$WORK"; WORK=$REUSE; BENCH_KEEP=1
  read -r DB_URL CALLS < "$WORK/seeded"
elif [ "${BENCH_DB:-sqlite}" = postgres ]; then
  scripts/ensure-postgres.sh >/dev/null
  PGDB="aigne_usage_$$"
  psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $PGDB" postgres
  DB_URL="postgres://postgres@127.0.0.1:5432/$PGDB"
else
  DB_URL="sqlite://$WORK/data/aigne-hub.db"
fi
cleanup() {
  [ -n "${HUB_PID:-}" ] && { kill "$HUB_PID" 2>/dev/null; wait "$HUB_PID" 2>/dev/null; } || true
  [ -n "${PGDB:-}" ] && [ -z "${BENCH_KEEP:-}" ] && { sleep 0.5; psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $PGDB" postgres >/dev/null 2>&1 || true; }
  if [ -n "${BENCH_KEEP:-}" ]; then echo "kept: $WORK (DATABASE_URL $DB_URL)"; else rm -rf "$WORK"; fi
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
start=$(date +%s)
hub_env $BIN migrate
echo "migrated in $(( $(date +%s) - start )) s"
if [ -n "$REUSE" ]; then
  MEMBER=$(cat "$WORK/member")
else
  MEMBER=$(hub_env $BIN keys create --name bench --role member | tail -1)
  echo "$MEMBER" > "$WORK/member"
  echo "$DB_URL $CALLS" > "$WORK/seeded"
fi
if [ -z "$REUSE" ]; then
serve > "$WORK/hub.log" 2>&1 &
HUB_PID=$!
for _ in $(seq 1 100); do curl -sf $HUB/healthz >/dev/null && break; sleep 0.1; done
ME=$(curl -sf -H "authorization: Bearer $MEMBER" $HUB/api/user/info | python3 -c 'import json,sys; print(json.load(sys.stdin)["user"]["did"])')
kill -TERM $HUB_PID; wait $HUB_PID 2>/dev/null || true; HUB_PID=

echo "== seeding $CALLS calls"
start=$(date +%s)
python3 - "$DB_URL" "$CALLS" "$ME" "$WORK/needles" <<'PY'
import datetime, json, random, subprocess, sys, uuid
url, n, me = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rnd = random.Random(7)
users = [me] + [f"z1benchuser{i:03d}" for i in range(99)]
apps = ["", "z1benchapp1", "z1benchapp2"]
models = ["openai/gpt-4o-mini", "openai/gpt-5-mini", "anthropic/claude-sonnet-4-5", "google/gemini-2.5-flash"]
instance = str(uuid.UUID(int=rnd.getrandbits(128)))
now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
span = 30 * 86400
def hexid():
    return "%032x" % rnd.getrandbits(128)
def rows():
    for i in range(n):
        # In time order, as the usage writer appends them (a little jitter within each slot).
        t = now - datetime.timedelta(seconds=span * (1 - (i + rnd.random()) / n))
        ok = rnd.random() >= 0.05
        p, c = rnd.randint(10, 2000), rnd.randint(1, 800)
        model = rnd.choice(models)
        provider = model.split("/")[0]
        credits = f"{(p * 25 + c * 100) / 10**7:.7f}".rstrip("0").rstrip(".")
        # What the usage writer stores (crates/core/src/engine/record.rs, context.rs): zero
        # counts and the usual metadata (model asked = model, first attempt) are left out.
        usage = json.dumps({"promptTokens": p, "completionTokens": c}, separators=(",", ":"))
        meta = {"endpoint": "/api/v2/chat/completions"}
        if rnd.random() < 0.5:
            meta["stream"] = True
        meta = json.dumps(meta, separators=(",", ":"))
        ts = t.strftime("%Y-%m-%d %H:%M:%S.%f")
        # One call in five came with a W3C traceparent (an instrumented client).
        trace = f"00-{hexid()}-{'%016x' % rnd.getrandbits(64)}-01" if rnd.random() < 0.2 else None
        call_id = str(uuid.UUID(int=rnd.getrandbits(128)))
        if i == n // 2:
            # A call from the middle of the log, and a trace, for the identifier searches.
            needles["call"] = call_id
        if trace and "trace" not in needles:
            needles["trace"] = trace[3:35]
        yield (call_id, f"bench-{provider}", model, str(uuid.UUID(int=rnd.getrandbits(128))),
               "chatCompletion", "success" if ok else "failed", p + c if ok else 0, usage, credits if ok else "0",
               rnd.randint(200, 8000), rnd.randint(50, 900), rnd.randint(40, 800),
               None if ok else f"{provider} answered 503: upstream overloaded",
               rnd.choice(apps) or None, rnd.choice(users), hexid(), trace, meta, ts, ts, instance, "openai")
needles = {}
cols = ("id, provider_id, model, credential_id, type, status, total_usage, usage_metrics, credits, duration_ms, ttfb_ms, "
        "provider_ttfb_ms, error_reason, app_did, user_did, request_id, trace_id, metadata, call_time, created_at, instance_id, dialect")
if url.startswith("sqlite://"):
    import sqlite3
    db = sqlite3.connect(url[len("sqlite://"):])
    db.execute("PRAGMA journal_mode=WAL"); db.execute("PRAGMA synchronous=OFF")
    db.executemany(f"INSERT INTO model_calls ({cols}) VALUES ({','.join('?' * 22)})", rows())
    db.commit()
else:
    copy = subprocess.Popen(["psql", url, "-qc", f"\\copy model_calls ({cols}) FROM STDIN"], stdin=subprocess.PIPE)
    buf = []
    for i, r in enumerate(rows()):
        buf.append("\t".join("\\N" if v is None else str(v) for v in r))
        if len(buf) == 50_000:
            copy.stdin.write(("\n".join(buf) + "\n").encode()); buf = []
    copy.stdin.write(("\n".join(buf) + "\n").encode() if buf else b"")
    copy.stdin.close()
    if copy.wait() != 0:
        sys.exit("COPY failed")
    subprocess.run(["psql", url, "-qc", "VACUUM ANALYZE model_calls"], check=True)
with open(sys.argv[4], "w") as f:
    f.write(f"{needles['call']} {needles['trace']}\n")
PY
echo "seeded in $(( $(date +%s) - start )) s"
fi
# Bytes per stored call: the table with its indexes (SQLite: every page of the file that
# belongs to model_calls or one of its indexes, from dbstat; PostgreSQL: the relation's total).
if [[ $DB_URL == postgres* ]]; then
  bytes=$(psql "$DB_URL" -tAc "SELECT pg_total_relation_size('model_calls')")
  detail=$(psql "$DB_URL" -tAc "SELECT string_agg(c.relname || '=' || pg_relation_size(c.oid), ' ') FROM pg_class c WHERE c.relname LIKE 'model_calls%' OR c.oid IN (SELECT indexrelid FROM pg_index WHERE indrelid = 'model_calls'::regclass)")
else
  read -r bytes detail < <(python3 - "$WORK/data/aigne-hub.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
names = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE tbl_name = 'model_calls'")]
sizes = {n: db.execute("SELECT sum(pgsize) FROM dbstat WHERE name = ?", (n,)).fetchone()[0] or 0 for n in names}
print(sum(sizes.values()), " ".join(f"{k}={v}" for k, v in sizes.items()))
PY
)
fi
echo "bytes per call: $(( bytes / CALLS )) (model_calls and its indexes: $bytes bytes; $detail)"
if [ -z "${BENCH_SKIP_REBUILD:-}" ]; then
  start=$(date +%s)
  hub_env $BIN stats rebuild | tail -1
  echo "rollups rebuilt in $(( $(date +%s) - start )) s"
fi

serve > "$WORK/hub.log" 2>&1 &
HUB_PID=$!
for _ in $(seq 1 100); do curl -sf $HUB/healthz >/dev/null && break; sleep 0.1; done

python3 - "$HUB" "$KEY" "$MEMBER" "$REQUESTS" "${BENCH_SKIP_REBUILD:-}" "$WORK/needles" <<'PY'
import datetime, http.client, json, sys, time, urllib.parse
hub, admin, member, n, skip_stats = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
call_id, trace_id = open(sys.argv[6]).read().split()
host = urllib.parse.urlparse(hub).netloc
now = datetime.datetime.now(datetime.timezone.utc)
start = (now - datetime.timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
week = (now - datetime.timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ")
cases = [
    ("model-calls p1, allUsers, no filter", admin, "/api/user/model-calls?allUsers=true"),
    ("model-calls p1, allUsers, status+model+7 days", admin, f"/api/user/model-calls?allUsers=true&status=success&model=gpt-4o&start={week}"),
    ("model-calls p1, allUsers, an app", admin, "/api/user/model-calls?allUsers=true&appDid=z1benchapp2"),
    ("model-calls p1, a user (own)", member, "/api/user/model-calls"),
    ("model-calls p1, own, status+model+7 days", member, f"/api/user/model-calls?status=success&model=gpt-4o&start={week}"),
    ("model-calls p1, allUsers, text search", admin, "/api/user/model-calls?allUsers=true&search=claude"),
    ("model-calls p1, allUsers, search a call id", admin, f"/api/user/model-calls?allUsers=true&search={call_id}"),
    ("model-calls p1, allUsers, search a trace id", admin, f"/api/user/model-calls?allUsers=true&search={trace_id}"),
    ("export first byte, allUsers", admin, "/api/user/model-calls/export?allUsers=true"),
]
if not skip_stats:
    cases += [
        ("usage-stats 30 days, own (day)", member, f"/api/user/usage-stats?timeType=day&start={start}"),
        ("usage-stats 30 days, own (hour)", member, f"/api/user/usage-stats?timeType=hour&start={start}"),
        ("usage-stats 30 days, allUsers (day)", admin, f"/api/user/usage-stats?allUsers=true&timeType=day&start={start}"),
        ("usage-stats 30 days, allUsers (hour)", admin, f"/api/user/usage-stats?allUsers=true&timeType=hour&start={start}"),
    ]
conn = http.client.HTTPConnection(host)
for name, key, path in cases:
    first_byte = "/export" in path
    times = []
    for i in range(n):
        c = http.client.HTTPConnection(host) if first_byte else conn
        t = time.perf_counter()
        c.request("GET", path, headers={"authorization": f"Bearer {key}"})
        res = c.getresponse()
        body = res.read(1) if first_byte else res.read()
        times.append((time.perf_counter() - t) * 1000)
        if res.status != 200:
            sys.exit(f"{name}: {res.status} {body[:300]!r}{res.read()[:300]!r}")
        if first_byte:
            c.close()
    if first_byte:
        what = "first byte of a streamed CSV"
    else:
        doc = json.loads(body)
        what = f"calls={doc['totals']['calls']}" if "totals" in doc else f"count={doc['count']}{'+' if doc.get('countCapped') else ''}"
    times.sort()
    p = lambda q: times[min(len(times) - 1, int(q * len(times)))]
    print(f"{name:48s} p50 {p(0.5):7.1f} ms  p95 {p(0.95):7.1f} ms  ({what})")
PY
