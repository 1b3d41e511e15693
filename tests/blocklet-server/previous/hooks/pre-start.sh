#!/bin/sh
# The previous release's data: the first release's database, placed once.
set -eu
dir=$(cd "$(dirname "$0")/.." && pwd)
if [ ! -f "$BLOCKLET_DATA_DIR/aigne-hub.db" ]; then
  cp "$dir/data/first-release.db" "$BLOCKLET_DATA_DIR/aigne-hub.db"
fi
