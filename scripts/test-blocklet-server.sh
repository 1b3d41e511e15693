#!/usr/bin/env bash
# The Blocklet Server stage of the test suite: installs the real `@blocklet/cli` (cached between
# runs on this machine), then runs tests/blocklet-server/stage.test.cjs with node's test runner.
# The stage builds the Blocklet bundle from the test binary (target/debug/aigne-hub, built by the
# nextest step of scripts/test.sh, or by `cargo build` when run alone), starts a server in a
# temporary data directory and tears it down. Blocklet Server's ports are fixed (8088, 8089,
# 40404–40411): only one can run on a machine.
set -euo pipefail
cd "$(dirname "$0")/.."
# One stage at a time on a machine (the server's ports are fixed).
exec 9>"${TMPDIR:-/tmp}/aigne-hub-blocklet-server.lock"
flock -w 1200 9 || { echo "another Blocklet Server stage is still running" >&2; exit 1; }
BS_DIR=$(scripts/install-blocklet-server.sh | tail -n 1)
[ -x target/debug/aigne-hub ] || cargo build -p aigne-hub
[ -d ui/node_modules/playwright-core ] || scripts/build-ui.sh
export BS_DIR REPO=$PWD HUB_BIN=$PWD/target/debug/aigne-hub
exec node --test --test-concurrency=1 --test-reporter=spec tests/blocklet-server/stage.test.cjs
