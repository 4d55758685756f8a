// The records table in Chromium against a real server, on SQLite and PostgreSQL: sort by header,
// a filter the server rejects (shown with its position), search, cursor paging whose state survives
// a reload, a record created by another client appearing once, bulk delete through the batch
// endpoint, and a background search index build's progress. axe and both widths on each state;
// screenshots records-*.png.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { ensureAdminBuilt } from '../build/ensure-built.ts';
import { describeEachDialect } from '../../server/src/testing/databases.ts';
import { waitFor } from '../../server/src/testing/files.ts';
import { createTestApp, type TestApp } from '../../server/src/testing/test-app.ts';
import { CHROMIUM, chromiumAvailable, checkScreen, launch, openPage, signInAsAdmin } from './browser-helpers.ts';

const POSTS = {
  name: 'posts',
  fields: [
    { name: 'title', type: 'text', required: true },
    { name: 'price', type: 'number' },
    { name: 'status', type: 'select', values: ['draft', 'published'] },
  ],
  search: ['title'],
  rules: { list: '', view: '', create: '', update: '', delete: '' },
};

/** Records a search index build indexes per step: small, so a rebuild of the suite's posts takes several. */
const BUILD_CHUNK = 5;

/** Polls from Node: the page's CSP forbids the string evaluation waitForFunction would need. */
const until = (check: () => Promise<boolean>, what: string) => waitFor(check, what, 15_000);
const rowCount = (page: Page, n: number) => until(async () => (await page.locator('tbody tr[data-id]').count()) === n, `${n} rows`);
const firstTitle = (page: Page, title: string) => until(async () => (await rowTitles(page))[0] === title, `first row ${title}`);

const rowTitles = (page: Page) => page.locator('tbody tr[data-id] td:nth-child(3)').allInnerTexts();

if (!chromiumAvailable()) {
  test(`records browser tests: ${CHROMIUM} not found: skipped`, { skip: 'chromium missing' }, () => {});
} else {
  await ensureAdminBuilt();

  await describeEachDialect('the records table in Chromium', (dialect) => {
    let t: TestApp;
    let browser: Browser;
    let page: Page;

    before(async () => {
      t = await createTestApp(dialect, { GALLEY_SEARCH_BUILD_CHUNK: String(BUILD_CHUNK) });
      assert.equal((await t.request('POST', '/api/v1/collections', { body: POSTS })).status, 201);
      const operations = Array.from({ length: 25 }, (_, i) => ({ action: 'create', collection: 'posts', body: { title: `post ${String(i).padStart(2, '0')}`, price: i, status: i % 3 === 0 ? 'published' : 'draft' } }));
      assert.equal((await t.request('POST', '/api/v1/batch', { body: { operations } })).status, 200);
      browser = await launch();
      ({ page } = await openPage(browser));
      await signInAsAdmin(page, t.url, '/admin/collections/posts');
    });
    after(async () => {
      await browser?.close();
      await t?.close();
    });

    test('sort by header, a bad filter shown with its position, search, and paging that survives a reload', async () => {
      await page.getByRole('heading', { name: 'posts' }).waitFor();
      await page.locator('tbody tr[data-id]').first().waitFor();
      assert.equal((await rowTitles(page)).length, 20, 'a page of 20');
      await checkScreen(page, 'records', dialect);

      await page.getByRole('button', { name: 'title', exact: true }).click();
      await page.waitForURL(/sort=title/);
      await firstTitle(page, 'post 00');
      await page.getByRole('button', { name: /^title/ }).click();
      await page.waitForURL(/sort=-title/);
      await firstTitle(page, 'post 24');

      // Keyboard only: focus the filter box, type, Enter.
      await page.getByLabel('Filter', { exact: true }).focus();
      await page.keyboard.type('price >>= 3');
      await page.keyboard.press('Enter');
      const alert = page.getByRole('alert').filter({ hasText: 'position' });
      await alert.waitFor();
      await checkScreen(page, 'records-filter-error', dialect);

      await page.getByLabel('Filter', { exact: true }).fill("status = 'published'");
      await page.getByRole('button', { name: 'Apply' }).click();
      await rowCount(page, 9);
      await page.getByLabel('Filter', { exact: true }).fill('');
      await page.getByRole('button', { name: 'Apply' }).click();
      await rowCount(page, 20);

      await page.getByRole('button', { name: 'Next' }).click();
      await page.waitForURL(/cursor=/);
      await rowCount(page, 5);
      const second = await rowTitles(page);
      await page.reload();
      await rowCount(page, 5);
      assert.deepEqual(await rowTitles(page), second, 'the reload shows the same page');
      await page.getByRole('button', { name: 'Previous' }).click();
      await rowCount(page, 20);

      await page.getByLabel('Search').fill('post 07');
      await page.getByRole('button', { name: 'Apply' }).click();
      await page.waitForURL(/search=/);
      await until(async () => (await rowTitles(page)).includes('post 07'), 'the search result');
      await page.getByText('API preview').click();
      const curl = await page.locator('pre[aria-labelledby="api-curl"]').innerText();
      assert.match(curl, /^curl -H "Authorization: Bearer \$GALLEY_TOKEN" '.*\/api\/v1\/collections\/posts\/records\?search=post\+07/);
      assert.match(await page.locator('pre[aria-labelledby="api-sdk"]').innerText(), /galley\.collection\("posts"\)\.list\(\{ search: "post 07"/);
    });

    test('a record created by another client appears once, live; bulk delete removes the selection through batch', async () => {
      await page.goto(`${t.url}/admin/collections/posts`);
      await page.locator('tbody tr[data-id]').first().waitFor();
      await page.waitForTimeout(300); // the subscription is confirmed
      const created = await t.request('POST', '/api/v1/collections/posts/records', { body: { title: 'live one' } });
      assert.equal(created.status, 201);
      await page.locator(`tbody tr[data-id="${created.body.id}"]`).waitFor();
      await page.waitForTimeout(300);
      assert.equal(await page.locator(`tbody tr[data-id="${created.body.id}"]`).count(), 1, 'exactly once');
      assert.equal(await page.locator('tbody tr[data-id]').count(), 20, 'the page keeps its size');

      const ids = await page.locator('tbody tr[data-id]').evaluateAll((rows) => rows.slice(0, 2).map((r) => r.getAttribute('data-id')!));
      for (const id of ids) await page.getByLabel(`Select record ${id}`).check();
      await page.getByRole('button', { name: 'Delete selected' }).click();
      await page.getByRole('dialog').waitFor();
      await checkScreen(page, 'records-bulk-delete', dialect);
      await page.getByRole('dialog').getByRole('button', { name: 'Delete', exact: true }).click();
      await page.getByRole('dialog').waitFor({ state: 'hidden' });
      for (const id of ids) {
        await page.locator(`tbody tr[data-id="${id}"]`).waitFor({ state: 'detached' });
        assert.equal((await t.request('GET', `/api/v1/collections/posts/records/${id}`)).status, 404);
      }
    });

    test('a search index rebuilt in the background shows its progress, on the list and the records, until it is done', async () => {
      // With the job queue stopped the build stays at the chunk the change itself indexed.
      await t.app.services.jobs.stop();
      const changed = await t.request('PATCH', '/api/v1/collections/posts', { body: { search: ['title', 'status'] } });
      assert.equal(changed.status, 200);
      assert.equal(changed.body.searchIndex.state, 'building');
      await page.goto(`${t.url}/admin/collections`);
      const progress = page.getByRole('status').filter({ hasText: `Search index being built: ${BUILD_CHUNK} of ${changed.body.searchIndex.total} records` });
      await progress.waitFor();
      await page.getByRole('link', { name: 'posts', exact: true }).click();
      await progress.waitFor();
      await t.app.services.jobs.start();
      await progress.waitFor({ state: 'detached' });
      assert.deepEqual((await t.request('GET', '/api/v1/collections/posts')).body.searchIndex, { state: 'ready' });
    });
  });
}
