#!/usr/bin/env node
// The Node entry Blocklet Server starts (blocklet.yml `main`). It runs the Hub's release binary
// for this platform with the environment unchanged, forwards SIGTERM/SIGINT (the Hub then stops
// accepting, finishes what is in flight and flushes its writes), and exits with the Hub's code.
//
// The binary is looked up, first found wins: $AIGNE_BIN, <bundle>/bin/<platform>-<arch>/aigne-hub,
// <bundle>/bin/aigne-hub, and (a source checkout) target/release/aigne-hub.
'use strict';

const fs = require('fs');
const path = require('path');
const { spawn } = require('child_process');

const root = path.resolve(__dirname, '..', '..');
const candidates = [
  process.env.AIGNE_BIN,
  path.join(root, 'bin', `${process.platform}-${process.arch}`, 'aigne-hub'),
  path.join(root, 'bin', 'aigne-hub'),
  path.join(root, 'target', 'release', 'aigne-hub'),
].filter(Boolean);

function executable(file) {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

const bin = candidates.find(executable);
if (!bin) {
  process.stderr.write(
    `aigne-hub: no executable Hub binary for ${process.platform}-${process.arch}; looked for:\n` +
      candidates.map((c) => `  ${c}${fs.existsSync(c) ? ' (not executable)' : ' (missing)'}\n`).join('') +
      'Rebuild the bundle with scripts/bundle.sh, or set AIGNE_BIN.\n',
  );
  process.exit(127);
}

const child = spawn(bin, process.argv.slice(2), { stdio: 'inherit', env: process.env });
let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) {
  process.on(signal, () => {
    stopping = true;
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  });
}
child.on('error', (err) => {
  process.stderr.write(`aigne-hub: cannot start ${bin}: ${err.message}\n`);
  process.exit(126);
});
child.on('exit', (code, signal) => {
  if (code !== null) process.exit(code);
  // Killed by a signal: a stop we forwarded ends cleanly only if the Hub said so; otherwise report it.
  process.stderr.write(`aigne-hub: the Hub ended by ${signal}${stopping ? ' while stopping' : ''}\n`);
  process.exit(128 + (require('os').constants.signals[signal] || 1));
});
