// Members and visitors in a real browser: a member who sees no admin pages and is sent back to
// sign-in when their key is revoked, and the public pricing page. Run by
// tests/blackbox/console.rs with HUB_URL, ADMIN_KEY and MOCK_BASE.
import assert from 'node:assert/strict';

import { ADMIN, HUB, MOCK, api, browser, newPage, problems, signIn, step } from './session.mjs';

try {
  const provider = await api('POST', '/api/ai-providers', ADMIN, { name: 'openai', baseUrl: MOCK });
  assert.equal(provider.status, 201, JSON.stringify(provider.body));
  const key = await api('POST', `/api/ai-providers/${provider.body.id}/credentials`, ADMIN, { name: 'mock key', value: 'mock-ok' });
  assert.equal(key.status, 201, JSON.stringify(key.body));
  const created = await api('POST', '/api/access-keys', ADMIN, { name: 'member one', role: 'member' });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const memberKey = created.body.key;

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
  console.log('visitors e2e: ok');
} catch (e) {
  console.error(e);
  if (problems.length) console.error(problems.join('\n'));
  process.exitCode = 1;
} finally {
  await browser.close();
}
