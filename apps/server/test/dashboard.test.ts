import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toyTokenizer } from './toy-model.js';
import { toyServer } from './toy-server.js';

/** Debian's chromium (CI installs it); the test says so when it is missing instead of passing silently. */
const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));

const server = toyServer();
const { model } = server;
let base = '';
let browser: Browser | undefined;

beforeAll(async () => {
  await server.listen();
  base = server.base;
  if (CHROMIUM) {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--headless=new'],
    });
  }
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await server.close();
});

describe.skipIf(!CHROMIUM)('dashboard in a real headless browser (Debian chromium)', () => {
  it('streams a completion from the playground and shows live engine state', async () => {
    const page = await browser!.newPage();
    await page.goto(`${base}/`);
    await expect(page.getByTestId('model').textContent()).resolves.toBe('toy');
    const prompt = 'dashboard test';
    await page.getByTestId('prompt').fill(prompt);
    await page.getByTestId('max-tokens').fill('12');
    await page.getByTestId('temperature').fill('0');
    await page.getByTestId('generate').click();
    await page
      .getByTestId('finish')
      .filter({ hasText: 'finish_reason' })
      .waitFor({ timeout: 20_000 });
    const output = await page.getByTestId('output').textContent();
    const greedy = toyTokenizer.decode(model.referenceGreedy(toyTokenizer.encode(prompt), 12, 0));
    expect(output).toBe(greedy);
    // The state panel polls /dashboard/state: the generated-token counter must reflect this request.
    await page.waitForFunction(
      'Number(document.querySelector(\'[data-testid="generated"]\')?.textContent) > 0',
      undefined,
      { timeout: 10_000 },
    );
    expect(await page.getByTestId('kv').textContent()).toMatch(/^\d+ \/ 64$/);
    await page.close();
  }, 60_000);

  it('shows the API’s error message for a bad request', async () => {
    const page = await browser!.newPage();
    await page.goto(`${base}/`);
    await page.getByTestId('max-tokens').fill('100000');
    await page.getByTestId('generate').click();
    await page.getByTestId('finish').filter({ hasText: 'max_tokens' }).waitFor({ timeout: 10_000 });
    expect(await page.getByTestId('finish').getAttribute('class')).toBe('error');
    await page.close();
  }, 30_000);
});

it('serves the dashboard page and its state as JSON', async () => {
  const res = await fetch(`${base}/`);
  expect(res.headers.get('content-type')).toContain('text/html');
  expect(await res.text()).toContain('Playground');
  const state = (await (await fetch(`${base}/dashboard/state`)).json()) as Record<string, unknown>;
  expect(Object.keys(state).sort()).toEqual(
    [
      'draftAcceptance',
      'expertLoad',
      'generatedTokens',
      'model',
      'numBlocks',
      'prefixHitRate',
      'running',
      'tokensPerSecond',
      'usedBlocks',
      'waiting',
    ].sort(),
  );
});
