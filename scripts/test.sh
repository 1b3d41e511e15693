#!/usr/bin/env bash
# The whole test suite: formatting, lints, schema drift, unit tests, the black-box tests (the
# real binary against SQLite and PostgreSQL) and the Blocklet Server stage (the bundle on a real
# server). `.ci/run` calls this.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}

step() { printf '\n== %s\n' "$*"; }

step "PostgreSQL on 127.0.0.1:5432"
scripts/ensure-postgres.sh

# The real Blocklet Server CLI takes minutes to install on a new machine, mostly waiting on npm:
# it installs in the background while the Rust steps compile (cached afterwards).
step "Blocklet Server CLI (installing in the background for the last stage)"
bs_log=$(mktemp)
scripts/install-blocklet-server.sh > "$bs_log" 2>&1 &
bs_install=$!

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy --all-targets -- -D warnings"
cargo clippy --workspace --all-targets -- -D warnings

step "no cycles among the crates' top-level modules (and the check's own test)"
python3 scripts/check-layers.py crates/core/src crates/blocklet/src
python3 -m unittest scripts/check_layers_test.py

step "schema.rs matches the SQLite and PostgreSQL migrations"
scripts/gen-schema.sh --check

step "interop clients (npm: openai, @aigne/aigne-hub, @blocklet/sdk, @ocap/wallet, …; PyPI: openai)"
scripts/install-interop.sh

step "web console (npm ci, type-check, Vitest, bundle) and Debian's chromium for the browser tests"
scripts/build-ui.sh
(cd ui && npx --no-install vitest run --reporter=dot)
if [ ! -x /usr/bin/chromium ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

step "tests (unit + black-box on SQLite and PostgreSQL + interop with real clients)"
if ! cargo nextest --version >/dev/null 2>&1; then
  cargo install cargo-nextest --locked
fi
cargo nextest run --workspace --no-fail-fast

step "Blocklet Server stage (the real @blocklet/cli 1.17.12: deploy, router, console, stop, keys)"
if ! wait "$bs_install"; then
  cat "$bs_log" >&2
  echo "installing @blocklet/cli failed" >&2
  exit 1
fi
scripts/test-blocklet-server.sh
