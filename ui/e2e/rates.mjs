// Model rates in a real browser: a rate a float would change is shown per 1M tokens exactly,
// and saving it unchanged stores the same digits; the type list is the server's (audio
// included); the rate check, a bulk sync, a rate's history, an uploaded pricing file and the
// notifications page. Run by tests/blackbox/console.rs with HUB_URL, ADMIN_KEY and MOCK_BASE.
import assert from 'node:assert/strict';

import { ADMIN, HUB, MOCK, api, browser, newPage, problems, signIn, step } from './session.mjs';

try {
  const page = await newPage();
  const provider = await api('POST', '/api/ai-providers', ADMIN, { name: 'openai', baseUrl: MOCK });
  assert.equal(provider.status, 201, JSON.stringify(provider.body));
  await signIn(page, ADMIN);

  step('a rate a float would change is shown per 1M tokens exactly and saved unchanged');
  const openaiId = provider.body.id;
  const exact = '0.0000001234567890123456789';
  const made = await api('POST', `/api/ai-providers/${openaiId}/model-rates`, ADMIN, {
    model: 'exact-model',
    type: 'chatCompletion',
    inputRate: exact,
    outputRate: '0.0000003',
  });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  await page.getByRole('button', { name: 'Model rates' }).click();
  const rateRow = page.getByRole('row').filter({ hasText: 'exact-model' });
  await rateRow.getByText('0.1234567890123456789').waitFor();
  await rateRow.getByRole('button', { name: 'Edit' }).click();
  assert.equal(await page.getByLabel(/^Input credits/).inputValue(), '0.1234567890123456789');
  assert.equal(await page.getByLabel(/^Output credits/).inputValue(), '0.3');
  await page.getByLabel('Type').click();
  await page.getByRole('option', { name: 'audio' }).waitFor();
  await page.keyboard.press('Escape');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('dialog').waitFor({ state: 'detached' });
  const rates = await api('GET', `/api/ai-providers/${openaiId}/model-rates`, ADMIN);
  const saved = rates.body.list.find((r) => r.id === made.body.id);
  assert.equal(saved?.inputRate, exact, JSON.stringify(rates.body));
  assert.equal(saved?.outputRate, '0.0000003', JSON.stringify(saved));

  step('a model alias is added on the same page; a target without a provider is refused in the dialog');
  await page.getByRole('button', { name: 'Add alias' }).click();
  await page.getByLabel('Requested name').fill('claude-*');
  await page.getByLabel('Served by').fill('gpt-5-mini');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('dialog').getByText(/target: .*provider\/model/).waitFor();
  await page.getByLabel('Served by').fill('openai/gpt-5-mini');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('dialog').waitFor({ state: 'detached' });
  const aliasRow = page.getByTestId('model-aliases').getByRole('row').filter({ hasText: 'claude-*' });
  await aliasRow.getByText('openai/gpt-5-mini').waitFor();
  await aliasRow.getByText('glob').waitFor();
  const aliases = await api('GET', '/api/model-aliases', ADMIN);
  assert.deepEqual(
    aliases.body.list.map((a) => [a.pattern, a.kind, a.target]),
    [['claude-*', 'glob', 'openai/gpt-5-mini']],
  );

  step('the rate check flags a rate sold below its list price; a bulk sync fixes it; its history shows both');
  const cheap = await api('POST', `/api/ai-providers/${openaiId}/model-rates`, ADMIN, {
    model: 'gpt-4o',
    type: 'chatCompletion',
    inputRate: '0.000001',
    outputRate: '0.000001',
  });
  assert.equal(cheap.status, 201, JSON.stringify(cheap.body));
  const check = page.getByTestId('rate-check');
  await check.getByRole('button', { name: 'Check now' }).click();
  await check.getByText('1 below cost').waitFor();
  await check.getByRole('row').filter({ hasText: 'openai/gpt-4o' }).getByText('-60%').waitFor();
  await page.getByRole('button', { name: 'Bulk update' }).click();
  await page.getByLabel('Profit margin %').fill('10');
  await page.getByLabel('USD per credit').fill('1');
  await page.getByRole('button', { name: 'Preview' }).click();
  await page.getByTestId('bulk-preview').getByText(/1 rates change/).waitFor();
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.getByRole('dialog').waitFor({ state: 'detached' });
  await check.getByText('0 below cost').waitFor();
  await page.getByRole('row').filter({ hasText: 'gpt-4o' }).getByRole('button', { name: 'History' }).click();
  const history = page.getByTestId('rate-history');
  await history.getByRole('cell', { name: 'sync', exact: true }).waitFor();
  await history.getByRole('cell', { name: 'created', exact: true }).waitFor();
  await page.getByRole('button', { name: 'Close' }).click();

  step('an uploaded LiteLLM pricing file replaces the list price: the rate is below cost again');
  const file = JSON.stringify({
    'gpt-4o': { litellm_provider: 'openai', mode: 'chat', input_cost_per_token: 5e-6, output_cost_per_token: 2e-5 },
  });
  await page.getByTestId('pricing-file').setInputFiles({ name: 'model_prices_and_context_window.json', mimeType: 'application/json', buffer: Buffer.from(file) });
  await check.getByText(/pricing file \(1 models\)/).waitFor();
  await check.getByText('1 below cost').waitFor();

  step('the notifications page lists a grant the admin made');
  const me = await api('GET', '/api/user/info', ADMIN);
  const grant = await api('POST', '/api/credits/grants', ADMIN, { userDid: me.body.user.did, amount: '3' });
  assert.equal(grant.status, 201, JSON.stringify(grant.body));
  await page.getByRole('button', { name: 'Notifications' }).click();
  await page.getByTestId('notice-credits_granted').getByText('3 credits were granted').waitFor();

  assert.deepEqual(problems, [], problems.join('\n'));
  console.log('rates e2e: ok');
} catch (e) {
  console.error(e);
  if (problems.length) console.error(problems.join('\n'));
  process.exitCode = 1;
} finally {
  await browser.close();
}
