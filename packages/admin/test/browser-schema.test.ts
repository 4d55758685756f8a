// The dashboard's schema, people and operations screens in Chromium against a real server, on
// SQLite and PostgreSQL: the first run, the collection editor (as-you-type rule check with the error
// position, server errors on the right field, save, delete), the rule tester with its trace, people,
// the audit log, operations, and the connection-lost banner across a server stop and restart.
// Each screen: axe, 1280 and 390 px, a screenshot (browser-helpers.ts).

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { ensureAdminBuilt } from '../build/ensure-built.ts';
import { describeEachDialect } from '../../server/src/testing/databases.ts';
import { ADMIN, createTestApp, type TestApp } from '../../server/src/testing/test-app.ts';
import { checkScreen, chromiumAvailable, launch, openPage, signInAsAdmin } from './browser-helpers.ts';

if (chromiumAvailable()) {
  await ensureAdminBuilt();

  await describeEachDialect('first run in Chromium', (dialect) => {
    let t: TestApp;
    let browser: Browser;
    let page: Page;
    before(async () => {
      t = await createTestApp(dialect, {}, { superuser: false });
      browser = await launch();
      ({ page } = await openPage(browser));
    });
    after(async () => {
      await browser?.close();
      await t?.close();
    });

    test('no superuser: the setup screen; a weak password is shown on its field; keyboard-only creation signs in', async () => {
      await page.goto(`${t.url}/admin`);
      await page.getByRole('form', { name: 'Create the first superuser' }).waitFor();
      await checkScreen(page, 'setup', dialect);
      // Keyboard only: the email box has focus; type, Tab, type, Enter.
      await page.keyboard.type('owner@example.com');
      await page.keyboard.press('Tab');
      await page.keyboard.type('password');
      await page.keyboard.press('Enter');
      await page.locator('.field-error').first().waitFor();
      assert.equal(await page.getByLabel('Email').inputValue(), 'owner@example.com', 'the email is kept');
      await page.getByLabel('Password').fill(ADMIN.password);
      await page.getByLabel('Password').press('Enter');
      await page.getByRole('heading', { name: 'Collections' }).waitFor();
      const me = await t.request('GET', '/api/v1/setup', { token: null });
      assert.equal(me.status, 404, 'the first run is over');
    });
  });

  await describeEachDialect('schema, people and operations in Chromium', (dialect) => {
    let t: TestApp;
    let browser: Browser;
    let page: Page;
    before(async () => {
      t = await createTestApp(dialect);
      await t.app.services.auth.createUser({ email: 'zed@example.com', password: 'a long enough password' });
      browser = await launch();
      ({ page } = await openPage(browser));
      await signInAsAdmin(page, t.url);
    });
    after(async () => {
      await browser?.close();
      await t?.close();
    });

    test('collection editor: rule checked as typed (position shown), server error on its field, create by keyboard', async () => {
      await page.getByRole('link', { name: 'New collection' }).click();
      const form = page.getByRole('form', { name: 'New collection' });
      await form.waitFor();
      await form.getByRole('textbox', { name: /^Name a–z/ }).fill('posts');
      const first = form.getByRole('group', { name: 'field 1' });
      await first.getByRole('textbox', { name: 'Name' }).fill('title');
      const titled = form.getByRole('group', { name: 'title' });
      await form.getByRole('button', { name: 'Add field' }).click();
      const second = form.getByRole('group', { name: 'field 2' });
      await second.getByLabel('Type').selectOption('select');
      await second.getByRole('textbox', { name: /^Values/ }).fill('draft, published');
      // The legend follows the name: the group is 'status' from here on.
      await second.getByRole('textbox', { name: 'Name' }).fill('status');
      await form.getByLabel('Who may list').selectOption('expression');
      await form.getByLabel('list expression').fill("status = 'draft' && titl = 'x'");
      await page.getByLabel('Error at character 21').waitFor();
      assert.match(await form.locator('.expression-status').first().innerText(), /unknown field "titl"/);
      await checkScreen(page, 'collection-editor-rule-error', dialect);
      await form.getByLabel('list expression').fill("status = 'published' || @request.auth.id != ''");
      // The rule check needs valid fields; now break a field name for the server to refuse.
      await titled.getByRole('textbox', { name: 'Name' }).fill('Bad Name');

      // The server refuses the field name: the message is on that field, the input kept.
      await form.getByRole('button', { name: 'Create collection' }).click();
      await form.getByRole('alert').filter({ hasText: 'Not saved' }).waitFor();
      const nameError = await form.getByRole('group', { name: 'Bad Name' }).locator('.field-error').innerText();
      assert.match(nameError, /letter/);
      assert.equal(await form.getByRole('group', { name: 'Bad Name' }).getByRole('textbox', { name: 'Name' }).inputValue(), 'Bad Name');
      assert.equal((await t.request('GET', '/api/v1/collections/posts')).status, 404, 'nothing was created');

      await form.getByRole('group', { name: 'Bad Name' }).getByRole('textbox', { name: 'Name' }).fill('title');
      await form.getByRole('button', { name: 'Search title' }).click();
      await form.getByText('Valid rule.').waitFor();
      // Keyboard: focus the main action and press Enter.
      await form.getByRole('button', { name: 'Create collection' }).focus();
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { name: 'Schema of posts' }).waitFor();
      const saved = (await t.request('GET', '/api/v1/collections/posts')).body;
      assert.deepEqual(saved.fields.map((f: { name: string; type: string }) => `${f.name}:${f.type}`), ['title:text', 'status:select']);
      assert.deepEqual(saved.search, ['title']);
      assert.equal(saved.rules.list, "status = 'published' || @request.auth.id != ''");
      assert.equal(saved.rules.delete, null);
      await checkScreen(page, 'collection-editor', dialect);
    });

    test('rule tester: anonymous is denied the list of a draft, with the trace of each operand', async () => {
      await t.request('POST', '/api/v1/collections/posts/records', { body: { title: 'Hello', status: 'draft' } });
      await page.getByRole('link', { name: 'Test rules' }).click();
      await page.getByRole('heading', { name: 'Rule tester: posts' }).waitFor();
      await page.getByLabel('Record').selectOption({ index: 1 });
      await page.getByRole('button', { name: 'Test rules' }).click();
      const list = page.getByRole('article', { name: 'list rule' });
      await list.waitFor();
      assert.match(await list.innerText(), /list: denied/);
      assert.match(await list.innerText(), /status is "draft"/);
      assert.match(await list.innerText(), /@request\.auth\.id is ''/);
      await checkScreen(page, 'rule-tester', dialect);
      await page.getByLabel('Caller').selectOption({ label: 'admin@example.com (admin)' });
      await page.getByRole('button', { name: 'Test rules' }).click();
      await page.getByRole('article', { name: 'delete rule' }).filter({ hasText: 'delete: allowed' }).waitFor();
    });

    test('delete with confirmation: cancel keeps it, confirm removes it', async () => {
      await page.goto(`${t.url}/admin/collections/posts/schema`);
      await page.getByRole('button', { name: 'Delete collection' }).click();
      const dialog = page.getByRole('dialog', { name: 'Delete posts?' });
      await dialog.waitFor();
      await page.keyboard.press('Enter'); // Cancel has focus
      assert.equal((await t.request('GET', '/api/v1/collections/posts')).status, 200);
      await page.getByRole('button', { name: 'Delete collection' }).click();
      await dialog.getByRole('button', { name: 'Delete posts' }).click();
      await page.getByRole('heading', { name: 'Collections' }).waitFor();
      assert.equal((await t.request('GET', '/api/v1/collections/posts')).status, 404);
    });

    test('people: roles saved by keyboard (the user\'s sessions end), verified set and unset; audit log filtered', async () => {
      await page.getByRole('link', { name: 'People' }).click();
      await page.getByRole('heading', { name: 'People' }).waitFor();
      await page.getByRole('row', { name: /zed@example.com/ }).waitFor();
      await checkScreen(page, 'people', dialect);
      const roles = page.getByLabel('Roles of zed@example.com');
      await roles.fill('editor');
      await roles.press('Enter');
      await page.getByText('Roles saved; their sessions ended.').waitFor();
      const zed = await t.app.services.auth.userByEmail('zed@example.com');
      assert.deepEqual(zed?.roles, ['editor']);
      // Verified by hand, and back; each is audited.
      assert.equal(zed?.verified, false);
      await page.getByRole('button', { name: 'Mark verified zed@example.com' }).click();
      await page.getByText('Marked verified.').waitFor();
      assert.equal((await t.app.services.auth.userByEmail('zed@example.com'))?.verified, true);
      await page.getByRole('button', { name: 'Mark unverified zed@example.com' }).click();
      await page.getByText('Marked unverified.').waitFor();
      assert.equal((await t.app.services.auth.userByEmail('zed@example.com'))?.verified, false);

      await page.getByRole('link', { name: 'Audit log' }).click();
      await page.getByRole('textbox', { name: 'Filter' }).fill("action = 'roles.changed'");
      await page.getByRole('textbox', { name: 'Filter' }).press('Enter');
      await page.getByRole('row', { name: /roles\.changed/ }).waitFor();
      assert.match(page.url(), /filter=/, 'the filter is in the URL');
      await checkScreen(page, 'audit', dialect);
      await page.getByRole('textbox', { name: 'Filter' }).fill('nope = 1');
      await page.getByRole('textbox', { name: 'Filter' }).press('Enter');
      await page.getByRole('alert').filter({ hasText: 'unknown field' }).waitFor();
    });

    test('operations: live numbers; a stopped server shows the banner, which goes away when it is back', async () => {
      await page.getByRole('link', { name: 'Operations' }).click();
      await page.getByText('Requests since start').waitFor();
      await page.getByRole('rowheader', { name: /GET \/api\/v1\/metrics\/summary/ }).waitFor();
      await checkScreen(page, 'operations', dialect);
      await t.app.close();
      await page.getByRole('status').filter({ hasText: 'Connection lost — retrying' }).waitFor({ timeout: 15_000 });
      if (dialect === 'sqlite') await checkScreen(page, 'connection-lost', dialect);
      await t.restart();
      await page.getByRole('status').filter({ hasText: 'Connection lost' }).waitFor({ state: 'detached', timeout: 15_000 }).catch(async () => {
        // The live region stays in the page; its text is what goes.
        await page.waitForFunction("!document.body.innerText.includes('Connection lost')", undefined, { timeout: 15_000 });
      });
      await page.getByText('Requests since start').waitFor();
    });
  });
}
