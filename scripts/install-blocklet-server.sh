#!/usr/bin/env bash
# Installs the real Blocklet Server CLI (`@blocklet/cli`, pinned) that the Blocklet Server test stage
# runs, from the npm registry alone (no other network), into a cache outside the checkout so later
# runs on the same machine reuse it. Prints the install directory on the last line.
#
# Two things stop a plain `npm install -g @blocklet/cli` offline, both worked around here:
# - `sharp` 0.32 downloads libvips from the internet in its install script: it is overridden to
#   0.33.5, whose libvips is an npm package (@img/sharp-libvips-*);
# - `sqlite3`'s install script downloads a prebuilt binary: install scripts are skipped, sqlite3 is
#   built from source against this machine's Node headers, and the few install scripts that are
#   needed run afterwards.
set -euo pipefail
VERSION=${BLOCKLET_CLI_VERSION:-1.17.12}
CACHE=${AIGNE_HUB_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/aigne-hub-tests}
DIR=$CACHE/blocklet-cli-$VERSION
if [ -f "$DIR/.installed" ] && [ -x "$DIR/node_modules/.bin/blocklet" ]; then
  echo "$DIR"
  exit 0
fi

log() { printf 'install-blocklet-server: %s\n' "$*" >&2; }
mkdir -p "$CACHE"
work=$(mktemp -d "$CACHE/.blocklet-cli-$VERSION.XXXXXX")
trap 'rm -rf "$work"' EXIT
cat >"$work/package.json" <<JSON
{
  "name": "aigne-hub-blocklet-server-stage",
  "private": true,
  "dependencies": { "@blocklet/cli": "$VERSION" },
  "overrides": { "sharp": "0.33.5" }
}
JSON
cd "$work"
log "npm install @blocklet/cli@$VERSION (install scripts off; several minutes on a new machine)"
npm install --ignore-scripts --no-audit --no-fund --loglevel=error >&2

# node-gyp ships inside npm; Debian's Node has its headers under /usr/include/node.
gyp=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")/node_modules/node-gyp/bin/node-gyp.js
[ -f "$gyp" ] || gyp=$(npm root -g)/npm/node_modules/node-gyp/bin/node-gyp.js
nodedir=$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")
log "building sqlite3 from source against $nodedir's Node headers"
find node_modules -type d -path '*node_modules/sqlite3' -prune | while read -r d; do
  (cd "$d" && node "$gyp" rebuild --nodedir="$nodedir" >&2)
done

for pkg in @blocklet/cli @root/acme protobufjs core-js; do
  find node_modules -type d -path "*node_modules/$pkg" -prune | while read -r d; do
    if node -e 'process.exit(require(process.argv[1]).scripts?.postinstall ? 0 : 1)' "$PWD/$d/package.json"; then
      log "postinstall of $d"
      (cd "$d" && npm run --silent postinstall >&2) || log "postinstall of $d failed (ignored: not needed offline)"
    fi
  done
done

node_modules/.bin/blocklet --version >&2
touch .installed
trap - EXIT
rm -rf "$DIR"
mv "$work" "$DIR"
echo "$DIR"
