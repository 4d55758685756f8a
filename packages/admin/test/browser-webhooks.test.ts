// The webhooks screens in Chromium against a real server and a real receiver (testing/
// webhook-receiver.ts, which checks every signature), on SQLite and PostgreSQL: a refused create with
// each error on its field and the input kept, the secret shown once and signing deliveries, the
// delivery log (a failing receiver's answer, redelivery, Older/Newest paging), disable and enable,
// a confirmed secret rotation, and delete behind a confirmation. Each screen: axe, 1280 and 390 px.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { ensureAdminBuilt } from '../build/ensure-built.ts';
import { describeEachDialect } from '../../server/src/testing/databases.ts';
import { createTestApp, type TestApp } from '../../server/src/testing/test-app.ts';
import { WebhookReceiver } from '../../server/src/testing/webhook-receiver.ts';
import { checkScreen, chromiumAvailable, launch, openPage, signInAsAdmin } from './browser-helpers.ts';

const ENV = { GALLEY_WEBHOOK_ALLOW: '127.0.0.1', GALLEY_WEBHOOK_RETRY_SECONDS: '0.2', GALLEY_WEBHOOK_TIMEOUT_SECONDS: '2' };

if (chromiumAvailable()) {
  await ensureAdminBuilt();

  await describeEachDialect('webhooks in Chromium', (dialect) => {
    let t: TestApp;
    let browser: Browser;
    let page: Page;
    let receiver: WebhookReceiver;
    let hookUrl: string;
    let hookId: string;
    before(async () => {
      t = await createTestApp(dialect, ENV);
      const posts = { name: 'posts', fields: [{ name: 'title', type: 'text' }], rules: { list: '', view: '', create: '', update: '', delete: '' } };
      assert.equal((await t.request('POST', '/api/v1/collections', { body: posts })).status, 201);
      receiver = await WebhookReceiver.start();
      hookUrl = `${receiver.url}/hook`;
      browser = await launch();
      ({ page } = await openPage(browser));
      await signInAsAdmin(page, t.url);
    });
    after(async () => {
      await browser?.close();
      await receiver?.close();
      await t?.close();
    });

    const createPost = async (title: string) => assert.equal((await t.request('POST', '/api/v1/collections/posts/records', { body: { title } })).status, 201);
    const deliveriesOf = (title: string) => receiver.on('/hook').filter((d) => d.body?.record?.title === title);
    const logRows = () => page.getByRole('region', { name: 'Delivery log' }).locator('tbody tr');

    test('create: refused input is shown on its fields and kept; the secret is shown once and signs deliveries', async () => {
      await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Webhooks' }).click();
      await page.getByRole('heading', { name: 'Webhooks', level: 1 }).waitFor();
      await page.getByText('No webhooks yet').waitFor();
      const form = page.getByRole('form', { name: 'New webhook' });
      await form.getByLabel('URL').fill('http://10.0.0.1/hook');
      await form.getByLabel(/^Events/).fill('posts.create, nope.create');
      await form.getByLabel(/^Description/).fill('Orders to the warehouse');
      await form.getByLabel(/^Description/).press('Enter');
      await form.locator('.field-error').first().waitFor();
      assert.equal(await form.getByLabel('URL').getAttribute('aria-invalid'), 'true');
      const eventsErrorId = await form.getByLabel(/^Events/).getAttribute('aria-describedby');
      assert.match(await form.locator(`[id="${eventsErrorId}"]`).innerText(), /^nope\.create: /);
      assert.equal(await form.getByLabel('URL').evaluate((el) => el.matches(':focus')), true, 'focus is on the first refused field');
      assert.equal(await form.getByLabel(/^Events/).inputValue(), 'posts.create, nope.create', 'the input is kept');
      assert.equal(await form.getByLabel(/^Description/).inputValue(), 'Orders to the warehouse');
      assert.deepEqual((await t.request('GET', '/api/v1/webhooks')).body.items, [], 'nothing was created');

      await form.getByLabel('URL').fill(hookUrl);
      await form.getByLabel(/^Events/).fill('posts.create');
      await form.getByRole('button', { name: 'Create webhook' }).click();
      const secret = await page.getByRole('textbox', { name: 'Signing secret' }).inputValue();
      assert.match(secret, /^whsec_/);
      assert.equal(await form.getByLabel('URL').inputValue(), '', 'the form is cleared for the next one');
      const [hook] = (await t.request('GET', '/api/v1/webhooks')).body.items;
      assert.equal(hook.url, hookUrl);
      assert.equal(hook.description, 'Orders to the warehouse');
      hookId = hook.id;
      receiver.secrets.set(hookId, secret);
      const row = page.getByRole('row', { name: new RegExp(hookUrl) });
      assert.match(await row.innerText(), /posts\.create[\s\S]*Active/);
      await checkScreen(page, 'webhooks', dialect);

      await createPost('First');
      await receiver.until(() => deliveriesOf('First').length === 1, 'the first delivery');
      assert.equal(deliveriesOf('First')[0]!.verified, true, 'signed with the secret shown');

      await page.getByRole('button', { name: 'I have stored it' }).click();
      await page.reload();
      await row.waitFor();
      assert.ok(!(await page.content()).includes(secret), 'the secret is never shown again');
    });

    test('delivery log: a failing receiver\'s answer, redelivery, newest first with Older and Newest', async () => {
      receiver.behaviour.set('/hook', 500);
      await createPost('Refused');
      // Two attempts (GALLEY_WEBHOOK_RETRY_SECONDS=0.2 is one retry), then the delivery is dead.
      await receiver.until(() => deliveriesOf('Refused').length === 2, 'both attempts of the refused delivery');
      receiver.behaviour.set('/hook', 200);

      await page.getByRole('link', { name: `Deliveries of ${hookUrl}` }).click();
      await page.getByRole('heading', { name: /^Deliveries/ }).waitFor();
      const dead = logRows().filter({ hasText: 'dead' });
      await dead.waitFor();
      assert.match(await dead.innerText(), /HTTP 500/);
      assert.equal(await logRows().count(), 2, 'the refused delivery and the first one');
      assert.match(await logRows().first().innerText(), /dead/, 'newest first');
      await checkScreen(page, 'webhook-deliveries', dialect);

      await dead.getByRole('button', { name: /^Redeliver/ }).click();
      await page.getByText(/^Queued delivery /).waitFor();
      await receiver.until(() => deliveriesOf('Refused').length === 3, 'the redelivery');
      const again = deliveriesOf('Refused')[2]!;
      assert.equal(again.raw, deliveriesOf('Refused')[0]!.raw, 'the same body, byte for byte');
      assert.notEqual(again.headers['galley-delivery-id'], deliveriesOf('Refused')[0]!.headers['galley-delivery-id']);
      // The newest page refreshes itself: the redelivery shows up on top as it succeeds.
      await logRows().first().filter({ hasText: 'succeeded' }).filter({ hasText: 'HTTP 200' }).waitFor();
      assert.equal(await logRows().count(), 3);

      // 20 more: 23 deliveries, so the log has a second page.
      const operations = Array.from({ length: 20 }, (_, i) => ({ action: 'create', collection: 'posts', body: { title: `Bulk ${i}` } }));
      assert.equal((await t.request('POST', '/api/v1/batch', { body: { operations } })).status, 200);
      await receiver.until(() => receiver.on('/hook').length === 3 + 1 + 20, 'the 20 bulk deliveries');
      await page.reload();
      await logRows().nth(19).waitFor();
      assert.equal(await logRows().count(), 20);
      await page.getByRole('button', { name: 'Older' }).click();
      await page.waitForURL(/cursor=/);
      await page.getByRole('button', { name: 'Newest' }).waitFor();
      await logRows().filter({ hasText: 'dead' }).waitFor();
      assert.equal(await logRows().count(), 3, 'the three oldest: First, Refused and its redelivery');
      assert.equal(await page.getByRole('button', { name: 'Older' }).isDisabled(), true);
      await page.reload();
      await logRows().filter({ hasText: 'dead' }).waitFor();
      assert.equal(await logRows().count(), 3, 'the page is in the URL');
      await page.getByRole('button', { name: 'Newest' }).click();
      await logRows().nth(19).waitFor();
    });

    test('disable and enable; rotate the secret behind a confirmation; delete (Cancel first keeps it)', async () => {
      await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Webhooks' }).click();
      const row = page.getByRole('row', { name: new RegExp(hookUrl) });
      await row.getByRole('button', { name: `Disable ${hookUrl}` }).click();
      await row.filter({ hasText: 'disabled by a superuser' }).waitFor();
      assert.equal((await t.request('GET', `/api/v1/webhooks/${hookId}`)).body.enabled, false);
      await row.getByRole('button', { name: `Enable ${hookUrl}` }).click();
      await row.filter({ hasText: 'Active' }).waitFor();
      assert.equal((await t.request('GET', `/api/v1/webhooks/${hookId}`)).body.enabled, true);

      const oldSecret = receiver.secrets.get(hookId)!;
      await row.getByRole('button', { name: `Rotate secret of ${hookUrl}` }).click();
      const rotate = page.getByRole('dialog', { name: 'Rotate the signing secret?' });
      await rotate.waitFor();
      await page.keyboard.press('Escape');
      await rotate.waitFor({ state: 'hidden' });
      await row.getByRole('button', { name: `Rotate secret of ${hookUrl}` }).click();
      await rotate.getByRole('button', { name: 'Rotate secret' }).click();
      await page.getByRole('heading', { name: /^New signing secret/ }).waitFor();
      const secret = await page.getByRole('textbox', { name: 'Signing secret' }).inputValue();
      assert.match(secret, /^whsec_/);
      assert.notEqual(secret, oldSecret);
      receiver.secrets.set(hookId, secret);
      await createPost('After rotation');
      await receiver.until(() => deliveriesOf('After rotation').length === 1, 'a delivery after the rotation');
      assert.equal(deliveriesOf('After rotation')[0]!.verified, true, 'signed with the new secret');

      await row.getByRole('button', { name: `Delete ${hookUrl}` }).click();
      const remove = page.getByRole('dialog', { name: 'Delete this webhook?' });
      await remove.waitFor();
      await page.keyboard.press('Enter'); // Cancel has focus
      await remove.waitFor({ state: 'hidden' });
      assert.equal((await t.request('GET', `/api/v1/webhooks/${hookId}`)).status, 200);
      await row.getByRole('button', { name: `Delete ${hookUrl}` }).click();
      await remove.getByRole('button', { name: 'Delete webhook' }).click();
      await page.getByText('No webhooks yet').waitFor();
      assert.equal((await t.request('GET', `/api/v1/webhooks/${hookId}`)).status, 404);

      await page.goto(`${t.url}/admin/webhooks/${hookId}`);
      await page.getByRole('alert').filter({ hasText: 'This webhook does not exist' }).waitFor();
    });
  });
}
