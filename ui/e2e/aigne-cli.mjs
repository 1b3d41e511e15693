// `aigne hub connect` and `aigne hub status` of the real @aigne/cli (tests/interop), as its users
// run them, against the Hub behind an HTTPS front (the CLI reads the user's info over https only):
// the CLI opens the approval page through $BROWSER, Chromium signs in there and approves (or
// refuses), the CLI stores the key it decrypts, `aigne hub status` prints the user, and an agent
// runs through the Hub with that key. SCENARIO=refuse: the user refuses, SCENARIO=expire:
// nobody answers; either way the CLI stops with the Hub's message. Run by tests/blackbox/interop.rs with HUB_URL, ADMIN_KEY, MOCK_BASE, USER_KEY
// (the console user's key), USER_DID, AIGNE (the CLI), SCENARIO.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { HUB, browser, newPage, problems, signIn, step } from './session.mjs';

const AIGNE = process.env.AIGNE;
const USER_KEY = process.env.USER_KEY;
const USER_DID = process.env.USER_DID;
const SCENARIO = process.env.SCENARIO ?? 'full';
assert.ok(AIGNE && USER_KEY && USER_DID, 'AIGNE, USER_KEY and USER_DID are needed');

const work = mkdtempSync(join(tmpdir(), 'aigne-cli-'));

/** A self-signed certificate for 127.0.0.1 and an HTTPS front that forwards to the Hub. */
async function httpsFront() {
  const key = join(work, 'key.pem');
  const cert = join(work, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert,
    '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  const hub = new URL(HUB);
  const server = https.createServer({ key: readFileSync(key), cert: readFileSync(cert) }, (req, res) => {
    const up = http.request({
      host: hub.hostname, port: hub.port, path: req.url, method: req.method,
      headers: { ...req.headers, 'x-forwarded-proto': 'https' },
    }, (r) => {
      res.writeHead(r.statusCode, r.headers);
      r.pipe(res);
    });
    up.on('error', (e) => {
      res.writeHead(502);
      res.end(String(e));
    });
    req.pipe(up);
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  return { server, cert, origin: `https://127.0.0.1:${server.address().port}` };
}

/** A user's machine: a home with ~/.aigne (1.59.0's file store needs the folder) and a browser
 * that hands the page the CLI opens to this test. */
function machine(name) {
  const home = join(work, name);
  mkdirSync(join(home, '.aigne'), { recursive: true });
  const opened = join(home, 'opened-url');
  const browserScript = join(home, 'browser.sh');
  writeFileSync(browserScript, `#!/bin/sh\nprintf '%s' "$1" > '${opened}'\n`);
  chmodSync(browserScript, 0o755);
  return { home, opened, browserScript };
}

function cli(m, args, { cert, input = '' } = {}) {
  const env = { ...process.env, HOME: m.home, BROWSER: m.browserScript, NODE_EXTRA_CA_CERTS: cert, FORCE_COLOR: '0', NO_COLOR: '1' };
  // `CI` or NODE_ENV=test makes the CLI skip the connection and store a fixed test key.
  delete env.CI;
  delete env.NODE_ENV;
  delete env.DISPLAY;
  delete env.AIGNE_HUB_API_KEY;
  delete env.AIGNE_HUB_API_URL;
  const child = spawn(AIGNE, args, { env, cwd: m.home });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  child.stdin.end(input);
  const done = new Promise((ok) => child.on('close', (code) => ok({ code, out })));
  return { child, done };
}

/** Waits for the page the CLI opened; its session id (the token is its base64url). */
async function openedPage(m) {
  for (let i = 0; i < 100 && !existsSync(m.opened); i++) await new Promise((r) => setTimeout(r, 100));
  assert.ok(existsSync(m.opened), 'the CLI opened no page');
  const url = readFileSync(m.opened, 'utf8').trim();
  const token = new URL(url).searchParams.get('__token__');
  return { url, sid: Buffer.from(token, 'base64url').toString() };
}

const strip = (s) => s.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');

/** `aigne hub status`'s fields (`Name: …`), answering its hub picker with Enter. */
async function status(m, cert) {
  const { done } = cli(m, ['hub', 'status'], { cert, input: '\n' });
  const { out } = await done;
  const fields = {};
  for (const line of strip(out).split('\n')) {
    const hit = /^\s*(Hub|Status|Name|DID|Email|Total|Used|Available|Payment|Credits):\s*(.*)$/.exec(line);
    if (hit) fields[hit[1]] = hit[2].trim();
  }
  return { fields, out: strip(out) };
}

const front = await httpsFront();
try {
  const page = await newPage();

  if (SCENARIO === 'expire') {
    step('nobody answers: the CLI stops with the Hub’s message when the session expires');
    const m = machine('expire');
    const run = cli(m, ['hub', 'connect', front.origin], { cert: front.cert });
    await openedPage(m);
    const { out } = await run.done;
    assert.match(out, /Failed to connect/, out);
    assert.match(out, /expired/, out);
    const file = join(m.home, '.aigne', 'aigne-hub-connected.yaml');
    assert.ok(!existsSync(file) || !readFileSync(file, 'utf8').includes('AIGNE_HUB_API_KEY'), 'a key was stored');
  } else if (SCENARIO === 'refuse') {
    await signIn(page, USER_KEY);
    step('refused: the CLI stops with the Hub’s message');
    const r = machine('refuse');
    const refused = cli(r, ['hub', 'connect', front.origin], { cert: front.cert });
    const second = await openedPage(r);
    await page.goto(second.url.replace(front.origin, HUB));
    await page.getByTestId('connect-refuse').click();
    await page.getByTestId('connect-done').filter({ hasText: /Refused/ }).waitFor();
    const { out: refusedOut } = await refused.done;
    assert.match(refusedOut, /Failed to connect/, refusedOut);
    assert.match(refusedOut, /refused/, refusedOut);
  } else {
    step('aigne hub connect: the CLI opens the console page, the user signs in and approves');
    const m = machine('approve');
    const run = cli(m, ['hub', 'connect', front.origin], { cert: front.cert });
    const { url, sid } = await openedPage(m);
    assert.equal(new URL(url).origin, front.origin);
    // Chromium here opens the same page at the Hub itself (it does not trust the test's certificate).
    const local = url.replace(front.origin, HUB);
    await page.goto(local);
    await page.getByTestId('access-key').fill(USER_KEY);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByTestId('connect-approve').waitFor();
    assert.match(await page.getByRole('heading').first().innerText(), /Connect AIGNE CLI to AIGNE Hub/);
    assert.match(await page.content(), /@aigne\/cli connect to AIGNE hub/);
    await page.getByTestId('connect-approve').click();
    await page.getByTestId('connect-done').filter({ hasText: /Connected/ }).waitFor();
    const connected = await run.done;
    assert.match(connected.out, new RegExp(`Hub ${front.origin.replace(/[.]/g, '\\.')} connected successfully`), connected.out);
    const stored = readFileSync(join(m.home, '.aigne', 'aigne-hub-connected.yaml'), 'utf8');
    const key = /AIGNE_HUB_API_KEY: (aigne-\S+)/.exec(stored)?.[1];
    assert.ok(key, stored);
    console.log(`connected key: ${key}`);

    step('the used page and a replayed session id get nothing');
    // In a page of its own: the approval page closes itself (`closeOnSuccess`) where it may.
    const again = await newPage();
    await signIn(again, USER_KEY);
    await again.goto(local);
    await again.getByText(/expired or was already used/).waitFor();
    const replay = await fetch(`${HUB}/.well-known/service/api/access-key/session?sid=${sid}`);
    assert.equal(replay.status, 404);

    step('aigne hub status prints the user and the credits the Hub answers');
    const info = await (await fetch(`${HUB}/api/user/info`, { headers: { authorization: `Bearer ${key}` } })).json();
    assert.ok(info.user.fullName && info.user.email && info.enableCredit, JSON.stringify(info));
    // The agent runs meanwhile (each is a CLI start of its own; its call costs a fraction of a
    // credit, below what status prints).
    const agent = join(work, 'agent');
    mkdirSync(agent);
    writeFileSync(join(agent, 'aigne.yaml'), 'model: aignehub/openai/gpt-4o-mini\nagents:\n  - chat.yaml\n');
    writeFileSync(join(agent, 'chat.yaml'), 'name: chat\ndescription: Chat agent\ninstructions: Answer briefly.\ninput_key: message\n');
    const running = cli(m, ['run', agent, 'chat', '--input', 'Say hello'], { cert: front.cert }).done;
    const { fields, out } = await status(m, front.cert);
    // The CLI's own formatting: the integer part with thousands separators.
    const fmt = (v) => String(v).replace(/[^\d.-]/g, '').split('.')[0].replace(/\B(?=(\d{3})+(?!\d))/g, ',') || '0';
    const { total, balance } = info.creditBalance;
    const expected = {
      Hub: front.origin,
      Status: 'Connected ✅',
      Name: info.user.fullName,
      DID: USER_DID,
      Email: info.user.email,
      Total: fmt(total),
      Used: fmt(String(parseFloat(total) - parseFloat(balance))),
      Available: fmt(balance),
      // Links of the origin the CLI called (the HTTPS front), not the Hub's own address.
      Payment: `${front.origin}/credits`,
      Credits: `${front.origin}/credit-usage`,
    };
    assert.deepEqual(fields, expected, out);
    console.log(`status: ${JSON.stringify(fields)}`);

    step('an agent runs through the Hub with the connected key');
    const ran = await running;
    assert.match(strip(ran.out), /Hello, world/, ran.out);

  }
  // The CLI's default logo is on the internet, which this machine does not reach.
  assert.deepEqual(problems.filter((p) => !p.includes('net::ERR_NAME_NOT_RESOLVED')), []);
  console.log('aigne-cli e2e: ok');
} finally {
  front.server.close();
  await browser.close();
}
