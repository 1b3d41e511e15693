#!/usr/bin/env bash
# The Blocklet bundle (SPEC §10): the release binary with the console embedded, the Node entry,
# the hooks, blocklet.yml, the logo and the Store screenshots, in a directory Blocklet Server can
# install (default .blocklet/bundle/), checked with @blocklet/meta's own validator.
#
#   scripts/bundle.sh                          # build everything, bundle into .blocklet/bundle
#   BUNDLE_OUT=/tmp/b BUNDLE_BIN=path/to/aigne-hub scripts/bundle.sh   # reuse a built binary
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${BUNDLE_OUT:-.blocklet/bundle}
BIN=${BUNDLE_BIN:-}
if [ -z "$BIN" ]; then
  scripts/build-ui.sh
  cargo build --release -p aigne-hub
  BIN=target/release/aigne-hub
fi
[ -x "$BIN" ] || { echo "bundle: $BIN is not an executable binary" >&2; exit 1; }

rm -rf "$OUT"
mkdir -p "$OUT/bin" "$OUT/api/shim" "$OUT/hooks" "$OUT/screenshots"
cp "$BIN" "$OUT/bin/aigne-hub"
# Debug info is for developers; the installed binary does not need it.
if [ -z "${BUNDLE_BIN:-}" ] && command -v strip >/dev/null; then strip "$OUT/bin/aigne-hub"; fi
chmod 755 "$OUT/bin/aigne-hub"
cp api/shim/index.js "$OUT/api/shim/"
cp hooks/*.sh "$OUT/hooks/"
cp screenshots/*.png "$OUT/screenshots/"
cp blocklet.yml README.md CHANGELOG.md "$OUT/"
cat > "$OUT/package.json" <<JSON
{
  "name": "ai-kit",
  "version": "$(awk -F': ' '/^version:/ {print $2; exit}' blocklet.yml)",
  "private": true,
  "description": "AIGNE Hub (Rust) as a Blocklet: Node entry api/shim/index.js runs bin/aigne-hub",
  "main": "api/shim/index.js"
}
JSON

if [ -d tests/interop/node_modules/@blocklet/meta ]; then
  node tests/interop/validate_blocklet.cjs "$OUT" --bundle
else
  echo "bundle: @blocklet/meta is not installed (scripts/install-interop.sh); the bundle was not validated" >&2
fi
echo "bundle: $OUT ($(du -sh "$OUT" | cut -f1))"
