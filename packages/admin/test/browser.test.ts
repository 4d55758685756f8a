// The dashboard in a real browser: Debian's Chromium driven by playwright-core against a real
// server (createTestApp) serving the built dashboard, on SQLite and PostgreSQL. Each screen is
// checked by axe-core (no serious or critical violation), must fit 1280 px and 390 px, and is saved
// as a screenshot (see browser-helpers.ts). Without /usr/bin/chromium the suite is skipped,
// loudly; under CI=true it fails.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ensureAdminBuilt } from '../build/ensure-built.ts';
import { describeEachDialect } from '../../server/src/testing/databases.ts';
import { ADMIN, createTestApp, type TestApp } from '../../server/src/testing/test-app.ts';
import { checkScreen, chromiumAvailable, launch, openPage } from './browser-helpers.ts';

if (chromiumAvailable()) {
  await ensureAdminBuilt();

  await describeEachDialect('the dashboard in Chromium', (dialect) => {
    let t: TestApp;
    let browser: Browser;
    let context: BrowserContext;
    let page: Page;

    before(async () => {
      t = await createTestApp(dialect);
      browser = await launch();
      ({ context, page } = await openPage(browser));
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
