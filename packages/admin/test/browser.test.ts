// The dashboard in a real browser: Debian's Chromium driven by playwright-core against a real
// server (createTestApp) serving the built dashboard, on SQLite and PostgreSQL. Each screen is
// checked by axe-core (no serious or critical violation), must fit 1280 px and 390 px, and is saved
// to docs/screenshots/. Without /usr/bin/chromium the suite is skipped, loudly; under CI=true it fails.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { AxeBuilder } from '@axe-core/playwright';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { ensureAdminBuilt } from '../build/ensure-built.ts';
import { describeEachDialect, type TestDialect } from '../../server/src/testing/databases.ts';
import { ADMIN, createTestApp, type TestApp } from '../../server/src/testing/test-app.ts';

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOTS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../docs/screenshots');
const VIEWPORTS = { desktop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } } as const;

const missing = !fs.existsSync(CHROMIUM);
if (missing && process.env.CI === 'true') throw new Error(`${CHROMIUM} is missing, but CI=true requires the browser tests (.ci/run installs it)`);

/** launch() starts Chromium on a new, empty profile of its own (a temporary user-data-dir). */
function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** No serious or critical axe violation on what the page shows now. */
async function assertAccessible(page: Page, screen: string): Promise<void> {
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
 * depend on the database) axe checks it and a screenshot of each width goes to the docs.
 */
async function checkScreen(page: Page, screen: string, dialect: TestDialect): Promise<void> {
  if (dialect === 'sqlite') await assertAccessible(page, screen);
  for (const [name, size] of Object.entries(VIEWPORTS)) {
    await page.setViewportSize(size);
    const width = await page.evaluate<number>('document.documentElement.scrollWidth');
    assert.ok(width <= size.width, `${screen} fits ${size.width} px without sideways scrolling (is ${width} px)`);
    if (dialect === 'sqlite') await page.screenshot({ path: path.join(SCREENSHOTS, `${screen}-${name}.png`) });
  }
  await page.setViewportSize(VIEWPORTS.desktop);
}

if (missing) {
  test(`dashboard browser tests: ${CHROMIUM} not found (apt-get install chromium): skipped`, { skip: 'chromium missing' }, () => {});
} else {
  await ensureAdminBuilt();
  fs.mkdirSync(SCREENSHOTS, { recursive: true });

  await describeEachDialect('the dashboard in Chromium', (dialect) => {
    let t: TestApp;
    let browser: Browser;
    let context: BrowserContext;
    let page: Page;

    before(async () => {
      t = await createTestApp(dialect);
      browser = await launch();
      // AxeBuilder needs a page of an explicit context.
      context = await browser.newContext({ viewport: VIEWPORTS.desktop, reducedMotion: 'reduce' });
      page = await context.newPage();
    });
    after(async () => {
      await browser?.close();
      await t?.close();
    });

    test('sign-in: a wrong password is a clear error and keeps the email; the right one opens the collections', async () => {
      await page.goto(`${t.url}/admin`);
      const form = page.getByRole('form', { name: 'Sign in' });
      await form.waitFor();
      await checkScreen(page, 'login', dialect);

      // Keyboard only: type, Tab, type, Enter.
      await page.getByLabel('Email').fill(ADMIN.email);
      await page.keyboard.press('Tab');
      await page.keyboard.type('not the password');
      await page.keyboard.press('Enter');
      await page.getByRole('alert').filter({ hasText: 'Wrong email or password.' }).waitFor();
      assert.equal(await page.getByLabel('Email').inputValue(), ADMIN.email, 'the typed email is kept');
      await checkScreen(page, 'login-error', dialect);

      await page.getByLabel('Password').fill(ADMIN.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'Collections' }).waitFor();
      await page.getByRole('link', { name: 'users', exact: true }).waitFor();
      await checkScreen(page, 'collections', dialect);

      // The session is the httpOnly cookie: nothing a script can read.
      const cookies = await context.cookies();
      assert.ok(cookies.find((c) => c.name === 'galley_session')?.httpOnly);
      assert.equal(await page.evaluate<boolean>("document.cookie.includes('galley_session')"), false);
      assert.equal(await page.evaluate<string>('JSON.stringify(window.localStorage)'), '{}');
    });

    test('the URL is the state: a reload keeps the screen, sign-out returns to the sign-in form', async () => {
      await page.reload();
      await page.getByRole('heading', { name: 'Collections' }).waitFor();
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('form', { name: 'Sign in' }).waitFor();
      assert.equal(await page.getByLabel('Email').inputValue(), ADMIN.email, 'the email is remembered for the next sign-in');
      const me = await page.evaluate<number>("fetch('/api/v1/auth/me').then((r) => r.status)");
      assert.equal(me, 401, 'the session ended on the server');
    });

    test('the page runs under its CSP with no violation reported', async () => {
      const violations: string[] = [];
      page.on('console', (message) => {
        if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
      });
      await page.goto(`${t.url}/admin/collections`);
      await page.getByRole('form', { name: 'Sign in' }).waitFor();
      assert.deepEqual(violations, []);
    });
  });
}
