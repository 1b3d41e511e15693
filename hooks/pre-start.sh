#!/bin/sh
# Blocklet Server's preStart hook (blocklet.yml: `sh hooks/pre-start.sh`, cwd = the app
# directory): back up the SQLite database, apply pending migrations with the Hub's own binary,
# and on failure put the backup back, say why on stderr and exit non-zero (Blocklet Server only
# reports a failed hook that wrote to stderr). PostgreSQL (AIGNE_HUB_DATABASE_URL=postgres://…)
# has no file to back up: the migration runs in transactions.
set -u
dir=$(cd "$(dirname "$0")/.." && pwd)
bin=${AIGNE_BIN:-}
for candidate in "$dir/bin/$(uname -s | tr 'A-Z' 'a-z')-x64/aigne-hub" "$dir/bin/aigne-hub" "$dir/target/release/aigne-hub"; do
  [ -n "$bin" ] && break
  [ -x "$candidate" ] && bin=$candidate
done
if [ -z "$bin" ] || [ ! -x "$bin" ]; then
  echo "pre-start: no executable aigne-hub binary in $dir/bin (set AIGNE_BIN)" >&2
  exit 1
fi

data=${BLOCKLET_DATA_DIR:-${AIGNE_HUB_DATA_DIR:-./data}}
url=${AIGNE_HUB_DATABASE_URL:-}
case "$url" in
  postgres://*|postgresql://*) db= ;;
  sqlite://*) db=${url#sqlite://} ;;
  *) db="$data/aigne-hub.db" ;;
esac

backup=
if [ -n "$db" ] && [ -f "$db" ]; then
  backup="$db.pre-start-$(date +%Y%m%d%H%M%S).bak"
  # The WAL holds committed pages not yet in the main file: copy all of it.
  for suffix in "" -wal -shm; do
    if [ -f "$db$suffix" ] && ! cp -p "$db$suffix" "$backup$suffix"; then
      echo "pre-start: cannot back up $db$suffix to $backup$suffix" >&2
      exit 1
    fi
  done
fi

# The same data directory the Hub will use, also when this environment does not look like
# Blocklet mode to it (hooks may run without BLOCKLET_PORT).
if out=$(AIGNE_HUB_DATA_DIR="$data" "$bin" migrate 2>&1); then
  printf '%s\n' "$out"
  # Keep the newest backup only.
  if [ -n "$backup" ]; then
    for old in "$db".pre-start-*.bak; do
      [ "$old" = "$backup" ] || rm -f "$old" "$old-wal" "$old-shm"
    done
  fi
  exit 0
fi

printf '%s\n' "$out" >&2
if [ -n "$backup" ]; then
  for suffix in "" -wal -shm; do
    rm -f "$db$suffix"
    [ -f "$backup$suffix" ] && cp -p "$backup$suffix" "$db$suffix"
  done
  echo "pre-start: migration failed; the database was restored from $backup" >&2
else
  echo "pre-start: migration failed" >&2
fi
exit 1
