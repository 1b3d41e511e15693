// The "previous release" in the upgrade check of the Blocklet Server stage: the Hub as the first
// release left it on disk (tests/fixtures/upgrade/first-release.db, placed by this bundle's
// pre-start hook). Its process only answers health checks: what matters is the data it leaves
// for the next release's pre-start hook to migrate.
'use strict';
const http = require('http');
http
  .createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status: 'ok', release: 'first' }));
  })
  .listen(Number(process.env.BLOCKLET_PORT), '0.0.0.0');
