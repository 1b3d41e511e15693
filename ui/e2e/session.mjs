// What every browser test shares: the Hub's address and keys from the environment, Debian's
// Chromium, pages that collect page and console errors, the API and the sign-in form.
import assert from 'node:assert/strict';

import { chromium } from 'playwright-core';

import launchOptions from './chromium.cjs';

export const HUB = process.env.HUB_URL;
export const ADMIN = process.env.ADMIN_KEY;
export const MOCK = process.env.MOCK_BASE;
assert.ok(HUB && ADMIN && MOCK, 'HUB_URL, ADMIN_KEY and MOCK_BASE are needed');

export const browser = await chromium.launch(launchOptions());

/** Errors the pages reported; a test ends by asserting there are none. */
export const problems = [];

export async function newPage(viewport = { width: 1280, height: 800 }) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    // A 400/401/402/404 answer is logged by the browser itself; the console shows those on purpose.
    if (m.type() === 'error' && !/Failed to load resource: the server responded with a status of 40[0-4]/.test(m.text())) {
      problems.push(`console error: ${m.text()}`);
    }
  });
  return page;
}

export async function api(method, path, key, body) {
  const res = await fetch(`${HUB}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: await res.json().catch(() => null) };
}

export async function signIn(page, key) {
  await page.goto(`${HUB}/`);
  await page.getByTestId('access-key').fill(key);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByTestId('whoami').waitFor();
}

export const step = (name) => console.log(`- ${name}`);
