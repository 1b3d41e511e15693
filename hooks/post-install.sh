#!/bin/sh
# Blocklet Server's postInstall hook (blocklet.yml: `sh hooks/post-install.sh`): checks that the
# bundled Hub binary runs on this machine, so a wrong platform fails the install, not the start.
set -u
dir=$(cd "$(dirname "$0")/.." && pwd)
bin=${AIGNE_BIN:-$dir/bin/aigne-hub}
if [ ! -x "$bin" ]; then
  echo "post-install: $bin is missing or not executable" >&2
  exit 1
fi
if ! version=$("$bin" --version 2>&1); then
  echo "post-install: $bin does not run on this machine: $version" >&2
  exit 1
fi
echo "post-install: $version"
