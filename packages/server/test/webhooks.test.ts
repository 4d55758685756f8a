// Webhooks on real databases with a real receiver on 127.0.0.1: record writes (single and batch)
// become signed deliveries from the change log, a rolled-back batch becomes none, failures are
// retried then dead then the webhook is disabled, deliveries can be sent again by hand, private
// addresses are refused, only superusers manage webhooks, and a consumer stopped mid-way resumes
// after a restart without losing a change.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createApp, type App } from '../src/app.ts';
import { describeEachDialect } from '../src/testing/databases.ts';
import { createSignedInUser, createTestApp, webhookOutboxCaughtUp, type TestApp } from '../src/testing/test-app.ts';
import { WebhookReceiver, type ReceivedDelivery } from '../src/testing/webhook-receiver.ts';
import { pino } from 'pino';

const ENV = {
  GALLEY_WEBHOOK_ALLOW: '127.0.0.1',
  GALLEY_WEBHOOK_RETRY_SECONDS: '0.05,0.1',
  GALLEY_WEBHOOK_TIMEOUT_SECONDS: '1',
  GALLEY_WEBHOOK_DISABLE_AFTER: '2',
};
const POSTS = {
  name: 'posts',
  fields: [{ name: 'title', type: 'text', required: true }, { name: 'slug', type: 'text' }],
  indexes: [{ fields: ['slug'], unique: true }],
  rules: { list: '', view: '', create: '', update: '', delete: '' },
};
const NOTES = { name: 'notes', fields: [{ name: 'title', type: 'text' }], rules: { list: '', view: '', create: '', update: '', delete: '' } };

await describeEachDialect('webhooks', (dialect) => {
  let t: TestApp;
  let receiver: WebhookReceiver;
  before(async () => {
    t = await createTestApp(dialect, ENV);
    receiver = await WebhookReceiver.start();
    assert.equal((await t.request('POST', '/api/v1/collections', { body: POSTS })).status, 201);
    assert.equal((await t.request('POST', '/api/v1/collections', { body: NOTES })).status, 201);
  });
  after(async () => {
    await t?.close();
    await receiver?.close();
  });

  /** Creates a webhook posting to `path` of the receiver, which learns its secret. */
  async function hook(path: string, events: string[], extra: Record<string, unknown> = {}): Promise<{ id: string; secret: string; body: any }> {
    const res = await t.request('POST', '/api/v1/webhooks', { body: { url: receiver.url + path, events, ...extra } });
    assert.equal(res.status, 201, res.text);
    receiver.secrets.set(res.body.id, res.body.secret);
    return { id: res.body.id, secret: res.body.secret, body: res.body };
  }

  const remove = async (id: string) => {
    const res = await t.request('DELETE', `/api/v1/webhooks/${id}`);
    assert.equal(res.status, 204, `DELETE webhook ${id}: ${res.status} ${res.text}`);
  };

  const write = async (method: string, path: string, body?: unknown) => {
    const res = await t.request(method, path, { body });
    assert.ok(res.status < 300, `${method} ${path}: ${res.status} ${res.text}`);
    return res.body;
  };

  test('create, update and delete are delivered, signed, with the change envelope', async () => {
    const { id, secret, body } = await hook('/crud', ['posts.*']);
    assert.match(secret, /^whsec_[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(
      { url: body.url, events: body.events, enabled: body.enabled, status: body.status, disabledReason: body.disabledReason, failures: body.failures, description: body.description },
      { url: receiver.url + '/crud', events: ['posts.*'], enabled: true, status: 'active', disabledReason: null, failures: 0, description: null },
    );
    const post = await write('POST', '/api/v1/collections/posts/records', { title: 'first' });
    await write('PATCH', `/api/v1/collections/posts/records/${post.id}`, { title: 'second' });
    await write('DELETE', `/api/v1/collections/posts/records/${post.id}`);
    // A change to another collection is not for this webhook.
    await write('POST', '/api/v1/collections/notes/records', { title: 'not a post' });
    await receiver.until((r) => r.filter((d) => d.path === '/crud').length >= 3, 'three deliveries');

    // Deliveries run concurrently: receivers order them by seq.
    const got = bySeq(receiver.on('/crud'));
    assert.deepEqual(got.map((d) => d.body.event), ['posts.create', 'posts.update', 'posts.delete']);
    assert.ok(got.every((d) => d.verified), 'every signature verifies with the secret');
    const [created, updated, deleted] = got.map((d) => d.body);
    assert.deepEqual(Object.keys(created).sort(), ['action', 'collection', 'event', 'id', 'record', 'seq', 'time']);
    assert.equal(created.collection, 'posts');
    assert.equal(created.action, 'create');
    assert.equal(created.record.title, 'first');
    assert.equal(updated.record.title, 'second');
    assert.equal(deleted.record.id, post.id);
    assert.deepEqual([updated.seq - created.seq, deleted.seq - updated.seq], [1, 1]);
    for (const d of got) {
      assert.equal(d.headers['galley-webhook-id'], id);
      assert.equal(d.headers['galley-delivery-id'], d.body.id);
      assert.equal(d.headers['content-type'], 'application/json');
      assert.match(String(d.headers['galley-signature']), /^v1=[0-9a-f]{64}$/);
    }

    // The delivery log, newest first, with what happened; the secret is never shown again.
    await waitFor(async () => (await t.request('GET', `/api/v1/webhooks/${id}/deliveries`)).body.items.every((x: any) => x.status === 'succeeded'), 'deliveries recorded');
    const log = await t.request('GET', `/api/v1/webhooks/${id}/deliveries`);
    assert.equal(log.status, 200);
    assert.deepEqual(log.body.items.map((x: any) => x.event), ['posts.delete', 'posts.update', 'posts.create']);
    const first = log.body.items[2];
    assert.equal(first.id, created.id);
    assert.equal(first.seq, created.seq);
    assert.equal(first.attempts, 1);
    assert.equal(first.responseStatus, 200);
    assert.equal(first.error, null);
    assert.equal(first.nextAttemptAt, null);
    assert.equal(typeof first.durationMs, 'number');
    assert.ok(Date.parse(first.lastAttemptAt) >= Date.parse(first.created));
    const shown = await t.request('GET', `/api/v1/webhooks/${id}`);
    assert.equal(shown.status, 200);
    assert.equal(shown.body.secret, undefined);
    assert.ok(!shown.text.includes(secret) && !(await t.request('GET', '/api/v1/webhooks')).text.includes(secret));
    await remove(id);
  });

  test('a batch is delivered change by change; a rolled-back batch sends nothing', async () => {
    const { id } = await hook('/batch', ['posts.create', 'notes.*']);
    const ok = await t.request('POST', '/api/v1/batch', {
      body: { operations: [{ action: 'create', collection: 'posts', body: { title: 'b1' } }, { action: 'create', collection: 'notes', body: { title: 'b2' } }] },
    });
    assert.equal(ok.status, 200, ok.text);
    const failed = await t.request('POST', '/api/v1/batch', {
      body: {
        operations: [
          { action: 'create', collection: 'posts', body: { title: 'rolled back', slug: 'same' } },
          { action: 'create', collection: 'posts', body: { title: 'rolled back too', slug: 'same' } },
        ],
      },
    });
    assert.equal(failed.status, 409, failed.text);
    // A later write that is delivered shows that whatever came before it was seen.
    await write('POST', '/api/v1/collections/posts/records', { title: 'after' });
    await receiver.until((r) => r.some((d) => d.path === '/batch' && d.body.record.title === 'after'), 'the write after the failed batch');
    const titles = bySeq(receiver.on('/batch')).map((d) => d.body.record.title);
    assert.deepEqual(titles, ['b1', 'b2', 'after']);
    const seqs = bySeq(receiver.on('/batch')).map((d) => d.body.seq);
    assert.equal(seqs[1], seqs[0] + 1, 'a batch numbers its changes consecutively');
    await remove(id);
  });

  test('a failing receiver: retried with backoff, then dead; after 2 dead deliveries the webhook is disabled; enabling resets it', async () => {
    receiver.behaviour.set('/down', 500);
    const { id } = await hook('/down', ['notes.create'], { description: 'flaky' });
    await write('POST', '/api/v1/collections/notes/records', { title: 'one' });
    await write('POST', '/api/v1/collections/notes/records', { title: 'two' });
    // 2 deliveries × 3 attempts (1 + 2 retries).
    await receiver.until((r) => r.filter((d) => d.path === '/down').length >= 6, 'six attempts');
    await waitFor(async () => (await t.request('GET', `/api/v1/webhooks/${id}`)).body.status === 'disabled', 'the webhook disabled');
    const hookNow = (await t.request('GET', `/api/v1/webhooks/${id}`)).body;
    assert.equal(hookNow.enabled, false);
    assert.equal(hookNow.failures, 2);
    assert.match(hookNow.disabledReason, /2 consecutive deliveries failed/);
    assert.match(hookNow.disabledReason, /answered 500/);
    const log = (await t.request('GET', `/api/v1/webhooks/${id}/deliveries`)).body.items;
    assert.deepEqual(log.map((d: any) => [d.status, d.attempts, d.responseStatus, d.nextAttemptAt]), [['dead', 3, 500, null], ['dead', 3, 500, null]]);
    assert.equal(log[0].error, 'the receiver answered 500');
    // Retries waited (about 50 ms then 100 ms, jittered): the attempts of one delivery are spread out.
    const attempts = receiver.on('/down').filter((d) => d.body.id === log[1].id).map((d) => d.at);
    assert.equal(attempts.length, 3);
    assert.ok(attempts[1]! - attempts[0]! >= 35 && attempts[2]! - attempts[1]! >= 75, `backoff between attempts: ${attempts.join(', ')}`);
    // All attempts of a delivery carry the same delivery id and body.
    assert.equal(new Set(receiver.on('/down').filter((d) => d.body.id === log[1].id).map((d) => d.headers['galley-delivery-id'])).size, 1);

    // Disabled: new changes make no deliveries for it.
    const before = receiver.on('/down').length;
    await write('POST', '/api/v1/collections/notes/records', { title: 'while disabled' });
    await sleep(300);
    assert.equal((await t.request('GET', `/api/v1/webhooks/${id}/deliveries`)).body.items.length, 2);
    assert.equal(receiver.on('/down').length, before);

    // Enabled again (the receiver is fixed): failures and reason reset; new changes are sent, the missed one is not.
    receiver.behaviour.set('/down', 204);
    const enabled = await t.request('PATCH', `/api/v1/webhooks/${id}`, { body: { enabled: true } });
    assert.equal(enabled.status, 200, enabled.text);
    assert.deepEqual([enabled.body.status, enabled.body.enabled, enabled.body.failures, enabled.body.disabledReason], ['active', true, 0, null]);
    await write('POST', '/api/v1/collections/notes/records', { title: 'three' });
    await receiver.until((r) => r.some((d) => d.path === '/down' && d.body.record.title === 'three'), 'the write after enabling');
    assert.ok(!receiver.on('/down').some((d) => d.body.record.title === 'while disabled'));
    await remove(id);
  });

  test('a receiver that never answers times out, and the attempt is recorded as failed', async () => {
    receiver.behaviour.set('/hang', 'hang');
    const { id } = await hook('/hang', ['notes.update']);
    const note = await write('POST', '/api/v1/collections/notes/records', { title: 'x' });
    await write('PATCH', `/api/v1/collections/notes/records/${note.id}`, { title: 'y' });
    await waitFor(async () => (await t.request('GET', `/api/v1/webhooks/${id}/deliveries`)).body.items[0]?.attempts >= 1 && (await t.request('GET', `/api/v1/webhooks/${id}/deliveries`)).body.items[0]?.error !== null, 'a timed-out attempt', 8000);
    const [delivery] = (await t.request('GET', `/api/v1/webhooks/${id}/deliveries`)).body.items;
    assert.equal(delivery.error, 'no answer within 1 s');
    assert.equal(delivery.responseStatus, null);
    assert.ok(delivery.durationMs >= 900, `took ${delivery.durationMs} ms`);
    await t.request('PATCH', `/api/v1/webhooks/${id}`, { body: { enabled: false } });
    await remove(id);
  });

  test('redelivery sends the same body again under a new delivery id', async () => {
    receiver.behaviour.set('/again', 503);
    const { id } = await hook('/again', ['posts.create']);
    const post = await write('POST', '/api/v1/collections/posts/records', { title: 'again' });
    await waitFor(async () => (await t.request('GET', `/api/v1/webhooks/${id}/deliveries`)).body.items[0]?.status === 'dead', 'a dead delivery');
    const [dead] = (await t.request('GET', `/api/v1/webhooks/${id}/deliveries`)).body.items;
    receiver.behaviour.set('/again', 200);
    const res = await t.request('POST', `/api/v1/webhooks/${id}/deliveries/${dead.id}/redeliver`);
    assert.equal(res.status, 202, res.text);
    assert.equal(res.body.status, 'pending');
    assert.notEqual(res.body.id, dead.id);
    assert.equal(res.body.seq, dead.seq);
    await receiver.until((r) => r.some((d) => d.path === '/again' && d.headers['galley-delivery-id'] === res.body.id), 'the redelivery');
    const sent = receiver.on('/again');
    const redelivered = sent.find((d) => d.headers['galley-delivery-id'] === res.body.id)!;
    assert.equal(redelivered.raw, sent[0]!.raw, 'the same body, byte for byte');
    assert.equal(redelivered.body.id, dead.id);
    assert.equal(redelivered.body.record.id, post.id);
    assert.ok(redelivered.verified);
    await waitFor(async () => (await t.request('GET', `/api/v1/webhooks/${id}/deliveries`)).body.items[0]?.status === 'succeeded', 'the redelivery recorded');
    assert.equal((await t.request('POST', `/api/v1/webhooks/${id}/deliveries/nope/redeliver`)).status, 404);
    const other = await hook('/other', ['posts.delete']);
    assert.equal((await t.request('POST', `/api/v1/webhooks/${other.id}/deliveries/${dead.id}/redeliver`)).status, 404, 'a delivery of another webhook');
    await remove(id);
    await remove(other.id);
  });

  test('a rotated secret signs the next deliveries; the old one no longer verifies', async () => {
    const { id, secret } = await hook('/rotate', ['posts.update']);
    const rotated = await t.request('POST', `/api/v1/webhooks/${id}/rotate-secret`);
    assert.equal(rotated.status, 200);
    assert.notEqual(rotated.body.secret, secret);
    assert.equal(rotated.body.id, id);
    receiver.secrets.set(id, rotated.body.secret);
    const post = await write('POST', '/api/v1/collections/posts/records', { title: 'r' });
    await write('PATCH', `/api/v1/collections/posts/records/${post.id}`, { title: 'r2' });
    await receiver.until((r) => r.some((d) => d.path === '/rotate'), 'a delivery');
    assert.ok(receiver.on('/rotate')[0]!.verified);
    receiver.secrets.set(id, secret);
    await t.request('POST', `/api/v1/webhooks/${id}/deliveries/${receiver.on('/rotate')[0]!.body.id}/redeliver`);
    await receiver.until((r) => r.filter((d) => d.path === '/rotate').length === 2, 'the redelivery');
    assert.equal(receiver.on('/rotate')[1]!.verified, false, 'the old secret does not verify');
    assert.equal((await t.request('POST', '/api/v1/webhooks/nope/rotate-secret')).status, 404);
    await remove(id);
  });

  test('the delivery log pages newest first by cursor', async () => {
    const { id } = await hook('/pages', ['notes.create']);
    for (let i = 0; i < 5; i++) await write('POST', '/api/v1/collections/notes/records', { title: `p${i}` });
    await receiver.until((r) => r.filter((d) => d.path === '/pages').length === 5, 'five deliveries');
    const seen: number[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await t.request('GET', `/api/v1/webhooks/${id}/deliveries?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      assert.equal(res.status, 200, res.text);
      seen.push(...res.body.items.map((d: any) => d.seq));
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor);
    assert.equal(pages, 3);
    assert.deepEqual(seen, [...seen].sort((a, b) => b - a));
    assert.equal(new Set(seen).size, 5);
    assert.equal((await t.request('GET', `/api/v1/webhooks/${id}/deliveries?cursor=bogus`)).body.code, 'bad_request');
    assert.equal((await t.request('GET', `/api/v1/webhooks/${id}/deliveries?limit=0`)).status, 400);
    assert.equal((await t.request('GET', `/api/v1/webhooks/${id}/deliveries?colour=red`)).status, 400);
    assert.equal((await t.request('GET', '/api/v1/webhooks/nope/deliveries')).status, 404);
    await remove(id);
    assert.equal((await t.request('GET', `/api/v1/webhooks/${id}`)).status, 404);
    assert.equal((await t.request('DELETE', `/api/v1/webhooks/${id}`)).status, 404);
  });

  test('finished deliveries past retention leave the log; waiting ones stay', async () => {
    receiver.behaviour.set('/prune', 500);
    const { id } = await hook('/prune', ['notes.create']);
    await write('POST', '/api/v1/collections/notes/records', { title: 'kept waiting' });
    await waitFor(async () => (await t.request('GET', `/api/v1/webhooks/${id}/deliveries`)).body.items[0]?.status === 'dead', 'a dead delivery');
    // Disabled first, so the redelivery stays queued (deliveries of a disabled webhook wait).
    await t.request('PATCH', `/api/v1/webhooks/${id}`, { body: { enabled: false } });
    await t.request('POST', `/api/v1/webhooks/${id}/deliveries/${(await t.request('GET', `/api/v1/webhooks/${id}/deliveries`)).body.items[0].id}/redeliver`);
    const webhooks = t.app.services.webhooks;
    assert.equal(await webhooks.pruneDeliveries(30), 0, 'nothing is old yet');
    // Thirty-one days on: the dead delivery goes, the queued redelivery stays.
    assert.equal(await webhooks.pruneDeliveries(30, Date.now() + 31 * 86_400_000), 1);
    const left = (await t.request('GET', `/api/v1/webhooks/${id}/deliveries`)).body.items;
    assert.deepEqual(left.map((d: any) => d.status), ['pending']);
    await remove(id);
  });

  test('invalid webhooks are refused with every field named, and nothing is created', async () => {
    const count = async () => (await t.request('GET', '/api/v1/webhooks')).body.items.length;
    const before = await count();
    const bad = await t.request('POST', '/api/v1/webhooks', { body: { url: 'ftp://example.com/x', events: ['nosuch.create', 'posts.publish', 'posts', 7, '*'], colour: 'red', enabled: 'yes' } });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, 'validation_failed');
    assert.deepEqual(bad.body.errors.map((e: any) => e.field).sort(), ['colour', 'enabled', 'events[0]', 'events[1]', 'events[2]', 'events[3]', 'url']);
    const missing = await t.request('POST', '/api/v1/webhooks', { body: {} });
    assert.deepEqual(missing.body.errors.map((e: any) => [e.field, e.code]), [['url', 'required'], ['events', 'required']]);
    assert.equal((await t.request('POST', '/api/v1/webhooks', { body: { url: receiver.url, events: [] } })).body.errors[0].field, 'events');
    assert.equal((await t.request('POST', '/api/v1/webhooks', { raw: '[1]', headers: { 'content-type': 'application/json' } })).status, 400);
    const credentials = await t.request('POST', '/api/v1/webhooks', { body: { url: 'http://user:pw@127.0.0.1/x', events: ['*'] } });
    assert.equal(credentials.body.errors[0].field, 'url');
    assert.ok(!credentials.text.includes('pw@'), 'the password is not echoed');
    // An update is checked the same way and changes nothing.
    const { id } = await hook('/valid', ['*']);
    const patch = await t.request('PATCH', `/api/v1/webhooks/${id}`, { body: { events: ['nosuch.*'], url: 'http://10.1.2.3/' } });
    assert.equal(patch.status, 400);
    assert.deepEqual(patch.body.errors.map((e: any) => e.field).sort(), ['events[0]', 'url']);
    assert.deepEqual((await t.request('GET', `/api/v1/webhooks/${id}`)).body.events, ['*']);
    assert.equal((await t.request('PATCH', '/api/v1/webhooks/nope', { body: { enabled: false } })).status, 404);
    await remove(id);
    assert.equal(await count(), before);
  });

  test('private, loopback, link-local and unique-local targets are refused unless allowed', async () => {
    for (const url of [
      'http://10.0.0.1/hook',
      'http://192.168.1.10/hook',
      'http://172.16.5.4/hook',
      'http://127.0.0.2/hook', // loopback, but only 127.0.0.1 is allowed
      'http://169.254.169.254/latest/meta-data',
      'http://100.64.0.1/',
      'http://0.0.0.0/',
      'http://[::1]/hook',
      'http://[fe80::1]/hook',
      'http://[fd12:3456::1]/hook',
      'http://[::ffff:10.0.0.1]/hook',
      'http://[::ffff:127.0.0.2]/hook',
    ]) {
      const res = await t.request('POST', '/api/v1/webhooks', { body: { url, events: ['*'] } });
      assert.equal(res.status, 400, url);
      assert.equal(res.body.code, 'validation_failed');
      assert.deepEqual(res.body.errors.map((e: any) => e.field), ['url'], url);
      assert.match(res.body.errors[0].message, /private or reserved/);
    }
    // The allowed address (GALLEY_WEBHOOK_ALLOW=127.0.0.1), also written as an IPv4-mapped IPv6 address.
    const mapped = await t.request('POST', '/api/v1/webhooks', { body: { url: 'http://[::ffff:127.0.0.1]:9/hook', events: ['*'], enabled: false } });
    assert.equal(mapped.status, 201, mapped.text);
    assert.equal(mapped.body.status, 'disabled');
    await remove(mapped.body.id);
  });

  test('an address refused at send time fails the attempt and nothing is sent', async () => {
    const { id } = await hook('/sendtime', ['notes.delete']);
    // As if the target had moved since creation (the row is edited behind the API's back).
    const port = new URL(receiver.url).port;
    await t.app.services.db.run(`UPDATE "_webhooks" SET "url" = ${t.dialect === 'postgres' ? '$1' : '?'} WHERE "id" = ${t.dialect === 'postgres' ? '$2' : '?'}`, [`http://127.0.0.2:${port}/sendtime`, id]);
    const note = await write('POST', '/api/v1/collections/notes/records', { title: 'z' });
    await write('DELETE', `/api/v1/collections/notes/records/${note.id}`);
    await waitFor(async () => (await t.request('GET', `/api/v1/webhooks/${id}/deliveries`)).body.items[0]?.attempts >= 1, 'an attempt');
    const [delivery] = (await t.request('GET', `/api/v1/webhooks/${id}/deliveries`)).body.items;
    assert.match(delivery.error, /127\.0\.0\.2 is a private or reserved address/);
    assert.equal(receiver.on('/sendtime').length, 0);
    await remove(id);
  });

  test('only superusers manage webhooks: others get 403, anonymous callers 401, and nothing changes', async () => {
    const { id } = await hook('/guarded', ['*']);
    const user = await createSignedInUser(t, `hooks-${dialect}@example.com`);
    const calls: Array<[string, string, unknown?]> = [
      ['GET', '/api/v1/webhooks'],
      ['POST', '/api/v1/webhooks', { url: receiver.url, events: ['*'] }],
      ['GET', `/api/v1/webhooks/${id}`],
      ['PATCH', `/api/v1/webhooks/${id}`, { enabled: false }],
      ['DELETE', `/api/v1/webhooks/${id}`],
      ['POST', `/api/v1/webhooks/${id}/rotate-secret`],
      ['GET', `/api/v1/webhooks/${id}/deliveries`],
      ['POST', `/api/v1/webhooks/${id}/deliveries/x/redeliver`],
    ];
    for (const [method, path, body] of calls) {
      const asUser = await t.request(method, path, { body, token: user.token });
      assert.equal(asUser.status, 403, `${method} ${path}`);
      assert.equal(asUser.body.code, 'forbidden');
      const anonymous = await t.request(method, path, { body, token: null });
      assert.equal(anonymous.status, 401, `${method} ${path}`);
      assert.equal(anonymous.body.code, 'unauthenticated');
    }
    const still = await t.request('GET', `/api/v1/webhooks/${id}`);
    const all = (await t.request('GET', '/api/v1/webhooks')).body.items;
    assert.deepEqual([still.body.enabled, all.length], [true, 1], JSON.stringify(all));
    await remove(id);
  });

  test('with no active webhook the outbox reads nothing per write; a webhook made active meanwhile gets its deliveries', async () => {
    const idle = await createTestApp(dialect, ENV);
    try {
      assert.equal((await idle.request('POST', '/api/v1/collections', { body: NOTES })).status, 201);
      assert.equal((await idle.request('POST', '/api/v1/collections/notes/records', { body: { title: 'first' } })).status, 201);
      await webhookOutboxCaughtUp(idle);
      // The outbox's reads outside a transaction: its idle check.
      const db = idle.app.services.db;
      const read = db.all.bind(db);
      let webhookReads = 0;
      db.all = (sql, params) => {
        if (sql.includes('FROM "_webhooks" WHERE "status" = \'active\'')) webhookReads++;
        return read(sql, params);
      };
      for (let i = 0; i < 20; i++) assert.equal((await idle.request('POST', '/api/v1/collections/notes/records', { body: { title: `idle ${i}` } })).status, 201);
      await sleep(50);
      assert.equal(webhookReads, 0);
      const created = await idle.request('POST', '/api/v1/webhooks', { body: { url: `${receiver.url}/idle`, events: ['notes.create'] } });
      assert.equal(created.status, 201, created.text);
      receiver.secrets.set(created.body.id, created.body.secret);
      assert.equal((await idle.request('POST', '/api/v1/collections/notes/records', { body: { title: 'heard' } })).status, 201);
      await receiver.until((r) => r.some((d) => d.path === '/idle'), 'the delivery of the write after the webhook was made');
      await sleep(100);
      assert.deepEqual(receiver.received.filter((d) => d.path === '/idle').map((d) => [d.body.record.title, d.verified]), [['heard', true]]);
    } finally {
      await idle.close();
    }
  });

  test('changes committed while the outbox is stopped are delivered after a restart on the same data', async () => {
    const { id } = await hook('/restart', ['notes.create']);
    // The consumer stops (as if the process died before it ran), while writes keep committing.
    await t.app.services.webhookOutbox.stop();
    const written = [];
    for (let i = 0; i < 3; i++) written.push((await write('POST', '/api/v1/collections/notes/records', { title: `pending ${i}` })).id);
    await sleep(200);
    assert.equal(receiver.on('/restart').length, 0);
    assert.equal((await t.request('GET', `/api/v1/webhooks/${id}/deliveries`)).body.items.length, 0, 'no delivery was made yet');
    const config = t.app.config;
    await t.app.close();
    let again: App | undefined;
    try {
      again = await createApp(config, { logger: pino({ level: 'silent' }) });
      await receiver.until((r) => r.filter((d) => d.path === '/restart').length === 3, 'the pending changes delivered after the restart');
      assert.deepEqual(bySeq(receiver.on('/restart')).map((d) => d.body.record.id), written);
      assert.ok(receiver.on('/restart').every((d) => d.verified), 'the secret survives the restart (sealed with the server secret)');
    } finally {
      await again?.close();
    }
  });
});

function bySeq(deliveries: ReceivedDelivery[]): ReceivedDelivery[] {
  return [...deliveries].sort((a, b) => a.body.seq - b.body.seq);
}

async function waitFor(condition: () => Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
