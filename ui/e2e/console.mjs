// The console in a real browser (Debian's Chromium through playwright-core), against the real
// Hub and a mock upstream: the admin's pages and the playground (calls.mjs has the log and the
// charts, members.mjs keys, visitors.mjs members and the public page, rates.mjs the rates). Run by tests/blackbox/console.rs with HUB_URL, ADMIN_KEY, MOCK_BASE
// (and SCREENSHOTS, a folder, to keep pictures). Exits non-zero on the first failed step.
import assert from 'node:assert/strict';
import { join } from 'node:path';

import { ADMIN, HUB, MOCK, api, browser, newPage, problems, signIn, step } from './session.mjs';

const SHOTS = process.env.SCREENSHOTS;

async function shot(page, name) {
  if (SHOTS) await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: false });
}

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

  step('the playground speaks the Responses, Messages and Gemini APIs too');
  for (const api of ['OpenAI Responses', 'Anthropic Messages', 'Gemini generateContent']) {
    await page.getByRole('button', { name: 'Clear chat' }).click();
    await page.getByLabel('Client API').click();
    await page.getByRole('option', { name: api }).click();
    await page.getByTestId('prompt').fill('Say hello');
    await page.getByTestId('prompt').press('Enter');
    await page.getByTestId('answer-meta').filter({ hasText: /[\d.]+ credits/ }).waitFor();
    assert.equal(await page.getByTestId('answer').innerText(), 'Hello, world', api);
    assert.match(await page.getByTestId('answer-meta').innerText(), /\d+ tokens/, api);
  }

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

  step('the health page shows the key and a model the provider does not have, and checks it again');
  const missing = await api('POST', '/api/v2/chat/completions', ADMIN, { model: 'openai/gpt-vanished', messages: [{ role: 'user', content: 'hi' }] });
  assert.equal(missing.status, 404, JSON.stringify(missing.body));
  await page.getByRole('button', { name: 'Health' }).click();
  await page.getByTestId('key-state-mock key').filter({ hasText: 'active' }).waitFor();
  // The status is written in the background: a refresh or two shows it.
  for (let i = 0; i < 50 && (await page.getByTestId('model-state-gpt-vanished').count()) === 0; i++) {
    await page.getByRole('button', { name: 'Refresh' }).click();
    await page.waitForTimeout(100);
  }
  await page.getByTestId('model-state-gpt-vanished').filter({ hasText: 'Model Not Found' }).waitFor();
  const checks = (await api('GET', '/api/ai-providers/health', ADMIN)).body.providers[0].models[0].lastChecked;
  await page.getByRole('button', { name: 'Check now' }).click();
  for (let i = 0; i < 50 && (await api('GET', '/api/ai-providers/health', ADMIN)).body.providers[0].models[0].lastChecked === checks; i++) {
    await page.waitForTimeout(100);
  }
  assert.notEqual((await api('GET', '/api/ai-providers/health', ADMIN)).body.providers[0].models[0].lastChecked, checks, 'the check was not made');
  await page.getByTestId('model-state-gpt-vanished').filter({ hasText: 'Model Not Found' }).waitFor();
  await shot(page, 'health');

  assert.deepEqual(problems, [], problems.join('\n'));
  console.log('console e2e: ok');
} catch (e) {
  console.error(e);
  if (problems.length) console.error(problems.join('\n'));
  process.exitCode = 1;
} finally {
  await browser.close();
}
