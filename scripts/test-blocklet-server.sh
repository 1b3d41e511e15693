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
# The stage runs in a session of its own: Blocklet Server's daemons and the components they
# start are its descendants, and no signal meant for their process group reaches this script
# or the suite above it. If this script is itself asked to stop, it says so with what was
# running (a stage once ended with SIGTERM and no output), then stops the stage.
setsid node --test --test-concurrency=1 --test-reporter=spec tests/blocklet-server/stage.test.cjs &
stage=$!
on_signal() {
  echo "test-blocklet-server: got $1 while the stage ran; processes at that moment:" >&2
  ps -eo pid,ppid,pgid,etime,args --forest >&2 || true
  kill -TERM "$stage" 2>/dev/null || true
  wait "$stage" 2>/dev/null || true
  exit 143
}
trap 'on_signal SIGTERM' TERM
trap 'on_signal SIGINT' INT
wait "$stage"
