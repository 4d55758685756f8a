// galley.webhooks against a live Galley with a real receiver on 127.0.0.1, on every database:
// create (the secret once), list, get, update, a record change delivered and listed in the log,
// redelivery, secret rotation, delete — and the refusals a dashboard branches on (400 with field
// errors, 403 for a non-superuser, 404).

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { describeEachDialect } from '../../server/src/testing/databases.ts';
import { createSignedInUser, createTestApp, type TestApp } from '../../server/src/testing/test-app.ts';
import { WebhookReceiver } from '../../server/src/testing/webhook-receiver.ts';
import { createClient, GalleyError, type GalleyClient, type WebhookDelivery } from '../src/index.ts';

async function rejectsWith(promise: Promise<unknown>, status: number, code: string): Promise<GalleyError> {
  const err = await promise.then(() => assert.fail(`expected ${code}`), (e: unknown) => e);
  assert.ok(err instanceof GalleyError, String(err));
  assert.deepEqual([err.status, err.code], [status, code], err.message);
  return err;
}

/** Polls the delivery log until `check` holds on its first page. */
async function logUntil(galley: GalleyClient, id: string, check: (items: WebhookDelivery[]) => boolean, what: string): Promise<WebhookDelivery[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const { items } = await galley.webhooks.deliveries(id);
    if (check(items)) return items;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(items)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

await describeEachDialect('sdk: webhooks', (dialect) => {
  let t: TestApp;
  let admin: GalleyClient;
  let receiver: WebhookReceiver;
  before(async () => {
    t = await createTestApp(dialect, { GALLEY_WEBHOOK_ALLOW: '127.0.0.1' });
    receiver = await WebhookReceiver.start();
    admin = createClient(t.url);
    await admin.auth.setToken(t.adminToken);
    await admin.collections.create({ name: 'posts', fields: [{ name: 'title', type: 'text' }], rules: { list: '', view: '', create: '', update: '', delete: '' } });
  });
  after(async () => {
    await t?.close();
    await receiver?.close();
  });

  test('create, list, get, update; a change is delivered and logged; redeliver, rotate, delete', async () => {
    const created = await admin.webhooks.create({ url: `${receiver.url}/sdk`, events: ['posts.create'], description: 'from the SDK' });
    assert.match(created.secret, /^whsec_/);
    assert.deepEqual([created.status, created.enabled, created.description, created.events], ['active', true, 'from the SDK', ['posts.create']]);
    receiver.secrets.set(created.id, created.secret);
    const listed = await admin.webhooks.list();
    assert.deepEqual(listed.map((w) => w.id), [created.id]);
    assert.ok(!('secret' in listed[0]!), 'the list has no secret');
    assert.equal((await admin.webhooks.get(created.id)).url, `${receiver.url}/sdk`);

    await admin.collection('posts').create({ title: 'hello' });
    await receiver.until((r) => r.length === 1, 'the delivery');
    assert.ok(receiver.received[0]!.verified, 'signed with the secret create gave');
    const [delivered] = await logUntil(admin, created.id, (items) => items[0]?.status === 'succeeded', 'a succeeded delivery');
    assert.deepEqual([delivered!.event, delivered!.attempts, delivered!.responseStatus], ['posts.create', 1, 200]);

    const again = await admin.webhooks.redeliver(created.id, delivered!.id);
    assert.notEqual(again.id, delivered!.id);
    assert.deepEqual([again.status, again.attempts], ['pending', 0]);
    await receiver.until((r) => r.length === 2, 'the redelivery');
    const log = await logUntil(admin, created.id, (items) => items.length === 2 && items[0]!.status === 'succeeded', 'the redelivery logged');
    assert.equal(log[0]!.id, again.id, 'newest first');
    const first = await admin.webhooks.deliveries(created.id, { limit: 1 });
    assert.deepEqual(first.items.map((d) => d.id), [again.id]);
    const second = await admin.webhooks.deliveries(created.id, { limit: 1, cursor: first.nextCursor! });
    assert.deepEqual([second.items.map((d) => d.id), second.nextCursor], [[delivered!.id], null]);

    const disabled = await admin.webhooks.update(created.id, { enabled: false });
    assert.deepEqual([disabled.status, disabled.disabledReason], ['disabled', 'disabled by a superuser']);
    const enabled = await admin.webhooks.update(created.id, { enabled: true, events: ['posts.*'] });
    assert.deepEqual([enabled.status, enabled.disabledReason, enabled.events], ['active', null, ['posts.*']]);

    const rotated = await admin.webhooks.rotateSecret(created.id);
    assert.match(rotated.secret, /^whsec_/);
    assert.notEqual(rotated.secret, created.secret);

    await admin.webhooks.delete(created.id);
    assert.deepEqual(await admin.webhooks.list(), []);
    await rejectsWith(admin.webhooks.get(created.id), 404, 'not_found');
    await rejectsWith(admin.webhooks.deliveries(created.id), 404, 'not_found');
    await rejectsWith(admin.webhooks.delete(created.id), 404, 'not_found');
  });

  test('a refused create names every bad field and creates nothing; non-superusers get 403, anonymous 401', async () => {
    const err = await rejectsWith(admin.webhooks.create({ url: 'ftp://example.com/x', events: ['nosuch.create', 'posts.publish'] }), 400, 'validation_failed');
    assert.deepEqual(err.fieldErrors.map((f) => f.field).sort(), ['events[0]', 'events[1]', 'url']);
    const local = await rejectsWith(admin.webhooks.create({ url: 'http://10.0.0.1/hook', events: ['*'] }), 400, 'validation_failed');
    assert.deepEqual(local.fieldErrors.map((f) => f.field), ['url'], 'a private address outside GALLEY_WEBHOOK_ALLOW');
    assert.deepEqual(await admin.webhooks.list(), []);

    const user = await createSignedInUser(t, `webhooks-sdk-${dialect}@example.com`);
    const someone = createClient(t.url);
    await someone.auth.setToken(user.token);
    await rejectsWith(someone.webhooks.list(), 403, 'forbidden');
    await rejectsWith(someone.webhooks.create({ url: `${receiver.url}/x`, events: ['*'] }), 403, 'forbidden');
    await rejectsWith(createClient(t.url).webhooks.list(), 401, 'unauthenticated');
  });
});
