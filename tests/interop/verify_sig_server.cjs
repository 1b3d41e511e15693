// A component that checks callers with @blocklet/sdk's real verifySig middleware (express, as
// blocklets mount it). Prints its port, then answers {ok, body, query, method, path} to every
// verified call; verifySig itself answers 400/401 to the rest. Env: BLOCKLET_APP_SK or _PK.
process.env.NODE_ENV = 'test';
const express = require('express');
const { verifySig } = require('@blocklet/sdk/lib/middlewares/component');

const app = express();
app.use(express.json());
app.use(verifySig, (req, res) => res.json({ ok: true, body: req.body ?? null, query: req.query, method: req.method, path: req.path }));
const server = app.listen(0, '127.0.0.1', () => console.log(server.address().port));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
