// The record editor in Chromium against a real server, on SQLite and PostgreSQL: a control per
// field type; the browser's own checks (JSON that does not parse) and the server's validation and
// unique-index errors shown on their fields with every typed value kept; the relation picker
// searching by keyboard; tus uploads with progress, pause, resume and retry, and the stored image
// previewed; a stale edit refused with a dialog showing both versions; delete; facets that narrow
// the list's filter. axe and both widths on each state; screenshots record-*.png.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser, Page, Route } from 'playwright-core';
import { ensureAdminBuilt } from '../build/ensure-built.ts';
import { describeEachDialect } from '../../server/src/testing/databases.ts';
import { pngImage, waitFor } from '../../server/src/testing/files.ts';
import { createTestApp, type TestApp } from '../../server/src/testing/test-app.ts';
import { CHROMIUM, chromiumAvailable, checkScreen, launch, openPage, signInAsAdmin } from './browser-helpers.ts';

const AUTHORS = { name: 'authors', fields: [{ name: 'name', type: 'text', required: true }], rules: { list: '', view: '' } };
const POSTS = {
  name: 'posts',
  fields: [
    { name: 'title', type: 'text', required: true, max: 100 },
    { name: 'body', type: 'text' },
    { name: 'price', type: 'number', min: 0 },
    { name: 'featured', type: 'boolean' },
    { name: 'status', type: 'select', values: ['draft', 'published'] },
    { name: 'tags', type: 'select', values: ['news', 'howto', 'review'], multiple: true },
    { name: 'author', type: 'relation', collection: 'authors' },
    { name: 'published_at', type: 'date' },
    { name: 'meta', type: 'json' },
    { name: 'cover', type: 'file', mimeTypes: ['image/png'], thumbs: ['100x100'] },
    { name: 'attachments', type: 'file', multiple: true },
  ],
  indexes: [{ fields: ['title'], unique: true }],
};

const editorPath = (id: string) => `/admin/collections/posts/records/${id}`;
const fieldError = (page: Page, text: string | RegExp) => page.locator('.record-field .field-error', { hasText: text });

if (!chromiumAvailable()) {
  test(`record editor browser tests: ${CHROMIUM} not found: skipped`, { skip: 'chromium missing' }, () => {});
} else {
  await ensureAdminBuilt();

  await describeEachDialect('the record editor in Chromium', (dialect) => {
    let t: TestApp;
    let browser: Browser;
    let page: Page;
    const authors: Record<string, string> = {};

    const getPost = async (id: string) => (await t.request('GET', `/api/v1/collections/posts/records/${id}`)).body;

    before(async () => {
      t = await createTestApp(dialect);
      assert.equal((await t.request('POST', '/api/v1/collections', { body: AUTHORS })).status, 201);
      assert.equal((await t.request('POST', '/api/v1/collections', { body: POSTS })).status, 201);
      for (const name of ['Ada Lovelace', 'Grace Hopper', 'Edsger Dijkstra']) {
        authors[name] = (await t.request('POST', '/api/v1/collections/authors/records', { body: { name } })).body.id;
      }
      browser = await launch();
      ({ page } = await openPage(browser));
      await signInAsAdmin(page, t.url, '/admin/collections/posts');
    });
    after(async () => {
      await browser?.close();
      await t?.close();
    });

    test('a new record: browser and server errors on their fields with the input kept, then created with every type', async () => {
      await page.getByRole('link', { name: 'New record' }).click();
      await page.getByRole('heading', { name: 'New posts record' }).waitFor();
      await checkScreen(page, 'record-new', dialect);

      await page.getByLabel('title').fill('First post');
      await page.getByLabel('body').fill('Some words.');
      await page.getByLabel('price').fill('-5');
      await page.getByLabel('featured').check();
      await page.getByLabel('status').selectOption('published');
      await page.getByRole('group', { name: 'tags' }).getByLabel('howto').check();
      await page.getByLabel('published_at').fill('2026-05-01T10:20:30');
      await page.getByLabel('meta').fill('{"views": ');
      await page.getByRole('button', { name: 'Create record' }).click();
      // The browser's own check: nothing was sent.
      await fieldError(page, 'is not valid JSON').waitFor();
      assert.equal((await t.request('GET', '/api/v1/collections/posts/records')).body.items.length, 0);

      await page.getByLabel('meta').fill('{"views": 3}');
      await page.getByRole('button', { name: 'Create record' }).click();
      // The server's: price is below its minimum; the message sits on the price field.
      await fieldError(page, /at least 0/).waitFor();
      assert.equal(await page.getByLabel('price').getAttribute('aria-invalid'), 'true');
      assert.equal(await page.getByLabel('title').inputValue(), 'First post', 'the typed title is kept');
      assert.equal(await page.getByLabel('meta').inputValue(), '{"views": 3}');
      await checkScreen(page, 'record-errors', dialect);

      // The relation picker, by keyboard: type, arrow down, Enter.
      const picker = page.getByRole('combobox', { name: 'Find a authors record for author' });
      await picker.fill('grace');
      await page.getByRole('option', { name: /Grace Hopper/ }).waitFor();
      await picker.press('ArrowDown');
      await picker.press('Enter');
      await page.getByRole('list', { name: 'Chosen author' }).getByRole('button', { name: 'Remove Grace Hopper' }).waitFor();

      await page.getByLabel('price').fill('12.5');
      await page.getByRole('button', { name: 'Create record' }).click();
      await page.getByText('Record created.').waitFor();
      const id = page.url().split('/').pop()!;
      const saved = await getPost(id);
      assert.equal(saved.title, 'First post');
      assert.equal(saved.price, 12.5);
      assert.equal(saved.featured, true);
      assert.equal(saved.status, 'published');
      assert.deepEqual(saved.tags, ['howto']);
      assert.equal(saved.author, authors['Grace Hopper']);
      assert.equal(saved.published_at, '2026-05-01T10:20:30.000Z', 'the date is read as UTC');
      assert.deepEqual(saved.meta, { views: 3 });
      // Reloaded, the editor shows what was saved (the author by name).
      await page.reload();
      await page.getByRole('list', { name: 'Chosen author' }).getByRole('button', { name: 'Remove Grace Hopper' }).waitFor();
      assert.equal(await page.getByLabel('published_at').inputValue(), '2026-05-01T10:20:30');
      await checkScreen(page, 'record-edit', dialect);
    });

    test('a unique index conflict names its field; an update sends only what changed', async () => {
      const other = (await t.request('POST', '/api/v1/collections/posts/records', { body: { title: 'Taken title', price: 1 } })).body;
      const mine = (await t.request('POST', '/api/v1/collections/posts/records', { body: { title: 'Mine', price: 2 } })).body;
      await page.goto(t.url + editorPath(mine.id));
      await page.getByLabel('title').fill(other.title);
      await page.getByRole('button', { name: 'Save changes' }).click();
      await page.getByRole('alert').first().waitFor();
      assert.equal(await page.getByLabel('title').getAttribute('aria-invalid'), 'true');
      assert.equal(await page.getByLabel('title').inputValue(), other.title, 'the typed title is kept');
      assert.equal((await getPost(mine.id)).title, 'Mine', 'nothing changed');

      await page.getByLabel('title').fill('Mine, renamed');
      await page.getByRole('button', { name: 'Save changes' }).click();
      await page.getByText('Saved.').waitFor();
      assert.equal((await getPost(mine.id)).title, 'Mine, renamed');
      await page.getByRole('button', { name: 'Save changes' }).click();
      await page.getByText('Nothing changed.').waitFor();
    });

    test('a stale edit opens the conflict dialog with both versions; either side can be kept', async () => {
      const post = (await t.request('POST', '/api/v1/collections/posts/records', { body: { title: 'Shared', price: 5 } })).body;
      await page.goto(t.url + editorPath(post.id));
      await page.getByLabel('title').waitFor();
      assert.equal((await t.request('PATCH', `/api/v1/collections/posts/records/${post.id}`, { body: { title: 'Theirs' } })).status, 200);

      await page.getByLabel('title').fill('Mine');
      await page.getByRole('button', { name: 'Save changes' }).click();
      const dialog = page.getByRole('dialog', { name: 'This record changed while you edited it' });
      await dialog.waitFor();
      assert.match(await dialog.getByRole('region', { name: 'Your edit' }).innerText(), /title: "Mine"/);
      assert.match(await dialog.getByRole('region', { name: 'Saved version' }).innerText(), /title: "Theirs"/);
      await checkScreen(page, 'record-conflict', dialect);
      await dialog.getByRole('button', { name: 'Discard my edit, load the saved version' }).click();
      await dialog.waitFor({ state: 'hidden' });
      assert.equal(await page.getByLabel('title').inputValue(), 'Theirs');

      // Again, and this time the edit wins.
      assert.equal((await t.request('PATCH', `/api/v1/collections/posts/records/${post.id}`, { body: { price: 7 } })).status, 200);
      await page.getByLabel('title').fill('Mine after all');
      await page.getByRole('button', { name: 'Save changes' }).click();
      await dialog.waitFor();
      await dialog.getByRole('button', { name: 'Save my edit over it' }).click();
      await page.getByText('Saved.').waitFor();
      const saved = await getPost(post.id);
      assert.equal(saved.title, 'Mine after all');
      assert.equal(saved.price, 7, 'only the edited field was written over theirs');
    });

    test('uploads: progress, pause and resume, a failed upload retried, the image previewed; files removed', async () => {
      const post = (await t.request('POST', '/api/v1/collections/posts/records', { body: { title: 'With files' } })).body;
      await page.goto(t.url + editorPath(post.id));
      await page.getByLabel('title').waitFor();

      // Each PATCH of an upload waits a moment, so there is time to pause it.
      let held = 0;
      const slow = async (route: Route) => {
        if (route.request().method() !== 'PATCH') return route.continue();
        held++;
        await new Promise((r) => setTimeout(r, 1500));
        await route.continue().catch(() => {}); // a paused upload has abandoned this request
      };
      await page.route('**/api/v1/uploads/**', slow);
      const blob = Buffer.alloc(300 * 1024, 7);
      await page.getByRole('group', { name: 'attachments' }).getByLabel(/Drop files here/).setInputFiles({ name: 'data.bin', mimeType: 'application/octet-stream', buffer: blob });
      const uploads = page.getByRole('list', { name: 'Uploads to attachments' });
      await waitFor(() => held === 1, 'the first PATCH on its way');
      await uploads.getByRole('button', { name: 'Pause data.bin' }).click();
      await uploads.getByText('Paused').waitFor();
      assert.equal(await page.getByRole('button', { name: 'Save changes' }).isDisabled(), true, 'no save while an upload is unfinished');
      await uploads.getByRole('button', { name: 'Resume data.bin' }).click();
      await uploads.getByText('Uploaded').waitFor();
      assert.equal(held, 2, 'the paused PATCH was abandoned; the resumed upload sent another');
      await page.unroute('**/api/v1/uploads/**', slow);

      // The next upload's first PATCH is refused: it fails, and Retry continues it.
      let refused = false;
      const refuseOnce = (route: Route) => {
        if (route.request().method() !== 'PATCH' || refused) return route.continue();
        refused = true;
        return route.fulfill({ status: 403, contentType: 'application/problem+json', body: JSON.stringify({ status: 403, code: 'forbidden', title: 'Forbidden', detail: 'refused by the test' }) });
      };
      await page.route('**/api/v1/uploads/**', refuseOnce);
      const png = await pngImage(240, 160);
      await page.getByRole('group', { name: 'cover' }).getByLabel(/Drop a file here/).setInputFiles({ name: 'cover.png', mimeType: 'image/png', buffer: png });
      const coverUploads = page.getByRole('list', { name: 'Uploads to cover' });
      await coverUploads.getByText(/Failed: refused by the test/).waitFor();
      await checkScreen(page, 'record-upload-failed', dialect);
      await coverUploads.getByRole('button', { name: 'Retry cover.png' }).click();
      await coverUploads.getByText('Uploaded').waitFor();
      await page.unroute('**/api/v1/uploads/**', refuseOnce);

      await page.getByRole('button', { name: 'Save changes' }).click();
      await page.getByText('Saved.').waitFor();
      const saved = await getPost(post.id);
      assert.equal(saved.attachments.length, 1);
      assert.equal(typeof saved.cover, 'string');
      const stored = await fetch(`${t.url}/api/v1/files/posts/${post.id}/${saved.attachments[0]}`, { headers: { authorization: `Bearer ${t.adminToken}` } });
      assert.equal(Buffer.from(await stored.arrayBuffer()).equals(blob), true, 'the stored file is the picked one, byte for byte');

      // The cover is previewed from its thumbnail URL, once the job has made it (the original before).
      const preview = page.getByRole('list', { name: 'Files of cover' }).locator('img.thumb');
      await preview.waitFor();
      assert.match((await preview.getAttribute('src'))!, /thumb=100x100/);
      // (An element handle, typed without the DOM library: the test's tsconfig is Node's.)
      const loadedImage = (img: unknown) => (img as { complete: boolean; naturalWidth: number }).complete && (img as { naturalWidth: number }).naturalWidth > 0;
      await waitFor(() => preview.evaluate(loadedImage), 'the preview loads');
      await checkScreen(page, 'record-files', dialect);

      await page.getByRole('list', { name: 'Files of attachments' }).getByRole('button', { name: `Remove ${saved.attachments[0]}` }).click();
      await page.getByRole('list', { name: 'Files of cover' }).getByRole('button', { name: `Remove ${saved.cover}` }).click();
      await page.getByRole('button', { name: 'Save changes' }).click();
      await page.getByText('Saved.').waitFor();
      const emptied = await getPost(post.id);
      assert.deepEqual(emptied.attachments, []);
      assert.equal(emptied.cover, null);
    });

    test('rows open the editor; delete asks first and returns to the list; facets narrow the filter', async () => {
      const post = (await t.request('POST', '/api/v1/collections/posts/records', { body: { title: 'Doomed', status: 'draft', price: 3 } })).body;
      await page.goto(`${t.url}/admin/collections/posts?filter=${encodeURIComponent('price > 0')}`);
      await page.getByRole('link', { name: post.id }).click();
      await page.getByRole('heading', { name: `posts · ${post.id}` }).waitFor();
      await page.getByRole('button', { name: 'Delete record' }).click();
      const dialog = page.getByRole('dialog', { name: 'Delete this record?' });
      await dialog.getByRole('button', { name: 'Cancel' }).click();
      assert.equal((await t.request('GET', `/api/v1/collections/posts/records/${post.id}`)).status, 200, 'cancel keeps it');
      await page.getByRole('button', { name: 'Delete record' }).click();
      await dialog.getByRole('button', { name: 'Delete', exact: true }).click();
      await page.getByRole('heading', { name: 'posts', exact: true }).waitFor();
      assert.equal((await t.request('GET', `/api/v1/collections/posts/records/${post.id}`)).status, 404);

      // The list kept its filter; a facet adds its term to it.
      await page.goto(`${t.url}/admin/collections/posts?filter=${encodeURIComponent('price > 0')}`);
      await page.getByRole('region', { name: 'Facet status' }).getByRole('button', { name: 'published' }).click();
      await page.waitForURL(/filter=/);
      assert.equal(new URL(page.url()).searchParams.get('filter'), "(price > 0) && status = 'published'");

      await page.goto(t.url + editorPath('no-such-record'));
      await page.getByRole('alert').filter({ hasText: 'There is no record no-such-record' }).waitFor();
    });
  });
}
