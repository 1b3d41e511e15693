// Captures the Store screenshots from the real console (scripts/screenshots.sh starts the Hub with
// demo data first). Env: HUB_URL, ADMIN_KEY, OUT (folder).
import { join } from 'node:path';

import { chromium } from 'playwright-core';

const { HUB_URL: HUB, ADMIN_KEY: KEY, OUT } = process.env;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'light' });
  const page = await context.newPage();
  page.setDefaultTimeout(20000);
  await page.goto(`${HUB}/`);
  await page.getByTestId('access-key').fill(KEY);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByTestId('whoami').waitFor();
  const shoot = async (name) => {
    await page.waitForLoadState('networkidle');
    await page.waitForTimeout(600);
    await page.screenshot({ path: join(OUT, `${name}.png`) });
    console.log(`screenshots/${name}.png`);
  };
  await page.getByText('Top models (7 days)').waitFor();
  await shoot('overview');
  await page.getByRole('button', { name: 'Providers' }).click();
  await page.getByTestId('masked-value').first().waitFor();
  await shoot('providers');
  await page.getByRole('button', { name: 'Usage' }).click();
  await page.getByTestId('usage-charts').locator('svg.recharts-surface').first().waitFor();
  await shoot('usage');
  await page.getByRole('button', { name: 'Playground' }).click();
  const picker = page.getByTestId('model-picker');
  await picker.click();
  await picker.fill('openai/gpt-4o-mini');
  await page.getByRole('option', { name: 'openai/gpt-4o-mini', exact: true }).click();
  await page.getByTestId('prompt').fill('What does AIGNE Hub do for my app?');
  await page.getByTestId('prompt').press('Enter');
  await page.getByTestId('answer-meta').filter({ hasText: /[\d.]+ credits/ }).waitFor();
  await shoot('playground');
  await page.getByRole('button', { name: 'Credits' }).click();
  await page.getByRole('heading', { name: 'Transactions' }).waitFor();
  await shoot('credits');
} finally {
  await browser.close();
}
