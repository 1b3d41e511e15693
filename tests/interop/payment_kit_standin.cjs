// A Payment Kit stand-in for the Hub's tests (SPEC §9): the endpoints the Hub calls, behind
// @blocklet/sdk's real verifySig middleware (so ArcBlock's code checks the Hub's signatures),
// over an in-memory ledger saved to STATE_FILE after every change (a restart keeps it).
//
// Env: BLOCKLET_APP_SK (the app key the Hub signs with), PORT (0: any), STATE_FILE.
// Prints its port on the first line of stdout. Amounts: the currency has 10 decimals; balances
// are answered in units (as Payment Kit does), meter event values and grants in credits.
//
// Test controls (unsigned, /__test/*): GET state; POST grant {did, amount};
// POST subscribe {appId, status}; POST availability {canContinue};
// POST drop {count}: the next `count` meter events are recorded, then the connection is cut
// before the answer (the Hub must retry with the same identifier);
// POST fail {count}: the next `count` meter events get a 503 and are not recorded.
process.env.NODE_ENV = 'test';
const fs = require('fs');
const express = require('express');
const { verifySig } = require('@blocklet/sdk/lib/middlewares/component');

const DECIMAL = 10n;
const SCALE = 10n ** DECIMAL;
const CURRENCY = { id: 'pc_credit', symbol: 'AHC', name: 'AIGNE Hub Credits', decimal: Number(DECIMAL) };
const stateFile = process.env.STATE_FILE;

/** "1.25" credits → units (BigInt); rejects anything that is not a plain decimal. */
function units(text) {
  const s = String(text).trim();
  if (!/^-?\d+(\.\d+)?$/.test(s)) throw new Error(`not a decimal amount: ${s}`);
  const neg = s.startsWith('-');
  const [int, frac = ''] = s.replace('-', '').split('.');
  if (frac.length > Number(DECIMAL)) throw new Error(`more than ${DECIMAL} decimals: ${s}`);
  const v = BigInt(int) * SCALE + BigInt(frac.padEnd(Number(DECIMAL), '0'));
  return neg ? -v : v;
}

const empty = () => ({ meter: null, customers: {}, grants: [], events: [], posts: {}, subscriptions: [], canContinue: false });
let state = empty();
if (stateFile && fs.existsSync(stateFile)) state = JSON.parse(fs.readFileSync(stateFile, 'utf8'));
const save = () => {
  if (stateFile) {
    fs.writeFileSync(`${stateFile}.tmp`, JSON.stringify(state));
    fs.renameSync(`${stateFile}.tmp`, stateFile);
  }
};
let drop = 0;
let fail = 0;

const customerOf = (idOrDid) => {
  const did = idOrDid.startsWith('cus_') ? idOrDid.slice(4) : idOrDid;
  if (!state.customers[did]) {
    state.customers[did] = { id: `cus_${did}`, did, object: 'customer' };
    save();
  }
  return state.customers[did];
};

/** Granted, consumed (applied events) and pending (not applied yet) units of a customer. */
function position(did) {
  const granted = state.grants.filter((g) => g.did === did).reduce((a, g) => a + BigInt(g.units), 0n);
  let consumed = 0n;
  let pending = 0n;
  for (const e of state.events.filter((x) => x.did === did)) {
    if (e.applied) consumed += BigInt(e.units);
    else pending += BigInt(e.units);
  }
  const remaining = granted - consumed;
  return { granted, remaining: remaining > 0n ? remaining : 0n, pending: pending + (remaining < 0n ? -remaining : 0n) };
}

// Events are applied to the grants a moment after they arrive (as Payment Kit's queue does).
setInterval(() => {
  let changed = false;
  for (const e of state.events) {
    if (!e.applied && Date.now() - e.receivedAt > 300) {
      e.applied = true;
      changed = true;
    }
  }
  if (changed) save();
}, 100).unref();

const app = express();
app.use(express.json());

// Test controls, unsigned.
app.get('/__test/state', (req, res) => res.json({
  ...state,
  positions: Object.fromEntries(Object.keys(state.customers).map((did) => {
    const p = position(did);
    return [did, { granted: p.granted.toString(), remaining: p.remaining.toString(), pending: p.pending.toString() }];
  })),
}));
app.post('/__test/grant', (req, res) => {
  const { did, amount } = req.body;
  customerOf(did);
  state.grants.push({ id: `cg_${state.grants.length + 1}`, did, units: units(amount).toString(), category: 'paid', metadata: {} });
  save();
  res.json({ ok: true });
});
app.post('/__test/subscribe', (req, res) => {
  state.subscriptions.push({ id: `sub_${state.subscriptions.length + 1}`, status: req.body.status, metadata: { appId: req.body.appId } });
  save();
  res.json({ ok: true });
});
app.post('/__test/availability', (req, res) => {
  state.canContinue = !!req.body.canContinue;
  save();
  res.json({ ok: true });
});
app.post('/__test/drop', (req, res) => { drop = req.body.count; res.json({ ok: true }); });
app.post('/__test/fail', (req, res) => { fail = req.body.count; res.json({ ok: true }); });

// Everything else is Payment Kit's API, for signed component calls only.
app.use((req, res, next) => {
  if (req.query.livemode !== 'true') return res.status(400).json({ error: 'livemode=true expected' });
  return next();
}, verifySig);

const meterJson = () => ({ ...state.meter, paymentCurrency: CURRENCY });
app.get('/api/meters/:name', (req, res) => {
  if (!state.meter || state.meter.event_name !== req.params.name) return res.status(404).json({ error: 'meter not found' });
  return res.json(meterJson());
});
app.post('/api/meters', (req, res) => {
  const { name, event_name: eventName, unit, aggregation_method: aggregation } = req.body || {};
  if (!name || !eventName || aggregation !== 'sum') return res.status(400).json({ error: 'name, event_name and aggregation_method sum are required' });
  state.meter = { id: 'mtr_1', object: 'meter', name, event_name: eventName, unit, currency_id: CURRENCY.id, aggregation_method: aggregation };
  save();
  return res.json(meterJson());
});
app.get('/api/customers/:did', (req, res) => res.json(customerOf(req.params.did)));
app.get('/api/credit-grants/summary', (req, res) => {
  const c = customerOf(String(req.query.customer_id || ''));
  const p = position(c.did);
  const count = state.grants.filter((g) => g.did === c.did).length;
  if (!count) return res.json({});
  return res.json({ [CURRENCY.id]: { paymentCurrency: CURRENCY, totalAmount: p.granted.toString(), remainingAmount: p.remaining.toString(), grantCount: count } });
});
app.get('/api/credit-grants', (req, res) => {
  const c = customerOf(String(req.query.customer_id || ''));
  const page = Number(req.query.page || 1);
  const size = Number(req.query.pageSize || 20);
  const mine = state.grants.filter((g) => g.did === c.did).reverse();
  const list = mine.slice((page - 1) * size, page * size).map((g) => ({ id: g.id, object: 'credit_grant', customer_id: c.id, amount: g.units, currency_id: CURRENCY.id, category: g.category, status: 'granted', metadata: g.metadata }));
  return res.json({ count: mine.length, list });
});
app.get('/api/meter-events/pending-amount', (req, res) => {
  const c = customerOf(String(req.query.customer_id || ''));
  return res.json({ [CURRENCY.id]: position(c.did).pending.toString() });
});
app.get('/api/credit-grants/verify-availability', (req, res) => {
  const { customer_id: customer, currency_id: currency, pending_amount: pending } = req.query;
  if (!customer || currency !== CURRENCY.id || !/^\d+$/.test(String(pending))) return res.status(400).json({ error: 'customer_id, currency_id and pending_amount (units) are required' });
  const c = customerOf(String(customer));
  const p = position(c.did);
  return res.json({ can_continue: state.canContinue || p.remaining > p.pending + BigInt(pending), reason: state.canContinue ? 'auto_recharge' : 'insufficient_credit' });
});
app.post('/api/meter-events', (req, res) => {
  const { event_name: eventName, payload, identifier, timestamp } = req.body || {};
  state.posts[identifier] = (state.posts[identifier] || 0) + 1;
  if (fail > 0) {
    fail -= 1;
    save();
    return res.status(503).json({ error: 'payment kit is busy' });
  }
  if (!state.meter || eventName !== state.meter.event_name) return res.status(400).json({ error: `unknown event_name ${eventName}` });
  if (!identifier || !payload || !payload.customer_id || typeof payload.value !== 'string' || typeof timestamp !== 'number') {
    return res.status(400).json({ error: 'identifier, timestamp, payload.customer_id and payload.value (string) are required' });
  }
  let value;
  try { value = units(payload.value); } catch (e) { return res.status(400).json({ error: e.message }); }
  if (value <= 0n) return res.status(400).json({ error: 'value must be positive' });
  const existing = state.events.find((e) => e.identifier === identifier);
  if (existing) {
    save();
    return res.status(400).json({ error: `meter event with identifier ${identifier} already exists` });
  }
  const c = customerOf(payload.customer_id);
  const event = { id: `mev_${state.events.length + 1}`, identifier, did: c.did, units: value.toString(), value: payload.value, metadata: req.body.metadata || {}, timestamp, receivedAt: Date.now(), applied: false };
  state.events.push(event);
  save();
  if (drop > 0) {
    drop -= 1;
    return req.socket.destroy();
  }
  return res.json({ ...event, object: 'meter_event' });
});
app.post('/api/credit-grants', (req, res) => {
  const { customer_id: customer, amount, currency_id: currency, category, metadata } = req.body || {};
  if (!customer || currency !== CURRENCY.id || !['paid', 'promotional'].includes(category)) return res.status(400).json({ error: 'customer_id, currency_id and category are required' });
  let value;
  try { value = units(amount); } catch (e) { return res.status(400).json({ error: e.message }); }
  const c = customerOf(customer);
  const grant = { id: `cg_${state.grants.length + 1}`, did: c.did, units: value.toString(), category, metadata: metadata || {} };
  state.grants.push(grant);
  save();
  return res.json(grant);
});
app.get('/api/credit-transactions', (req, res) => {
  const c = customerOf(String(req.query.customer_id || ''));
  if (!state.meter || req.query.meter_id !== state.meter.id) return res.status(400).json({ error: 'meter_id is required' });
  const page = Number(req.query.page || 1);
  const size = Number(req.query.pageSize || 20);
  const mine = state.events.filter((e) => e.did === c.did).reverse();
  const list = mine.slice((page - 1) * size, page * size).map((e) => ({ id: `ctx_${e.id}`, object: 'credit_transaction', customer_id: c.id, meter_id: state.meter.id, credit_amount: e.value, meter_event_id: e.id, description: e.identifier }));
  return res.json({ count: mine.length, list });
});
app.get('/api/subscriptions', (req, res) => {
  const appId = req.query['metadata.appId'];
  const list = state.subscriptions.filter((s) => !appId || s.metadata.appId === appId);
  res.json({ list, count: list.length });
});

const server = app.listen(Number(process.env.PORT || 0), '127.0.0.1', () => console.log(server.address().port));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
