#!/usr/bin/env bash
# Builds the console and the Hub, and starts it on the embedded default: SQLite in ./data, the
# console at http://127.0.0.1:8090/.
# Extra arguments go to `aigne-hub` (e.g. `scripts/start.sh migrate`).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build-ui.sh
cargo build --release -p aigne-hub
exec ./target/release/aigne-hub "$@"
