// A real @blocklet/sdk component.call to the Hub's v1 routes, then the same signed request
// replayed with one thing changed at a time: each must be refused with 401 (400 without headers).
// Env: HUB_URL, HUB_PORT, BLOCKLET_APP_SK (the Hub's app key), HUB_MODEL.
process.env.NODE_ENV = 'test';
const HUB_DID = 'z8ia3xzq2tMq8CRHfaXj1BTYJyYnEcHbqP8cJ';
process.env.BLOCKLET_COMPONENT_DID = 'z8iZcallerComponentDidXXXXXXXXXXXXXXX';
process.env.ABT_NODE_VERSION = '1.17.12';
process.env.BLOCKLET_MOUNT_POINTS = JSON.stringify([
  { did: HUB_DID, name: 'ai-kit', title: 'AIGNE Hub', mountPoint: '/ai-kit', port: Number(process.env.HUB_PORT), status: 6 },
]);
const component = require('@blocklet/sdk/lib/component').default;
const { getSignData } = require('@blocklet/sdk/lib/util/verify-sign');

const hub = process.env.HUB_URL;
const fail = (msg) => { console.error('FAIL:', msg); process.exit(1); };
const OTHER_SK = '0xabababababababababababababababababababababababababababababababab248acbdbaf9e050196de704bea2d68770e519150d103b587dae2d9cad53dd930';

async function send({ method = 'POST', path, body, headers }) {
  const res = await fetch(hub + path, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return [res.status, text];
}

async function signed({ method = 'post', path, body, query, now, sk }) {
  const realNow = Date.now;
  if (now) Date.now = () => now * 1000;
  try {
    const url = hub + path + (query ? `?${query}` : '');
    const s = await getSignData({ data: body, method, url }, { appSk: sk || process.env.BLOCKLET_APP_SK });
    return {
      'x-component-sig': s.sig,
      'x-component-sig-iat': String(s.iat),
      'x-component-sig-exp': String(s.exp),
      'x-component-sig-version': String(s.version),
      'x-component-did': process.env.BLOCKLET_COMPONENT_DID,
    };
  } finally {
    Date.now = realNow;
  }
}

(async () => {
  const model = process.env.HUB_MODEL;
  const body = { model, messages: [{ role: 'user', content: 'Say hello.' }], maxTokens: 50 };
  // 1. The SDK's own component.call.
  const res = await component.call({ name: 'ai-kit', method: 'POST', path: '/api/v1/chat/completions', data: body }, { retries: 0 })
    .catch((e) => fail(`component.call: ${e.message} ${JSON.stringify(e.response && e.response.data)}`));
  if (res.status !== 200 || res.data.role !== 'assistant' || typeof res.data.text !== 'string' || res.data.text !== res.data.content) {
    fail(`component.call answer: ${res.status} ${JSON.stringify(res.data)}`);
  }
  const status = await component.call({ name: 'ai-kit', method: 'GET', path: '/api/v1/status' }, { retries: 0 });
  if (status.data.available !== true) fail(`status: ${JSON.stringify(status.data)}`);
  const path = '/api/v1/chat/completions';
  const headers = await signed({ path, body });
  // 2. The exact replay is accepted (signatures live until exp).
  const [okStatus, okText] = await send({ path, body, headers });
  if (okStatus !== 200) fail(`exact replay: ${okStatus} ${okText}`);
  // 3. One change at a time.
  const now = Math.floor(Date.now() / 1000);
  const cases = {
    'tampered body': () => send({ path, body: { ...body, maxTokens: 51 }, headers }),
    'tampered query': () => send({ path: `${path}?extra=1`, body, headers }),
    'other path': () => send({ path: '/api/v1/completions', body, headers }),
    'other method': async () => send({ method: 'GET', path: '/api/v1/status', headers: await signed({ path: '/api/v1/status', method: 'post' }) }),
    'expired exp': async () => send({ path, body, headers: await signed({ path, body, now: now - 400 }) }),
    'iat far in the future': async () => send({ path, body, headers: await signed({ path, body, now: now + 3600 }) }),
    "another app's key": async () => send({ path, body, headers: await signed({ path, body, sk: OTHER_SK }) }),
    'bad signature text': () => send({ path, body, headers: { ...headers, 'x-component-sig': '0x1234' } }),
  };
  for (const [name, run] of Object.entries(cases)) {
    const [code, text] = await run();
    if (code !== 401) fail(`${name}: expected 401, got ${code} ${text}`);
    if (!JSON.parse(text).error.message) fail(`${name}: no message: ${text}`);
  }
  const [missing, missingText] = await send({ path, body });
  if (missing !== 400) fail(`no signature headers: expected 400, got ${missing} ${missingText}`);
  console.log(`component.call accepted; ${Object.keys(cases).length} tampered variants refused with 401`);
})().then(() => process.exit(0), (e) => fail(e.stack || String(e)));
