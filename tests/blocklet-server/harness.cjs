// A real Blocklet Server for the test stage: `@blocklet/cli` (installed by
// scripts/install-blocklet-server.sh into BS_DIR) initialised in a temporary data directory with
// its router on free ports and no remote registration, started, driven through its GraphQL API
// with a CI access key, and torn down so that none of its fixed ports stays taken.
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const http = require('http');
const net = require('net');
const { spawn, spawnSync } = require('child_process');

const BS_DIR = process.env.BS_DIR;
if (!BS_DIR) throw new Error('BS_DIR (the @blocklet/cli install, scripts/install-blocklet-server.sh) is not set');
const MODULES = path.join(BS_DIR, 'node_modules');
const CLI = path.join(MODULES, '.bin', 'blocklet');
const need = (name) => require(path.join(MODULES, name));

/** Ports a Blocklet Server always takes: only one server per machine. */
const FIXED_PORTS = [8088, 8089, ...Array.from({ length: 8 }, (_, i) => 40404 + i)];
const HUB_DID = 'z8ia3xzq2tMq8CRHfaXj1BTYJyYnEcHbqP8cJ';


/** Which of `ports` something listens on (/proc/net/tcp{,6}; a port that an outgoing
 * connection happens to use for a moment does not count). */
async function takenPorts(ports = FIXED_PORTS) {
  const listening = new Set();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = fs.readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      // local_address is "ADDR:PORT" in hex; state 0A is LISTEN.
      if (cols.length > 3 && cols[3] === '0A') listening.add(parseInt(cols[1].split(':')[1], 16));
    }
  }
  return ports.filter((p) => listening.has(p));
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function until(what, fn, { timeout = 30000, every = 250 } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await sleep(every);
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`);
}

class Server {
  constructor() {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aigne-hub-bs-'));
    this.log = path.join(this.dir, 'stage.log');
    this.env = {
      ...process.env,
      ABT_NODE_CUSTOM_DATA_DIR: this.dir,
      ABT_NODE_NOT_ALLOW_DOCKER: '1',
      // The CLI's own update check and telemetry have no network here.
      NO_UPDATE_NOTIFIER: '1',
      CI: 'true',
    };
  }

  /** Runs the CLI in the data directory; its output goes to the stage log. */
  cli(args, { timeout = 180000, allowFail = false } = {}) {
    // In a process group of its own: `server stop --force` ends the router with fkill(pid), and
    // when the router is no longer running pm2 reports pid 0, so that becomes kill(0, SIGTERM) —
    // every process of the caller's group, this test runner included, ended without a word.
    const res = spawnSync('setsid', ['--wait', CLI, ...args], { cwd: this.dir, env: this.env, encoding: 'utf8', timeout });
    fs.appendFileSync(this.log, `\n$ blocklet ${args.join(' ')}\n${res.stdout || ''}${res.stderr || ''}`);
    if (!allowFail && res.status !== 0) {
      throw new Error(`blocklet ${args.join(' ')} exited ${res.status ?? res.signal}: ${(res.stderr || res.stdout || '').slice(-2000)}`);
    }
    return res;
  }

  async start() {
    this.httpPort = await freePort();
    this.httpsPort = await freePort();
    this.cli(['server', 'init', '-y', '--mode', 'debug', '--no-https', '--http-port', String(this.httpPort), '--https-port', String(this.httpsPort)]);
    const config = path.join(this.dir, '.blocklet-server', 'config.yml');
    const yml = fs.readFileSync(config, 'utf8');
    // No launcher to register with offline; the Node router (nginx would need its stream module).
    fs.writeFileSync(
      config,
      yml.replace(/^(\s*)registerUrl:.*$/m, "$1registerUrl: ''").replace(/^(\s*)provider: .*$/m, '$1provider: default'),
    );
    this.cli(['server', 'start'], { timeout: 240000 });
    this.started = true;
    this.gqlPort = 8089;
    const key = this.core('create-ci-key');
    const Client = need('@blocklet/server-js');
    this.client = new Client(`http://127.0.0.1:${this.gqlPort}/api/gql`, 'aigne-hub-tests');
    this.client.setAuthAccessKey({ accessKeyId: key.accessKeyId, accessKeySecret: key.accessKeySecret });
  }

  /** Operations through the server's own core module (as the CLI's local deploy does), in a
   * child process: it opens the server's databases and is noisy. */
  core(op, args = {}) {
    const out = path.join(this.dir, `core-${op}-${Date.now()}.json`);
    const res = spawnSync(process.execPath, [path.join(__dirname, 'core-op.cjs'), op, JSON.stringify(args), out], {
      cwd: this.dir,
      env: this.env,
      encoding: 'utf8',
      timeout: 120000,
      maxBuffer: 64 * 1024 * 1024,
    });
    fs.appendFileSync(this.log, `\n$ core ${op}\n${(res.stderr || '').slice(-4000)}`);
    if (res.status !== 0 || !fs.existsSync(out)) {
      throw new Error(`core ${op} failed (${res.status ?? res.signal}): ${(res.stderr || '').slice(-2000)}`);
    }
    return JSON.parse(fs.readFileSync(out, 'utf8'));
  }

  async gql(method, input, app, extraHeaders = {}) {
    const headers = { ...(app ? { 'x-access-blocklet': app } : {}), ...extraHeaders };
    try {
      return await this.client[method]({ input }, { headers });
    } catch (e) {
      throw new Error(`GraphQL ${method}: ${e.message}`);
    }
  }

  /** An empty app (what a user makes in the dashboard before adding components). */
  async createApp(title) {
    const { fromRandom } = need('@ocap/wallet');
    const res = await this.gql('installBlocklet', { type: 'create', title, description: `${title} (aigne-hub tests)`, appSk: fromRandom().secretKey });
    const did = res.blocklet.meta.did;
    await this.gql('startBlocklet', { did }, did);
    return this.app(did);
  }

  async app(did) {
    const { blocklet } = await this.gql('getBlocklet', { did, attachRuntimeInfo: false }, did);
    const host = blocklet.site.domainAliases.map((a) => a.value).find((v) => v.endsWith('.did.abtnet.io'));
    return { did, host, blocklet, pid: blocklet.appPid };
  }

  async component(app, componentDid) {
    const { blocklet } = await this.gql('getBlocklet', { did: app.did, attachRuntimeInfo: false }, app.did);
    return (blocklet.children || []).find((c) => c.meta.did === componentDid);
  }

  /** `blocklet deploy` of a bundle directory (copied: the CLI writes a release beside it). */
  deploy(app, bundleDir, mountPoint, { allowFail = false } = {}) {
    const work = fs.mkdtempSync(path.join(this.dir, 'deploy-'));
    const copy = path.join(work, 'bundle');
    fs.cpSync(bundleDir, copy, { recursive: true });
    return this.cli(['deploy', copy, '--app-id', app.did, '--mount-point', mountPoint], { timeout: 240000, allowFail });
  }

  async waitRunning(app, componentDid, timeout = 60000) {
    return until(`${componentDid} running in ${app.did}`, async () => {
      const c = await this.component(app, componentDid);
      return c && c.status === 'running' ? c : null;
    }, { timeout, every: 500 });
  }

  dataDir(app, name) {
    return path.join(this.dir, '.blocklet-server', 'data', app.did, name);
  }

  logsOf(app, name) {
    const dir = path.join(this.dir, '.blocklet-server', 'logs', app.did, name);
    if (!fs.existsSync(dir)) return '';
    return fs.readdirSync(dir).map((f) => `== ${f}\n${fs.readFileSync(path.join(dir, f), 'utf8').slice(-6000)}`).join('\n');
  }

  /** A request through the server's router, as a browser at the app's address makes it. */
  async request(app, method, urlPath, { headers = {}, body, timeout = 30000 } = {}) {
    await this.routerKnows(app.host);
    return request(this.httpPort, app.host, method, urlPath, { headers, body, timeout });
  }

  /** Waits until the router has a site for `host`. The Node router (1.17.12) dies on a request
   * for a host it has no site for (`site.rules` of undefined), and after a few such deaths in a
   * row pm2 stops restarting it: a new app's first request must wait for the routing table. */
  async routerKnows(host) {
    this.knownHosts ??= new Set();
    if (this.knownHosts.has(host)) return;
    const config = path.join(this.dir, '.blocklet-server', 'router', 'default', 'config.json');
    await until(`the router's site for ${host}`, async () => {
      try {
        return JSON.parse(fs.readFileSync(config, 'utf8')).sites.some((s) => s.domain === host);
      } catch {
        return false;
      }
    }, { timeout: 60000, every: 250 });
    // The file is written before the router is told to reload it.
    await sleep(1500);
    this.knownHosts.add(host);
  }

  async stop() {
    if (!this.started) return;
    this.started = false;
    this.cli(['server', 'stop', '--force'], { timeout: 120000, allowFail: true });
    // A plain stop leaves the components and the pm2 daemon (its home is <data dir>/abtnode)
    // running, and the router can outlive the daemon: whatever still runs for this data
    // directory is ended.
    const pm2 = path.join(MODULES, '.bin', 'pm2');
    spawnSync(pm2, ['kill'], { env: { ...this.env, PM2_HOME: path.join(this.dir, 'abtnode') }, timeout: 60000 });
    for (const signal of ['SIGTERM', 'SIGKILL']) {
      const left = processesOf(this.dir);
      if (!left.length) break;
      for (const pid of left) {
        try {
          process.kill(pid, signal);
        } catch {}
      }
      await sleep(2000);
    }
    await until('Blocklet Server ports released', async () => (await takenPorts([...FIXED_PORTS, this.httpPort])).length === 0, {
      timeout: 30000,
      every: 500,
    }).catch((e) => {
      throw new Error(`${e.message}: ${JSON.stringify(spawnSync('ss', ['-ltnp'], { encoding: 'utf8' }).stdout)}`);
    });
  }
}

/** Processes started for a server data directory (their environment names it). */
function processesOf(dir) {
  const mine = `ABT_NODE_CUSTOM_DATA_DIR=${dir}`;
  const pids = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const env = fs.readFileSync(`/proc/${entry}/environ`, 'latin1').split('\0');
      if (env.includes(mine)) pids.push(Number(entry));
    } catch {}
  }
  return pids;
}

/** An HTTP request with a Host header of our choosing (fetch does not allow one). */
function request(port, host, method, urlPath, { headers = {}, body, timeout = 30000 } = {}) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method,
        path: urlPath,
        headers: {
          host,
          ...(data !== undefined ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } : {}),
          ...headers,
        },
        timeout,
      },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json = null;
          try {
            json = JSON.parse(text);
          } catch {}
          resolve({ status: res.statusCode, headers: res.headers, text, json });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${urlPath}: no answer in ${timeout} ms`)));
    req.on('error', reject);
    if (data !== undefined) req.write(data);
    req.end();
  });
}

/** A streamed request: resolves with the response; `lines` yields its body line by line. */
function openStream(port, host, urlPath, { headers = {}, body }) {
  return new Promise((resolve, reject) => {
    const data = JSON.stringify(body);
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: urlPath,
        headers: { host, 'content-type': 'application/json', 'content-length': Buffer.byteLength(data), ...headers },
      },
      (res) => resolve({ res, req }),
    );
    req.on('error', reject);
    req.write(data);
    req.end();
  });
}

module.exports = { Server, HUB_DID, FIXED_PORTS, takenPorts, freePort, until, sleep, request, openStream, need, MODULES };
