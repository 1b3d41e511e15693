// Login tokens made the way @blocklet/sdk verifies them (interop-vectors/session-jwt.js): the
// SDK's own getSessionSecret() (BLOCKLET_SESSION_SECRET, or derived from BLOCKLET_APP_SK, the app
// address and BLOCKLET_APP_SALT), signed with jsonwebtoken HS256. The SDK's verifyLoginToken
// accepts each good token here first, so the Hub is held to what the SDK itself does.
// Env: HUB_URL plus the same Blocklet variables the Hub was started with.
process.env.NODE_ENV = 'test';
const jwt = require('jsonwebtoken');
const { getSessionSecret, verifyLoginToken } = require('@blocklet/sdk/lib/util/verify-session');

const hub = process.env.HUB_URL;
const did = 'z1Tno3748AxBUysm4mPDNibpLmRtWvEt4WP';
const fail = (msg) => { console.error('FAIL:', msg); process.exit(1); };

async function status(token, path = '/api/access-keys') {
  const res = await fetch(hub + path, { headers: { authorization: `Bearer ${token}` } });
  return [res.status, await res.json()];
}

(async () => {
  const secret = getSessionSecret();
  const now = Math.floor(Date.now() / 1000);
  const good = jwt.sign({ did, role: 'owner', fullName: 'Alice', provider: 'wallet', walletOS: 'web', kyc: 1, iat: now, exp: now + 600 }, secret, { algorithm: 'HS256' });
  const sdkUser = await verifyLoginToken({ token: good, strictMode: true });
  if (sdkUser.did !== did) fail('the SDK itself refused the token');
  const [ok, body] = await status(good, '/api/ai-providers');
  if (ok !== 200) fail(`good owner token: ${ok} ${JSON.stringify(body)}`);
  const bad = {
    expired: jwt.sign({ did, role: 'owner', iat: now - 120, exp: now - 60 }, secret, { algorithm: 'HS256' }),
    refresh: jwt.sign({ did, role: 'owner', tokenType: 'refresh', exp: now + 600 }, secret, { algorithm: 'HS256' }),
    wrongSecret: jwt.sign({ did, role: 'owner', exp: now + 600 }, `${secret}x`, { algorithm: 'HS256' }),
    algNone: jwt.sign({ did, role: 'owner', exp: now + 600 }, null, { algorithm: 'none' }),
    hs512: jwt.sign({ did, role: 'owner', exp: now + 600 }, secret, { algorithm: 'HS512' }),
    malformed: 'a.b.c',
  };
  for (const [name, token] of Object.entries(bad)) {
    const [code, err] = await status(token);
    if (code !== 401) fail(`${name}: expected 401, got ${code} ${JSON.stringify(err)}`);
    if (!err.error || !err.error.message) fail(`${name}: no error message: ${JSON.stringify(err)}`);
  }
  console.log(`login tokens ok (secret from ${process.env.BLOCKLET_SESSION_SECRET ? 'BLOCKLET_SESSION_SECRET' : 'BLOCKLET_APP_SK'})`);
})().then(() => process.exit(0), (e) => fail(e.stack || String(e)));
