#!/usr/bin/env bash
# Regenerates crates/core/src/db/schema.rs from the SQLite migrations (the default dialect).
# With --check: regenerates from BOTH dialects into a temp dir and fails if either differs from
# the committed file (PostgreSQL type names are normalised to their diesel aliases first).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v diesel >/dev/null || cargo install diesel_cli --no-default-features --features sqlite-bundled,postgres --locked
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# A config without `file`: `diesel migration run` would otherwise rewrite schema.rs itself.
# SQLite's `INTEGER PRIMARY KEY` (the rowid, 64-bit) prints as BigInt, as PostgreSQL's BIGINT does.
printf '[print_schema]\nsqlite_integer_primary_key_is_bigint = true\n' > "$tmp/diesel.toml"
d() { diesel --config-file "$tmp/diesel.toml" "$@"; }

sqlite_schema() {
  d migration run --database-url "$tmp/schema.db" --migration-dir migrations/sqlite >/dev/null
  d print-schema --database-url "$tmp/schema.db"
}

if [ "${1:-}" != "--check" ]; then
  sqlite_schema > "$tmp/schema.rs"
  rustfmt --edition 2024 "$tmp/schema.rs"
  cp "$tmp/schema.rs" crates/core/src/db/schema.rs
  echo "wrote crates/core/src/db/schema.rs"
  exit 0
fi

sqlite_schema > "$tmp/sqlite.rs"
rustfmt --edition 2024 "$tmp/sqlite.rs"
pg_base=${AIGNE_HUB_TEST_PG:-postgres://postgres@127.0.0.1:5432}
db="aigne_schema_$$"
psql "$pg_base/postgres" -qc "CREATE DATABASE $db" >/dev/null
trap 'rm -rf "$tmp"; psql "$pg_base/postgres" -qc "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true' EXIT
d migration run --database-url "$pg_base/$db" --migration-dir migrations/postgres >/dev/null
d print-schema --database-url "$pg_base/$db" \
  | sed -e 's/\bInt8\b/BigInt/g' -e 's/\bInt4\b/Integer/g' > "$tmp/pg.rs"
rustfmt --edition 2024 "$tmp/pg.rs"
status=0
diff -u crates/core/src/db/schema.rs "$tmp/sqlite.rs" || { echo "schema.rs differs from the SQLite migrations: run scripts/gen-schema.sh" >&2; status=1; }
diff -u "$tmp/sqlite.rs" "$tmp/pg.rs" || { echo "SQLite and PostgreSQL migrations print different schemas" >&2; status=1; }
[ $status -eq 0 ] && echo "schema check: schema.rs matches the SQLite and PostgreSQL migrations"
exit $status
