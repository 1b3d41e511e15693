#!/usr/bin/env bash
# Builds the web console (ui/ → ui/dist, which release binaries embed): installs its npm packages
# from the lockfile when they are missing or changed, type-checks and bundles.
set -euo pipefail
cd "$(dirname "$0")/../ui"
stamp=node_modules/.package-lock.json
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
npm run --silent build
