// What every dashboard browser suite shares: Debian's Chromium via playwright-core (never a
// downloaded browser), axe-core, the two widths each screen must fit, screenshots, and signing in.
// Screenshots go to docs/screenshots/ only with GALLEY_UPDATE_SCREENSHOTS=1, so `npm test` leaves
// the tree clean; otherwise into a temporary folder, still taken (a screen that cannot be
// captured fails either way).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { AxeBuilder } from '@axe-core/playwright';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { TestDialect } from '../../server/src/testing/databases.ts';
import { ADMIN } from '../../server/src/testing/test-app.ts';

export const CHROMIUM = '/usr/bin/chromium';
export const VIEWPORTS = { desktop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } } as const;

const DOCS_SCREENSHOTS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../docs/screenshots');
export const SCREENSHOTS = process.env.GALLEY_UPDATE_SCREENSHOTS === '1' ? DOCS_SCREENSHOTS : fs.mkdtempSync(path.join(os.tmpdir(), 'galley-screenshots-'));
fs.mkdirSync(SCREENSHOTS, { recursive: true });

/**
 * True when the browser suites can run. Without /usr/bin/chromium a visible skipped test says so;
 * under CI=true a missing browser is a failure (`.ci/run` installs it).
 */
export function chromiumAvailable(): boolean {
  if (fs.existsSync(CHROMIUM)) return true;
  if (process.env.CI === 'true') throw new Error(`${CHROMIUM} is missing, but CI=true requires the browser tests (.ci/run installs it)`);
  test(`dashboard browser tests: ${CHROMIUM} not found (apt-get install chromium): skipped`, { skip: 'chromium missing' }, () => {});
  return false;
}

/** launch() starts Chromium on a new, empty profile of its own (a temporary user-data-dir). */
export function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** A desktop-sized context (AxeBuilder needs a page of an explicit context) and its page. */
export async function openPage(browser: Browser): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: VIEWPORTS.desktop, reducedMotion: 'reduce' });
  return { context, page: await context.newPage() };
}

/** No serious or critical axe violation on what the page shows now. */
export async function assertAccessible(page: Page, screen: string): Promise<void> {
  const results = await new AxeBuilder({ page }).analyze();
  const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(
    bad.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`),
    [],
    `axe on ${screen}`,
  );
}

/**
 * Both widths: the screen fits without sideways scrolling. On the SQLite run (the screens do not
 * depend on the database) axe checks it and a screenshot of each width is saved.
 */
export async function checkScreen(page: Page, screen: string, dialect: TestDialect): Promise<void> {
  if (dialect === 'sqlite') await assertAccessible(page, screen);
  for (const [name, size] of Object.entries(VIEWPORTS)) {
    await page.setViewportSize(size);
    const width = await page.evaluate<number>('document.documentElement.scrollWidth');
    assert.ok(width <= size.width, `${screen} fits ${size.width} px without sideways scrolling (is ${width} px)`);
    if (dialect === 'sqlite') await page.screenshot({ path: path.join(SCREENSHOTS, `${screen}-${name}.png`) });
  }
  await page.setViewportSize(VIEWPORTS.desktop);
}

/** Opens the dashboard at `path` and signs in as the test superuser through the form. */
export async function signInAsAdmin(page: Page, baseUrl: string, at = '/admin'): Promise<void> {
  await page.goto(baseUrl + at);
  await page.getByRole('form', { name: 'Sign in' }).waitFor();
  await page.getByLabel('Email').fill(ADMIN.email);
  await page.getByLabel('Password').fill(ADMIN.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}
