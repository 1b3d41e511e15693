#!/usr/bin/env bash
# Builds and starts the Hub on the embedded default: SQLite in ./data, http://127.0.0.1:8090.
# Extra arguments go to `aigne-hub` (e.g. `scripts/start.sh migrate`).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p aigne-hub
exec ./target/release/aigne-hub "$@"
