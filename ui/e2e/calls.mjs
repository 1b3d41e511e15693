// The call log, the usage charts and projects in a real browser: calls made through the API (two
// chats, one for a named app, and an image) are in the log with their details, in the charts and
// in the projects. Run by
// tests/blackbox/console.rs with HUB_URL, ADMIN_KEY and MOCK_BASE.
import assert from 'node:assert/strict';

import { ADMIN, MOCK, api, browser, newPage, problems, signIn, step } from './session.mjs';

try {
  const provider = await api('POST', '/api/ai-providers', ADMIN, { name: 'openai', baseUrl: MOCK });
  assert.equal(provider.status, 201, JSON.stringify(provider.body));
  const key = await api('POST', `/api/ai-providers/${provider.body.id}/credentials`, ADMIN, { name: 'mock key', value: 'mock-ok' });
  assert.equal(key.status, 201, JSON.stringify(key.body));
  const chat = await api('POST', '/api/v2/chat/completions', ADMIN, { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'Say hello' }] });
  assert.equal(chat.status, 200, JSON.stringify(chat.body));
  const image = await api('POST', '/api/v2/images/generations', ADMIN, { model: 'openai/gpt-image-1', prompt: 'A lighthouse at dusk' });
  assert.equal(image.status, 200, JSON.stringify(image.body));
  // A third call, made for a named app.
  const named = await fetch(`${process.env.HUB_URL}/api/v2/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json', 'x-aigne-hub-client-did': 'zProjectApp' },
    body: JSON.stringify({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'Say hello' }] }),
  });
  assert.equal(named.status, 200);
  const page = await newPage();
  await signIn(page, ADMIN);

  step('the call is in the log, with its details');
  await page.getByRole('button', { name: 'Call log' }).click();
  const row = page.getByTestId('call-log').getByRole('row').filter({ hasText: 'openai/gpt-4o-mini' }).first();
  await row.waitFor();
  assert.match(await row.innerText(), /success/);
  await row.click();
  const details = page.getByRole('dialog', { name: 'Call details' });
  await details.getByText('Request id').waitFor();
  assert.match(await details.innerText(), /Client API\s+openai/, 'the dialect it came in on');
  await page.keyboard.press('Escape');

  step('and in the usage charts');
  await page.getByRole('button', { name: 'Usage' }).click();
  await page.getByTestId('usage-charts').locator('svg.recharts-surface').first().waitFor();
  assert.equal(await page.getByTestId('stat-Calls').innerText(), '3', 'the chats and the image');

  step('per project: the named app in the list and the chart, and its calls');
  await page.getByRole('button', { name: 'Projects' }).click();
  const project = page.getByTestId('project-zProjectApp');
  await project.waitFor();
  assert.match(await project.innerText(), /zProjectApp\s+1\s/);
  await page.locator('svg.recharts-surface').first().waitFor();
  await project.click();
  await page.getByTestId('project-calls').getByText(/openai\/gpt-4o-mini · success/).waitFor();
  assert.equal(await page.getByTestId('project-calls').getByText(/openai\/gpt-4o-mini/).count(), 1);

  assert.deepEqual(problems, [], problems.join('\n'));
  console.log('calls e2e: ok');
} catch (e) {
  console.error(e);
  if (problems.length) console.error(problems.join('\n'));
  process.exitCode = 1;
} finally {
  await browser.close();
}
