// Keys in a real browser: an access key made (shown once) and another revoked, a member's
// profile, dark mode and a
// phone-width screen (visitors.mjs has members and the public page). Run by
// tests/blackbox/console.rs with HUB_URL, ADMIN_KEY and MOCK_BASE.
import assert from 'node:assert/strict';

import { ADMIN, api, browser, newPage, problems, signIn, step } from './session.mjs';

try {
  const page = await newPage();
  await signIn(page, ADMIN);

  step('creates a member key (shown once) and revokes another');
  await page.getByRole('button', { name: 'Access keys' }).click();
  await page.getByTestId('key-name').fill('member one');
  await page.getByRole('button', { name: 'Create key' }).click();
  const memberKey = (await page.getByTestId('new-key').innerText()).trim();
  assert.ok(memberKey.length > 20, memberKey);
  const shown = await api('GET', '/api/user/info', memberKey);
  assert.equal(shown.status, 200, 'the key the page showed works');
  await page.getByTestId('key-name').fill('short lived');
  await page.getByRole('button', { name: 'Create key' }).click();
  await page.getByTestId('key-short lived').waitFor();
  page.once('dialog', (d) => d.accept());
  await page.getByTestId('key-short lived').getByRole('button', { name: 'Revoke' }).click();
  await page.getByTestId('key-short lived').getByText('revoked').waitFor();

  step('the member sets their profile, which the header and /api/user/info then show');
  const member = await newPage();
  await signIn(member, memberKey);
  await member.getByRole('button', { name: 'Profile' }).click();
  await member.getByTestId('profile-email').fill('not an address');
  await member.getByRole('button', { name: 'Save' }).click();
  await member.getByRole('alert').filter({ hasText: /email/ }).waitFor();
  await member.getByTestId('profile-name').fill('Ada Lovelace');
  await member.getByTestId('profile-email').fill('ada@example.com');
  await member.getByRole('button', { name: 'Save' }).click();
  await member.getByText('Saved.').waitFor();
  assert.match(await member.getByTestId('whoami').innerText(), /Ada Lovelace/);
  const profiled = await api('GET', '/api/user/info', memberKey);
  assert.equal(profiled.body.user.email, 'ada@example.com');
  await member.context().close();

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

  assert.deepEqual(problems, [], problems.join('\n'));
  console.log('members e2e: ok');
} catch (e) {
  console.error(e);
  if (problems.length) console.error(problems.join('\n'));
  process.exitCode = 1;
} finally {
  await browser.close();
}
