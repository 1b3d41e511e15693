// The console in a real browser (Debian's Chromium through playwright-core), against the real
// Hub and a mock upstream. Run by tests/blackbox/console.rs with HUB_URL, ADMIN_KEY, MOCK_BASE
// (and SCREENSHOTS, a folder, to keep pictures). Exits non-zero on the first failed step.
import assert from 'node:assert/strict';
import { join } from 'node:path';

import { chromium } from 'playwright-core';

import launchOptions from './chromium.cjs';

const HUB = process.env.HUB_URL;
const ADMIN = process.env.ADMIN_KEY;
const MOCK = process.env.MOCK_BASE;
const SHOTS = process.env.SCREENSHOTS;
assert.ok(HUB && ADMIN && MOCK, 'HUB_URL, ADMIN_KEY and MOCK_BASE are needed');

const browser = await chromium.launch(launchOptions());

const problems = [];
async function newPage(viewport = { width: 1280, height: 800 }) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    // A 401/402/404 answer is logged by the browser itself; the console shows those on purpose.
    if (m.type() === 'error' && !/Failed to load resource: the server responded with a status of 40[1-4]/.test(m.text())) {
      problems.push(`console error: ${m.text()}`);
    }
  });
  return page;
}

async function api(method, path, key, body) {
  const res = await fetch(`${HUB}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: await res.json().catch(() => null) };
}

async function shot(page, name) {
  if (SHOTS) await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: false });
}

async function signIn(page, key) {
  await page.goto(`${HUB}/`);
  await page.getByTestId('access-key').fill(key);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByTestId('whoami').waitFor();
}

const step = (name) => console.log(`- ${name}`);

try {
  const page = await newPage();

  step('a wrong key is refused with the Hub’s message');
  await page.goto(`${HUB}/`);
  await page.getByTestId('access-key').fill('not-a-key');
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByRole('alert').filter({ hasText: /key/i }).waitFor();

  step('the admin signs in and sees the admin pages');
  await signIn(page, ADMIN);
  assert.match(await page.getByTestId('whoami').innerText(), /owner|admin/);
  await page.getByRole('button', { name: 'Providers' }).waitFor();

  step('adds a provider on the mock and a credential, whose value is never shown');
  await page.getByRole('button', { name: 'Providers' }).click();
  await page.getByRole('button', { name: 'Add provider' }).click();
  await page.getByTestId('provider-base-url').fill(MOCK);
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByTestId('provider-openai').waitFor();
  await page.getByRole('button', { name: 'Add credential' }).click();
  await page.getByTestId('credential-name').fill('mock key');
  await page.getByTestId('credential-value').fill('mock-ok');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByTestId('masked-value').first().waitFor();
  assert.equal(await page.getByTestId('masked-value').first().innerText(), '***');
  assert.ok(!(await page.content()).includes('mock-ok'), 'the credential value is on the page');
  await page.getByRole('button', { name: 'Test credential mock key' }).click();
  await page.getByTestId('test-result').filter({ hasText: /works \(\d+ ms\)/ }).waitFor();
  await page.getByTestId('provider-openai').getByRole('button', { name: 'Edit', exact: true }).click();
  await page.getByLabel('Display name').fill('OpenAI (mock)');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('heading', { name: 'OpenAI (mock)' }).waitFor();
  await shot(page, 'providers');

  step('chats in the playground with a streamed answer, tokens, credits and latency');
  await page.getByRole('button', { name: 'Playground' }).click();
  const picker = page.getByTestId('model-picker');
  await picker.click();
  await picker.fill('openai/gpt-4o-mini');
  await page.getByRole('option', { name: 'openai/gpt-4o-mini', exact: true }).click();
  await page.getByTestId('prompt').fill('Say hello');
  await page.getByTestId('prompt').press('Enter');
  await page.getByTestId('answer-meta').filter({ hasText: /[\d.]+ credits/ }).waitFor();
  assert.equal(await page.getByTestId('answer').innerText(), 'Hello, world');
  assert.match(await page.getByTestId('answer-meta').innerText(), /\d+ tokens/);
  await shot(page, 'playground');

  step('generates an image in the playground, served from the hub');
  await page.getByTestId('mode-image').click();
  const imagePicker = page.getByTestId('image-model-picker');
  await imagePicker.click();
  await imagePicker.fill('openai/gpt-image-1');
  await page.getByRole('option', { name: 'openai/gpt-image-1', exact: true }).click();
  await page.getByTestId('image-prompt').fill('A lighthouse at dusk');
  await page.getByRole('button', { name: 'Generate' }).click();
  const picture = page.getByTestId('generated-image').first();
  await picture.waitFor();
  assert.match(await picture.getAttribute('src'), /\/api\/files\/\d+-[\w-]{32}\.png$/);
  // The browser loaded it: a decoded 1×1 PNG.
  await page.waitForFunction(() => {
    const img = document.querySelector('[data-testid="generated-image"]');
    return img && img.complete && img.naturalWidth === 1;
  });
  assert.match(await page.getByTestId('image-meta').first().innerText(), /1 image/);
  await page.getByTestId('mode-chat').click();

  step('the call is in the log, with its details');
  await page.getByRole('button', { name: 'Call log' }).click();
  const row = page.getByTestId('call-log').getByRole('row').filter({ hasText: 'openai/gpt-4o-mini' }).first();
  await row.waitFor();
  assert.match(await row.innerText(), /success/);
  await row.click();
  await page.getByRole('dialog', { name: 'Call details' }).getByText('Request id').waitFor();
  await page.keyboard.press('Escape');

  step('and in the usage charts');
  await page.getByRole('button', { name: 'Usage' }).click();
  await page.getByTestId('usage-charts').locator('svg.recharts-surface').first().waitFor();
  assert.equal(await page.getByTestId('stat-Calls').innerText(), '2', 'the chat and the image');
  await shot(page, 'usage');

  step('creates a member key (shown once) and revokes another');
  await page.getByRole('button', { name: 'Access keys' }).click();
  await page.getByTestId('key-name').fill('member one');
  await page.getByRole('button', { name: 'Create key' }).click();
  const memberKey = (await page.getByTestId('new-key').innerText()).trim();
  assert.ok(memberKey.length > 20, memberKey);
  await page.getByTestId('key-name').fill('short lived');
  await page.getByRole('button', { name: 'Create key' }).click();
  await page.getByTestId('key-short lived').waitFor();
  page.once('dialog', (d) => d.accept());
  await page.getByTestId('key-short lived').getByRole('button', { name: 'Revoke' }).click();
  await page.getByTestId('key-short lived').getByText('revoked').waitFor();

  step('dark mode and a phone-width screen');
  const before = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  await page.getByRole('button', { name: 'Toggle dark mode' }).click();
  const after = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  assert.notEqual(before, after);
  const phone = await newPage({ width: 390, height: 844 });
  await signIn(phone, ADMIN);
  await phone.getByRole('button', { name: 'Open menu' }).click();
  await phone.getByRole('button', { name: 'Credits' }).click();
  await phone.getByRole('heading', { name: 'Credits', exact: true }).waitFor();
  await phone.context().close();

  step('a member sees no admin pages');
  const member = await newPage();
  await signIn(member, memberKey);
  assert.match(await member.getByTestId('whoami').innerText(), /member/);
  assert.equal(await member.getByRole('button', { name: 'Providers' }).count(), 0);
  await member.goto(`${HUB}/config/ai-config/providers`);
  await member.getByRole('heading', { name: 'Admins only', exact: true }).waitFor();

  step('a revoked key sends the member back to sign-in with a message');
  const keys = await api('GET', '/api/access-keys?allUsers=true&pageSize=100', ADMIN);
  const mine = keys.body.list.find((k) => k.name === 'member one');
  assert.equal((await api('DELETE', `/api/access-keys/${mine.id}`, ADMIN)).status, 200);
  await member.goto(`${HUB}/calls`);
  await member.getByTestId('access-key').waitFor();
  await member.getByText(/Signed out/).waitFor();
  await member.reload();
  await member.getByText(/Signed out/).waitFor();

  step('the public pricing page needs no key');
  const visitor = await newPage();
  await visitor.goto(`${HUB}/pricing`);
  await visitor.getByRole('cell', { name: 'gpt-4o-mini' }).first().waitFor();

  assert.deepEqual(problems, [], problems.join('\n'));
  console.log('console e2e: ok');
} catch (e) {
  console.error(e);
  if (problems.length) console.error(problems.join('\n'));
  process.exitCode = 1;
} finally {
  await browser.close();
}
