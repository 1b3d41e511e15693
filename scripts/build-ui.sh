#!/usr/bin/env bash
# Builds the web console (ui/ → ui/dist, which release binaries embed): installs its npm packages
# at the lockfile's versions when they are missing or changed, type-checks and bundles.
# (`npm install`, not `npm ci`: this npm records only this platform's optional packages of rollup
# and esbuild in the lockfile, and `npm ci` then refuses the lockfile as out of sync.)
set -euo pipefail
cd "$(dirname "$0")/../ui"
stamp=node_modules/.package-lock.json
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
  npm install --no-audit --no-fund --loglevel=error
fi
npm run --silent build
