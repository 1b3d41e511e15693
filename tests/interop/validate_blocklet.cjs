// Validates a blocklet directory's blocklet.yml with @blocklet/meta's own parser and schema (as
// Blocklet Server and the Store do): `node validate_blocklet.cjs <dir> [--bundle]`. --bundle also
// requires the logo, every listed file, the main entry and the entry the server runs (blocklet.js
// for a dapp without an engine) to exist (the repository's file lists
// what scripts/bundle.sh builds, so only the bundle has them). Prints the parsed name and version, or
// the errors on stderr with exit code 1.
process.env.NODE_ENV = 'test';
const path = require('path');
const { parse } = require('@blocklet/meta/lib/parse');
const { validateMeta } = require('@blocklet/meta/lib/validate');

const dir = path.resolve(process.argv[2] || '.');
const bundle = process.argv.includes('--bundle');
try {
  const meta = parse(dir, { ensureFiles: bundle, ensureComponentStore: false });
  validateMeta(meta, { ensureFiles: bundle, ensureDist: false, ensureComponentStore: false, ensureName: true });
  if (bundle) {
    const fs = require('fs');
    const missing = [meta.main, ...(meta.files || [])].filter((f) => !fs.existsSync(path.join(dir, f)));
    if (missing.length) throw new Error(`bundle lacks: ${missing.join(', ')}`);
    // What `blocklet deploy` and the server check before they run anything: the entry it starts.
    require('@blocklet/meta/lib/entry').validateBlockletEntry(dir, meta);
  }
  console.log(JSON.stringify({ ok: true, name: meta.name, did: meta.did, version: meta.version, main: meta.main }));
  process.exit(0);
} catch (e) {
  console.error(e.message);
  process.exit(1);
}
