// A remote app (another server's blocklet) with a fresh @ocap/wallet key: registers with the Hub,
// then signs v1 calls the way the real Hub's remote-call clients do (interop-vectors/
// v1-remote-call.js): json-stable-stringify({appId, timestamp, data, userDid}), SHA3-256, Ed25519.
// Env: HUB_URL, HUB_MODEL.
const stringify = require('json-stable-stringify');
const { getSigner, getHasher, types } = require('@ocap/mcrypto');
const { fromRandom, WalletType } = require('@ocap/wallet');

const hub = process.env.HUB_URL;
const fail = (msg) => { console.error('FAIL:', msg); process.exit(1); };
const wallet = fromRandom(WalletType({ role: types.RoleType.ROLE_APPLICATION, pk: types.KeyType.ED25519, hash: types.HashType.SHA3 }));
const signer = getSigner(types.KeyType.ED25519);
const hasher = getHasher(types.HashType.SHA3);
const userDid = 'z1Tno3748AxBUysm4mPDNibpLmRtWvEt4WP';

function headers(data, timestamp = Math.floor(Date.now() / 1000)) {
  const canonical = stringify({ appId: wallet.address, timestamp, data: data || {}, userDid });
  return {
    'content-type': 'application/json',
    'x-app-id': wallet.address,
    'x-timestamp': String(timestamp),
    'x-component-sig': signer.sign(hasher(canonical, 1), wallet.secretKey),
    'x-app-user-did': userDid,
  };
}

async function call(method, path, data, hdrs) {
  const res = await fetch(hub + path, { method, headers: hdrs, body: data === undefined ? undefined : JSON.stringify(data) });
  return [res.status, await res.json()];
}

(async () => {
  const [regStatus, reg] = await call('POST', '/api/app/register', { publicKey: wallet.publicKey }, { 'content-type': 'application/json' });
  if (regStatus !== 200 || reg.id !== wallet.address) fail(`register: ${regStatus} ${JSON.stringify(reg)} (wallet ${wallet.address})`);
  const [st, status] = await call('GET', '/api/app/status', undefined, headers(undefined));
  if (st !== 200 || status.id !== wallet.address) fail(`app status: ${st} ${JSON.stringify(status)}`);
  const data = { model: process.env.HUB_MODEL, messages: [{ role: 'user', content: 'Hi' }], temperature: 0.5 };
  const [ok, answer] = await call('POST', '/api/v1/chat/completions', data, headers(data));
  if (ok !== 200 || answer.role !== 'assistant') fail(`signed chat: ${ok} ${JSON.stringify(answer)}`);
  // Seconds are truncated on both sides and a call takes time: 5 s of margin past the 600 s window.
  const now = Math.floor(Date.now() / 1000);
  for (const [name, ts] of [['605 s old', now - 605], ['605 s ahead', now + 605]]) {
    const [code, err] = await call('POST', '/api/v1/chat/completions', data, headers(data, ts));
    if (code !== 401) fail(`${name}: expected 401, got ${code} ${JSON.stringify(err)}`);
  }
  const [edge] = await call('POST', '/api/v1/chat/completions', data, headers(data, now - 590));
  if (edge !== 200) fail(`590 s old should still pass, got ${edge}`);
  console.log(`remote app ${wallet.address} registered and accepted; ±605 s refused`);
})().then(() => process.exit(0), (e) => fail(e.stack || String(e)));
