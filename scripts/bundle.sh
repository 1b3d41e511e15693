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
# Debug info is for developers; the installed binary does not need it (the copy is stripped).
if command -v strip >/dev/null; then strip "$OUT/bin/aigne-hub"; fi
chmod 755 "$OUT/bin/aigne-hub"
# Self-contained: the host needs the C library and nothing else (libpq and OpenSSL are built in;
# libgcc_s comes with every glibc, which loads it itself).
for lib in $(ldd "$OUT/bin/aigne-hub" | awk '{print $1}'); do
  case "$lib" in
    linux-vdso.so.*|libc.so.*|libm.so.*|libgcc_s.so.*|libpthread.so.*|libdl.so.*|librt.so.*|/lib*/ld-linux*) ;;
    *) echo "bundle: bin/aigne-hub needs $lib, which a Blocklet Server host need not have" >&2; exit 1 ;;
  esac
done
glibc=$(objdump -T "$OUT/bin/aigne-hub" | grep -o 'GLIBC_[0-9.]*' | sort -Vu | tail -1)
cp api/shim/index.js "$OUT/api/shim/"
# Blocklet Server starts a `dapp` without an `engine` by running blocklet.js at the bundle root.
cat > "$OUT/blocklet.js" <<'JS'
// The entry Blocklet Server runs (a dapp's blocklet.js): the Node shim that runs the Hub binary.
require('./api/shim/index.js');
JS
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
echo "bundle: $OUT ($(du -sh "$OUT" | cut -f1)); bin/aigne-hub needs glibc ${glibc#GLIBC_} or newer and no other shared library"
