#!/usr/bin/env bash
# Builds the web console (ui/ → ui/dist, which release binaries embed): installs its npm packages
# at the lockfile's versions when they are missing or changed, type-checks and bundles.
#
# Nothing is rewritten when nothing changed: the binary's build script reruns whenever a file in
# ui/dist is newer, so a rebuild of identical files would relink the release binary (minutes).
# The sources' hash is kept in ui/node_modules/.dist-hash, the lockfile's in ui/node_modules/.lock-hash.
# (`npm install --no-save`, not `npm ci`: this npm records only this platform's optional packages
# of rollup and esbuild in the lockfile, so `npm ci` refuses it as out of sync, and a saving
# install would add the other platforms' entries to it.)
set -euo pipefail
cd "$(dirname "$0")/../ui"

hash_of() { sha256sum "$@" | sha256sum | cut -d' ' -f1; }

lock_hash=$(hash_of package.json package-lock.json)
if [ ! -d node_modules ] || [ "$(cat node_modules/.lock-hash 2>/dev/null)" != "$lock_hash" ]; then
  npm install --no-save --no-audit --no-fund --loglevel=error
  echo "$lock_hash" > node_modules/.lock-hash
fi

sources=$(find src index.html package.json package-lock.json tsconfig.json vite.config.ts \
  $( [ -d public ] && echo public ) -type f ! -name '*.test.ts' | LC_ALL=C sort)
# shellcheck disable=SC2086
source_hash=$(hash_of $sources)
if [ -f dist/index.html ] && [ "$(cat node_modules/.dist-hash 2>/dev/null)" = "$source_hash" ]; then
  echo "console: ui/dist is up to date"
  exit 0
fi
npm run --silent build
echo "$source_hash" > node_modules/.dist-hash
