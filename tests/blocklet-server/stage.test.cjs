// The Hub on a real Blocklet Server (`@blocklet/cli` 1.17.12, offline): the bundle that
// scripts/bundle.sh makes from the test binary is deployed with `blocklet deploy` into two apps —
// mounted at /aigne-hub in one, at / in the other — and reached through the server's router.
// Run by scripts/test-blocklet-server.sh (node's test runner) with BS_DIR, HUB_BIN and REPO set.
'use strict';

const assert = require('node:assert/strict');
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const { describe, test, before, after } = require('node:test');

const { Server, HUB_DID, takenPorts, FIXED_PORTS, until, sleep, openStream, need } = require('./harness.cjs');
const mockUpstream = require('./mock-upstream.cjs');

const REPO = process.env.REPO || path.resolve(__dirname, '..', '..');
const HUB_BIN = process.env.HUB_BIN || path.join(REPO, 'target', 'debug', 'aigne-hub');

const server = new Server();
let mock;
let bundle;
/** App with the Hub at /aigne-hub, and app with the Hub at /. */
let sub;
let root;

function bundleHub(out) {
  const res = spawnSync(path.join(REPO, 'scripts', 'bundle.sh'), {
    cwd: REPO,
    env: { ...process.env, BUNDLE_OUT: out, BUNDLE_BIN: HUB_BIN },
    encoding: 'utf8',
  });
  assert.equal(res.status, 0, `bundle.sh: ${res.stdout}${res.stderr}`);
  return out;
}

/** The caller fixture as a bundle: its DID from its name, @blocklet/sdk from the interop
 * clients' install (a real blocklet bundles its dependencies; `blocklet deploy` takes no
 * node_modules). */
function bundleCaller(out) {
  const src = path.join(__dirname, 'caller');
  fs.mkdirSync(out, { recursive: true });
  const { toBlockletDid } = need('@blocklet/meta/lib/did');
  const did = toBlockletDid('aigne-hub-test-caller');
  fs.writeFileSync(path.join(out, 'blocklet.yml'), fs.readFileSync(path.join(src, 'blocklet.yml'), 'utf8').replace(/^did: DID$/m, `did: ${did}`));
  const sdk = path.join(REPO, 'tests', 'interop', 'node_modules', '@blocklet', 'sdk', 'lib', 'component');
  fs.writeFileSync(
    path.join(out, 'blocklet.js'),
    fs.readFileSync(path.join(src, 'blocklet.js'), 'utf8').replace("'@blocklet/sdk/lib/component'", JSON.stringify(sdk)),
  );
  fs.writeFileSync(path.join(out, 'package.json'), JSON.stringify({ name: 'aigne-hub-test-caller', version: '1.0.0', private: true, main: 'blocklet.js' }));
  return { dir: out, did };
}

/** The Payment Kit stand-in as a bundle (tests/interop/payment_kit_standin.cjs, with its
 * dependencies where the interop clients are installed). */
function bundlePaymentKit(out) {
  const src = path.join(__dirname, 'payment-kit');
  fs.mkdirSync(out, { recursive: true });
  fs.copyFileSync(path.join(src, 'blocklet.yml'), path.join(out, 'blocklet.yml'));
  const standin = path.join(REPO, 'tests', 'interop', 'payment_kit_standin.cjs');
  fs.writeFileSync(path.join(out, 'blocklet.js'), fs.readFileSync(path.join(src, 'blocklet.js'), 'utf8').replace("'STANDIN'", JSON.stringify(standin)));
  fs.writeFileSync(path.join(out, 'package.json'), JSON.stringify({ name: 'payment-kit', version: '1.0.0', private: true, main: 'blocklet.js' }));
  return { dir: out, did: 'z2qaCNvKMv5GjouKdcDWexv6WqtHbpNPQDnAk' };
}

/** The previous release as a bundle: this repository's blocklet.yml at version 0.0.1, the
 * first release's database and a process that only answers health checks (previous/). The
 * database also has a table that a later migration creates, so that migration fails. */
async function bundlePrevious(out) {
  const src = path.join(__dirname, 'previous');
  fs.mkdirSync(path.join(out, 'data'), { recursive: true });
  fs.cpSync(path.join(src, 'hooks'), path.join(out, 'hooks'), { recursive: true });
  fs.cpSync(path.join(REPO, 'screenshots'), path.join(out, 'screenshots'), { recursive: true });
  fs.copyFileSync(path.join(src, 'blocklet.js'), path.join(out, 'blocklet.js'));
  const db = path.join(out, 'data', 'first-release.db');
  fs.copyFileSync(path.join(REPO, 'tests', 'fixtures', 'upgrade', 'first-release.db'), db);
  await sql(db, 'CREATE TABLE credit_accounts (x TEXT)');
  const yml = fs
    .readFileSync(path.join(REPO, 'blocklet.yml'), 'utf8')
    .replace(/^version: .*$/m, 'version: 0.0.1')
    .replace(/^main: .*$/m, 'main: blocklet.js')
    .replace(/^files:\n(  - .*\n)+/m, 'files:\n  - hooks\n  - screenshots\n  - data\n');
  fs.writeFileSync(path.join(out, 'blocklet.yml'), yml);
  fs.writeFileSync(path.join(out, 'package.json'), JSON.stringify({ name: 'ai-kit', version: '0.0.1', private: true, main: 'blocklet.js' }));
  return out;
}

/** Rows of an SQLite file (none for a statement that is not a query). */
async function sql(file, statement) {
  const sqlite3 = need('sqlite3');
  const db = new sqlite3.Database(file);
  try {
    return await new Promise((resolve, reject) => db.all(statement, (e, r) => (e ? reject(e) : resolve(r))));
  } finally {
    await new Promise((resolve) => db.close(resolve));
  }
}

/** Rows of the Hub's own database in an app. */
async function rows(app, statement) {
  return sql(path.join(server.dataDir(app, 'ai-kit'), 'aigne-hub.db'), statement);
}

/** The owner key the Hub wrote into its data directory at its first start. */
function adminKey(app) {
  const file = path.join(server.dataDir(app, 'ai-kit'), 'admin.key');
  return fs.readFileSync(file, 'utf8').trim();
}

async function hub(app, method, p, { key, body, headers = {} } = {}) {
  const prefix = app.mount === '/' ? '' : app.mount;
  return server.request(app, method, `${prefix}${p}`, {
    headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers },
    body,
  });
}

async function deployHub(app, mount) {
  server.deploy(app, bundle, mount);
  await server.waitRunning(app, HUB_DID);
  app.mount = mount;
  await until(`the Hub answering at ${mount}`, async () => (await hub(app, 'GET', '/healthz')).status === 200, { timeout: 30000 });
  app.key = adminKey(app);
  // A short verdict cache, so a key the server stops accepting is refused within the test.
  await server.gql('configBlocklet', { did: [app.did, HUB_DID], configs: [{ key: 'AIGNE_HUB_BLOCKLET_KEY_CACHE_SECS', value: '2' }] }, app.did);
  // One provider: the mock upstream.
  const p = await hub(app, 'POST', '/api/ai-providers', { key: app.key, body: { name: 'openai', baseUrl: mock.base } });
  assert.equal(p.status, 201, p.text);
  const c = await hub(app, 'POST', `/api/ai-providers/${p.json.id}/credentials`, {
    key: app.key,
    body: { name: 'mock', value: 'sk-mock-0123456789' },
  });
  assert.equal(c.status, 201, c.text);
  const r = await hub(app, 'POST', `/api/ai-providers/${p.json.id}/model-rates`, {
    key: app.key,
    body: { model: 'long-story', type: 'chatCompletion', inputRate: '0.001', outputRate: '0.002' },
  });
  assert.equal(r.status, 201, r.text);
}

describe('the Hub on a real Blocklet Server', () => {
before(
  async () => {
    const taken = await takenPorts();
    assert.deepEqual(taken, [], `Blocklet Server's fixed ports are taken (another server running?): ${taken}`);
    mock = await mockUpstream.start();
    bundle = bundleHub(path.join(server.dir, 'hub-bundle'));
    await server.start();
    sub = await server.createApp('Hub Under Prefix');
    root = await server.createApp('Hub At Root');
    await deployHub(sub, '/aigne-hub');
    await deployHub(root, '/');
  },
  { timeout: 15 * 60 * 1000 },
);

after(
  async () => {
    try {
      await server.stop();
    } finally {
      mock?.close();
      const left = await takenPorts(FIXED_PORTS);
      if (left.length) process.stderr.write(`ports still taken after teardown: ${left}\n`);
      if (process.env.KEEP_BLOCKLET_SERVER_DIR) process.stderr.write(`server data kept in ${server.dir}\n`);
      else fs.rmSync(server.dir, { recursive: true, force: true });
    }
  },
  { timeout: 3 * 60 * 1000 },
);

test('the Hub answers through the router at /aigne-hub and at /', async (t) => {
  const t0 = Date.now();
  const mark = (what) => t.diagnostic(`${what}: ${Date.now() - t0} ms`);
  for (const app of [sub, root]) {
    mark(`${app.mount} start`);
    const health = await hub(app, 'GET', '/healthz');
    assert.equal(health.status, 200, `${app.mount}: ${health.text}`);
    const chat = await hub(app, 'POST', '/api/v2/chat/completions', {
      key: app.key,
      body: { model: 'openai/gpt-5-mini', messages: [{ role: 'user', content: 'hi' }] },
    });
    assert.equal(chat.status, 200, `${app.mount}: ${chat.text}`);
    assert.equal(chat.json.choices[0].message.content, 'Hello from the mock.');
    mark(`${app.mount} chat`);
    // The console's page, with its base at the mount point.
    const page = await hub(app, 'GET', '/config/usage', { headers: { accept: 'text/html' } });
    assert.equal(page.status, 200);
    const base = app.mount === '/' ? '/' : `${app.mount}/`;
    assert.ok(page.text.includes(`<base href="${base}">`), `${app.mount}: ${page.text}`);
    const asset = page.text.match(/"\.\/(assets\/[^"]+\.js)"/)[1];
    const js = await server.request(app, 'GET', `${base}${asset}`);
    assert.equal(js.status, 200, `${base}${asset}`);
    assert.match(js.headers['content-type'], /javascript/);
    mark(`${app.mount} console`);
  }
  // The router redirects the bare prefix to the console.
  const bare = await server.request(sub, 'GET', '/aigne-hub');
  assert.equal(bare.status, 307);
});

test('the console loads and signs in under both mount points (Chromium)', async () => {
  const { chromium } = require(path.join(REPO, 'ui', 'node_modules', 'playwright-core'));
  const launchOptions = require(path.join(REPO, 'ui', 'e2e', 'chromium.cjs'));
  // The apps' addresses lead to the server's router on this machine.
  const browser = await chromium.launch(launchOptions(['--host-resolver-rules=MAP *.did.abtnet.io 127.0.0.1']));
  try {
    for (const app of [sub, root]) {
      const page = await browser.newPage();
      const problems = [];
      page.on('pageerror', (e) => problems.push(e.message));
      page.setDefaultTimeout(15000);
      const start = `http://${app.host}:${server.httpPort}${app.mount === '/' ? '/' : `${app.mount}/`}`;
      await page.goto(start);
      await page.getByTestId('access-key').fill(app.key);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.getByTestId('whoami').waitFor();
      // Signed in: the admin pages work, and a console route stays under the mount point.
      await page.getByRole('button', { name: 'Providers' }).click();
      await page.getByText('OpenAI', { exact: false }).first().waitFor();
      const url = new URL(page.url());
      assert.ok(url.pathname.startsWith(app.mount === '/' ? '/config' : `${app.mount}/config`), url.pathname);
      assert.deepEqual(problems, [], `${app.mount}: page errors`);
      await page.close();
    }
  } finally {
    await browser.close();
  }
});

test('stopping the component during a streamed call ends the stream and records it', async () => {
  const started = Date.now();
  const { res } = await openStream(server.httpPort, sub.host, '/aigne-hub/api/v2/chat/completions', {
    headers: { authorization: `Bearer ${sub.key}` },
    body: { model: 'openai/long-story', stream: true, messages: [{ role: 'user', content: 'a long story' }] },
  });
  assert.equal(res.statusCode, 200);
  const frames = [];
  let stopAsked = false;
  let stopped;
  const ended = new Promise((resolve, reject) => {
    let buf = '';
    res.setEncoding('utf8');
    res.on('data', (d) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i).trim();
        buf = buf.slice(i + 1);
        if (line.startsWith('data: ')) frames.push(line.slice(6));
      }
      if (frames.length >= 20 && !stopAsked) {
        stopAsked = true;
        stopped = Date.now();
        server.gql('stopBlocklet', { did: sub.did, componentDids: [HUB_DID] }, sub.did).catch(reject);
      }
    });
    res.on('end', resolve);
    res.on('error', reject);
    res.on('aborted', () => reject(new Error('the stream was cut without an end')));
  });
  await Promise.race([ended, sleep(15000).then(() => Promise.reject(new Error(`no end 15 s after the stop (${frames.length} frames)`)))]);
  const afterStop = Date.now() - stopped;
  assert.ok(frames.length < 400, `cut off early, not finished: ${frames.length} frames in ${Date.now() - started} ms`);
  const last = JSON.parse(frames[frames.length - 1]);
  assert.match(last.error?.message ?? '', /stopping/, `the last frame is the error: ${frames.slice(-2)}`);
  assert.ok(!frames.includes('[DONE]'));
  assert.ok(afterStop < 5000, `the stream ended ${afterStop} ms after the stop was asked`);
  // The component is stopped; its database has the call as failed, with its tokens and bill.
  await until('the Hub stopped', async () => (await server.component(sub, HUB_DID)).status === 'stopped', { timeout: 30000 });
  const log = server.logsOf(sub, 'ai-kit');
  assert.match(log, /cut off/, log);
  const sqlite3 = need('sqlite3');
  const db = new sqlite3.Database(path.join(server.dataDir(sub, 'ai-kit'), 'aigne-hub.db'));
  const rows = await new Promise((resolve, reject) =>
    db.all("SELECT model, status, total_usage, credits, error_reason FROM model_calls WHERE model LIKE '%long-story'", (e, r) => (e ? reject(e) : resolve(r))),
  );
  const processing = await new Promise((resolve, reject) =>
    db.get("SELECT COUNT(*) AS n FROM model_calls WHERE status = 'processing'", (e, r) => (e ? reject(e) : resolve(r.n))),
  );
  db.close();
  assert.equal(processing, 0, 'nothing stays processing');
  assert.equal(rows.length, 1, JSON.stringify(rows));
  assert.equal(rows[0].status, 'failed');
  assert.match(rows[0].error_reason, /stopping/);
  assert.ok(rows[0].total_usage >= 19, JSON.stringify(rows[0]));
  assert.notEqual(String(rows[0].credits), '0', JSON.stringify(rows[0]));
  // Started again: the data is there.
  await server.gql('startBlocklet', { did: sub.did, componentDids: [HUB_DID] }, sub.did);
  await server.waitRunning(sub, HUB_DID);
  await until('the Hub answering again', async () => (await hub(sub, 'GET', '/healthz')).status === 200);
  const calls = await hub(sub, 'GET', '/api/user/model-calls?allUsers=true', { key: sub.key });
  assert.equal(calls.status, 200, calls.text);
  assert.ok(calls.json.list.some((c) => c.status === 'failed' && /long-story/.test(c.model)), calls.text);
  const providers = await hub(sub, 'GET', '/api/ai-providers', { key: sub.key });
  assert.equal(providers.json.list[0].name, 'openai');
});

test('a Blocklet access key made by the server is verified by it: guest refused on admin routes, expired refused', async () => {
  // Expires 8 s from now (the server's own check, in ms; the Hub keeps a verdict 2 s here, see
  // deployHub).
  const expireAt = Date.now() + 8000;
  const made = await server.gql(
    'createAccessKey',
    { teamDid: sub.did, remark: 'aigne-hub tests', passport: 'guest', authType: 'simple', expireAt },
    sub.did,
  );
  const token = made.data.accessKeySecret;
  assert.match(token, /^blocklet-/);
  const me = await hub(sub, 'GET', '/api/user/info', { key: token });
  assert.equal(me.status, 200, me.text);
  assert.equal(me.json.user.role, 'guest', me.text);
  const admin = await hub(sub, 'GET', '/api/ai-providers', { key: token });
  assert.equal(admin.status, 403, admin.text);
  const forged = await hub(sub, 'GET', '/api/user/info', { key: `${token.slice(0, -4)}AAAA` });
  assert.equal(forged.status, 401, forged.text);
  const refused = await until(
    'the expired key refused',
    async () => {
      const r = await hub(sub, 'GET', '/api/user/info', { key: token });
      return r.status === 401 ? r : null;
    },
    { timeout: 14000, every: 1000 },
  );
  assert.match(refused.json.error.message, /refused/);
});

  test('a DID Wallet login through the server\'s login service gives a session the Hub accepts, with its role', async () => {
    const { fromRandom } = need('@ocap/wallet');
    const JWT = need('@arcblock/jwt');
    const users = ['owner', 'admin', 'guest'].map((role) => ({ role, wallet: fromRandom() }));
    // One more who signs with a key that is not theirs.
    const forger = { wallet: fromRandom() };
    server.core('add-wallet-users', {
      teamDid: sub.did,
      users: [...users, forger].map(({ role, wallet }) => ({ did: wallet.address, pk: wallet.publicKey, name: `${role ?? 'forger'} user`, role })),
    });
    for (const { role, wallet } of users) {
      const challenge = `aigne-hub-${Date.now()}`;
      const login = await server.request(sub, 'POST', '/.well-known/service/api/user/loginByWallet', {
        body: {
          userDid: wallet.address,
          userPk: wallet.publicKey,
          signature: await JWT.sign(wallet.address, wallet.secretKey, { challenge }),
          walletOS: 'web',
          challenge,
          componentId: sub.did,
        },
      });
      assert.equal(login.status, 200, `${role}: ${login.text}`);
      const token = login.json.sessionToken;
      assert.ok(token, login.text);
      // As a Bearer token and as the cookie the browser carries.
      const me = await hub(sub, 'GET', '/api/user/info', { key: token });
      assert.equal(me.status, 200, `${role}: ${me.text}`);
      assert.equal(me.json.user.did, wallet.address);
      assert.equal(me.json.user.role, role, me.text);
      const cookie = await hub(sub, 'GET', '/api/user/info', { headers: { cookie: `login_token=${token}` } });
      assert.equal(cookie.status, 200, cookie.text);
      const admin = await hub(sub, 'GET', '/api/ai-providers', { key: token });
      assert.equal(admin.status, role === 'guest' ? 403 : 200, `${role}: ${admin.text}`);
    }
    // A signature by another key is refused by the server's login service.
    const { wallet } = forger;
    const other = fromRandom();
    const refused = await server.request(sub, 'POST', '/.well-known/service/api/user/loginByWallet', {
      body: {
        userDid: wallet.address,
        userPk: wallet.publicKey,
        signature: await JWT.sign(other.address, other.secretKey, { challenge: 'x' }),
        walletOS: 'web',
        challenge: 'x',
        componentId: sub.did,
      },
    });
    assert.notEqual(refused.status, 200, refused.text);
  });

  test('a second blocklet beside the Hub calls it with @blocklet/sdk component.call; its calls carry its app', async () => {
    const caller = bundleCaller(path.join(server.dir, 'caller-bundle'));
    server.deploy(sub, caller.dir, '/caller');
    await server.waitRunning(sub, caller.did);
    const answer = await until('the caller answering', async () => {
      const r = await server.request(sub, 'GET', '/caller/call');
      return r.status === 200 ? r : r.status === 502 ? Promise.reject(new Error(r.text)) : null;
    });
    assert.equal(answer.json.chat.role, 'assistant', answer.text);
    assert.equal(answer.json.chat.content, 'Hello from the mock.', answer.text);
    assert.equal(answer.json.status.available, true, answer.text);
    assert.ok(answer.json.me.includes(caller.did), answer.text);
    const calls = await rows(sub, `SELECT app_did, model, status FROM model_calls WHERE app_did = '${answer.json.me}'`);
    assert.equal(calls.length, 1, JSON.stringify(calls));
    assert.equal(calls[0].status, 'success');
    assert.equal(calls[0].model, 'openai/gpt-5-mini');
  });

  test('billing, 1: a Payment Kit component (a stand-in under its name and DID) runs beside the Hub', async () => {
    const pk = bundlePaymentKit(path.join(server.dir, 'payment-kit-bundle'));
    server.deploy(root, pk.dir, '/payment-kit');
    await server.waitRunning(root, pk.did);
    // "running" is the process; the app's router picks the new mount up a moment later and
    // answers 503 (its "coming soon" page) until then.
    const state = await until('Payment Kit answering through the router', async () => {
      const r = await server.request(root, 'GET', '/payment-kit/__test/state');
      return r.status === 200 ? r : Promise.reject(new Error(`${r.status}: ${r.text.slice(0, 300)}`));
    });
    assert.deepEqual(state.json.events, [], state.text);
  });

  test('billing, 2: the Hub started with billing on finds Payment Kit by its mount point', async () => {
    // The Hub reads its environment and the app's components when it starts.
    await server.gql('configBlocklet', { did: [root.did, HUB_DID], configs: [{ key: 'AIGNE_HUB_BILLING__ENABLED', value: 'true' }] }, root.did);
    await server.gql('stopBlocklet', { did: root.did, componentDids: [HUB_DID] }, root.did);
    await until('the Hub stopped', async () => (await server.component(root, HUB_DID)).status === 'stopped');
    await server.gql('startBlocklet', { did: root.did, componentDids: [HUB_DID] }, root.did);
    await server.waitRunning(root, HUB_DID);
    await until('the Hub answering', async () => (await hub(root, 'GET', '/healthz')).status === 200);
    const log = server.logsOf(root, 'ai-kit');
    assert.match(log, /billing through Payment Kit/, log);
  });

  test('billing, 3: each billed call is reported to Payment Kit once', async () => {
    const providers = await hub(root, 'GET', '/api/ai-providers', { key: root.key });
    const rate = await hub(root, 'POST', `/api/ai-providers/${providers.json.list[0].id}/model-rates`, {
      key: root.key,
      body: { model: 'gpt-5-mini', type: 'chatCompletion', inputRate: '0.001', outputRate: '0.002' },
    });
    assert.equal(rate.status, 201, rate.text);
    const me = (await hub(root, 'GET', '/api/user/info', { key: root.key })).json.user.did;
    const standin = (method, p, body) => server.request(root, method, `/payment-kit/__test/${p}`, { body });
    const granted = await standin('POST', 'grant', { did: me, amount: '5' });
    assert.equal(granted.status, 200, granted.text);
    const chat = await hub(root, 'POST', '/api/v2/chat/completions', {
      key: root.key,
      body: { model: 'openai/gpt-5-mini', messages: [{ role: 'user', content: 'bill me' }] },
    });
    assert.equal(chat.status, 200, chat.text);
    // 12 prompt × 0.001 + 5 completion × 0.002 = 0.022 credits, reported once.
    const events = await until('the meter event at Payment Kit', async () => {
      const st = await standin('GET', 'state');
      return st.json.events.length ? st.json.events : null;
    });
    await sleep(3000);
    const after = (await standin('GET', 'state')).json;
    assert.equal(after.events.length, 1, JSON.stringify(after.events));
    assert.equal(Number(after.events[0].value), 0.022, JSON.stringify(events));
    assert.equal(after.events[0].did, me);
    const billed = await rows(root, "SELECT credits FROM model_calls WHERE model = 'openai/gpt-5-mini' AND status = 'success' ORDER BY created_at DESC LIMIT 1");
    assert.equal(Number(billed[0].credits), 0.022, JSON.stringify(billed));
  });

  // The upgrade, in three steps (each a few deploys' time).
  let upgrade;
  test('upgrade, 0: a new app for it', async () => {
    upgrade = await server.createApp('Hub Upgrade');
    assert.ok(upgrade.host, JSON.stringify(upgrade.blocklet.site));
  });

  test('upgrade, 1: the previous release is installed and holds data', async () => {
    server.deploy(upgrade, await bundlePrevious(path.join(server.dir, 'previous-bundle')), '/aigne-hub');
    await server.waitRunning(upgrade, HUB_DID);
    upgrade.mount = '/aigne-hub';
    // The server routes to the component a moment after it reports it running.
    let health;
    await until('the first release answering', async () => (health = await hub(upgrade, 'GET', '/healthz')).status === 200);
    assert.equal(health.json.release, 'first', health.text);
    // Data added while it runs, in the first release's schema.
    await rows(
      upgrade,
      "INSERT INTO model_calls (id, provider_id, model, type, status, total_usage, credits, duration_ms, user_did, call_time, created_at) VALUES ('call-added', 'prov-openai', 'openai/gpt-4o-mini', 'chatCompletion', 'success', 7, '0.0007', 300, 'z1FirstReleaseUser000000000000000', '2026-11-24 09:00:00', '2026-11-24 09:00:00')",
    );
    const inTheWay = await rows(upgrade, "SELECT sql FROM sqlite_master WHERE name = 'credit_accounts'");
    assert.deepEqual(inTheWay, [{ sql: 'CREATE TABLE credit_accounts (x TEXT)' }]);
  });

  test('upgrade, 2: a migration that fails is restored and reported, and the start fails', async () => {
    const before = await rows(upgrade, 'SELECT COUNT(*) AS n FROM __diesel_schema_migrations');
    // `blocklet deploy` returns once the bundle is uploaded; installing and starting go on in the
    // server, so the pre-start hook's own report is what to wait for.
    server.deploy(upgrade, bundle, '/aigne-hub', { allowFail: true });
    // The server starts an upgraded component itself only if it was running when the upgrade
    // came; an operator starts it otherwise. Either way the pre-start hook runs first.
    await until('the upgraded component settled', async () => {
      const c = await server.component(upgrade, HUB_DID);
      return c && c.meta.version === '0.1.0' && !['installing', 'upgrading', 'downloading'].includes(c.status) ? c : null;
    });
    if ((await server.component(upgrade, HUB_DID)).status === 'stopped') {
      await server.gql('startBlocklet', { did: upgrade.did, componentDids: [HUB_DID] }, upgrade.did).catch(() => {});
    }
    const log = await until(
      "the pre-start hook's report",
      async () => {
        const text = server.logsOf(upgrade, 'ai-kit');
        return /migration failed; the database was restored/.test(text) ? text : null;
      },
      { timeout: 60000, every: 500 },
    );
    assert.match(log, /credit_accounts/, 'the reason is in the log');
    const failed = await until('the start given up', async () => {
      const c = await server.component(upgrade, HUB_DID);
      return c && c.meta.version === '0.1.0' && !['starting', 'installing', 'upgrading', 'downloading'].includes(c.status) ? c : null;
    });
    assert.notEqual(failed.status, 'running');
    assert.deepEqual(await rows(upgrade, 'SELECT COUNT(*) AS n FROM __diesel_schema_migrations'), before);
    const calls = await rows(upgrade, 'SELECT id FROM model_calls ORDER BY id');
    assert.deepEqual(calls.map((r) => r.id), ['call-0', 'call-1', 'call-2', 'call-added']);
  });

  test('upgrade, 3: once the cause is gone, the start migrates and every row is there', async () => {
    await rows(upgrade, 'DROP TABLE credit_accounts');
    assert.deepEqual(await rows(upgrade, "SELECT name FROM sqlite_master WHERE name = 'credit_accounts'"), []);
    await server.gql('startBlocklet', { did: upgrade.did, componentDids: [HUB_DID] }, upgrade.did);
    await server.waitRunning(upgrade, HUB_DID);
    await until('the Hub answering', async () => (await hub(upgrade, 'GET', '/healthz')).json?.status === 'ok' && (await hub(upgrade, 'GET', '/readyz')).status === 200);
    const key = adminKey(upgrade);
    const providers = await hub(upgrade, 'GET', '/api/ai-providers', { key });
    assert.equal(providers.status, 200, providers.text);
    assert.equal(providers.json.list[0].id, 'prov-openai', providers.text);
    const calls = await hub(upgrade, 'GET', '/api/user/model-calls?allUsers=true&pageSize=50', { key });
    assert.equal(calls.status, 200, calls.text);
    assert.deepEqual(calls.json.list.map((c) => c.id).sort(), ['call-0', 'call-1', 'call-2', 'call-added']);
    const grants = await rows(upgrade, "SELECT amount, remaining FROM credit_grants WHERE id = 'grant-1'");
    assert.deepEqual(grants, [{ amount: '10', remaining: '10' }]);
  });
});
