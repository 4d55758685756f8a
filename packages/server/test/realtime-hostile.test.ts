// Realtime under bad input on every database: unparseable and unknown frames, collections that do
// not exist or are not visible, bad filters, 10,000 subscriptions on one socket, oversized and binary
// frames. Each gets an `error` envelope or a documented close, and the server and the other
// connections carry on. (Clients that stop answering or reading: realtime-limits.test.ts.)

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { REALTIME_CLOSE, REALTIME_LIMITS } from '@galley/protocol';
import { describeEachDialect } from '../src/testing/databases.ts';
import { RealtimeTestClient } from '../src/testing/realtime-client.ts';
import { createTestApp, type TestApp } from '../src/testing/test-app.ts';

const PUBLIC = { name: 'items', fields: [{ name: 'title', type: 'text' }, { name: 'body', type: 'text' }], rules: { list: '', view: '', create: '', update: '', delete: '' } };
const ADMIN_ONLY = { name: 'vault', fields: [{ name: 'title', type: 'text' }] };

await describeEachDialect('realtime bad input', (dialect) => {
  let t: TestApp;
  let userToken: string;
  let bystander: RealtimeTestClient;
  const open: RealtimeTestClient[] = [];
  const connect = async (options: Parameters<typeof RealtimeTestClient.open>[1] = {}) => {
    const client = await RealtimeTestClient.open(t.url, options);
    open.push(client);
    return client;
  };
  const create = async (title: string) => {
    const res = await t.request('POST', '/api/v1/collections/items/records', { body: { title } });
    assert.equal(res.status, 201, res.text);
    return res.body;
  };
  /** After each test: the server still answers, and an unrelated connection still gets its events. */
  const othersCarryOn = async () => {
    const item = await create('still here');
    assert.equal((await bystander.next('event')).data.record.id, item.id);
  };

  before(async () => {
    t = await createTestApp(dialect);
    for (const def of [PUBLIC, ADMIN_ONLY]) assert.equal((await t.request('POST', '/api/v1/collections', { body: def })).status, 201);
    await t.app.services.auth.createUser({ email: 'user@example.com', password: 'a long enough password' });
    userToken = (await t.request('POST', '/api/v1/auth/login', { body: { email: 'user@example.com', password: 'a long enough password' }, token: null })).body.token;
    bystander = await connect();
    await bystander.subscribe({ id: 'b', collection: 'items' });
  });
  after(async () => {
    open.forEach((c) => c.close());
    await t?.close();
  });

  test('malformed frames get a bad_request error envelope and the connection stays usable', async () => {
    const ws = await connect();
    const frames = ['{not json', '[]', '"text"', '{"data":{}}', '{"type":"dance","data":{}}', '{"type":"subscribe"}', '{"type":"subscribe","data":{"collection":"items"}}',
      '{"type":"subscribe","data":{"id":"x","collection":"items","extra":1}}', '{"type":"subscribe","data":{"id":"x","collection":"items","recordId":"../etc"}}',
      '{"type":"subscribe","data":{"id":"x","collection":"items","since":-1}}', '{"type":"subscribe","data":{"id":"x","collection":"items","since":"5"}}',
      '{"type":"auth","data":{}}', '{"type":"unsubscribe","data":{"id":""}}'];
    for (const frame of frames) ws.ws.send(frame);
    for (const frame of frames) {
      const err = await ws.next('error');
      assert.equal(err.data.code, 'bad_request', frame);
      assert.equal(err.data.status, 400);
      assert.equal(err.data.type, 'about:blank');
      assert.equal(typeof err.data.detail, 'string');
    }
    ws.ws.send(Buffer.from('{"type":"subscribe"}'), { binary: true });
    assert.match((await ws.next('error')).data.detail, /binary frames/);
    assert.equal((await ws.subscribe({ id: 'ok', collection: 'items' })).id, 'ok');
    await othersCarryOn();
  });

  test('collections that do not exist or are not visible, bad filters, and bad positions are refused by subscription', async () => {
    const anon = await connect();
    const user = await connect({ token: userToken });
    const expect = async (ws: RealtimeTestClient, data: Record<string, unknown>, code: string) => {
      ws.send('subscribe', data);
      const err = await ws.next('error');
      assert.equal(err.data.code, code, JSON.stringify(data));
      assert.equal(err.data.sub, data.id);
      return err.data;
    };
    await expect(anon, { id: 'a', collection: 'nope' }, 'not_found');
    await expect(anon, { id: 'b', collection: 'vault' }, 'unauthenticated');
    await expect(user, { id: 'c', collection: 'vault' }, 'forbidden');
    const parse = await expect(anon, { id: 'd', collection: 'items', filter: "title = 'x' &&" }, 'invalid_filter');
    assert.equal(typeof parse.position, 'number');
    await expect(anon, { id: 'e', collection: 'items', filter: 'secret = 1' }, 'invalid_filter');
    await expect(anon, { id: 'f', collection: 'items', filter: "title > 5" }, 'invalid_filter');
    const head = await t.app.services.changes.head();
    await expect(anon, { id: 'g', collection: 'items', since: head + 1000 }, 'bad_request');
    await anon.subscribe({ id: 'dup', collection: 'items' });
    await expect(anon, { id: 'dup', collection: 'items' }, 'conflict');
    anon.send('unsubscribe', { id: 'never' });
    assert.equal((await anon.next('error')).data.code, 'not_found');
    anon.send('unsubscribe', { id: 'dup' });
    user.send('auth', { token: 'x'.repeat(43) });
    assert.equal((await user.next('error')).data.code, 'unauthenticated');
    // After unsubscribing, nothing more arrives; a superuser still sees the admin-only collection.
    const admin = await connect({ token: t.adminToken });
    await admin.subscribe({ id: 'v', collection: 'vault' });
    const secret = await t.request('POST', '/api/v1/collections/vault/records', { body: { title: 'gold' } });
    assert.equal((await admin.next('event')).data.record.id, secret.body.id);
    await othersCarryOn();
    await Promise.all([anon.quiet(), user.quiet()]);
  });

  test(`10,000 subscriptions on one socket: ${REALTIME_LIMITS.maxSubscriptions} are accepted, the rest refused, and events still flow`, async () => {
    const ws = await connect();
    for (let i = 0; i < 10_000; i++) ws.send('subscribe', { id: `s${i}`, collection: 'items' });
    const replies = await ws.take(10_000, undefined, 30_000);
    const subscribed = replies.filter((m) => m.type === 'subscribed');
    const refused = replies.filter((m) => m.type === 'error');
    assert.equal(subscribed.length, REALTIME_LIMITS.maxSubscriptions);
    assert.equal(refused.length, 10_000 - REALTIME_LIMITS.maxSubscriptions);
    assert.ok(refused.every((m) => m.data.code === 'bad_request'));
    const item = await create('fan out');
    const events = await ws.take(REALTIME_LIMITS.maxSubscriptions, 'event');
    assert.ok(events.every((e) => e.data.record.id === item.id));
    assert.equal((await bystander.next('event')).data.record.id, item.id);
    await othersCarryOn();
  });

  test('a frame over the size limit closes that connection with 1009; the others carry on', async () => {
    const ws = await connect();
    ws.send('subscribe', { id: 'big', collection: 'items', filter: `title = '${'x'.repeat(REALTIME_LIMITS.maxFrameBytes)}'` });
    assert.equal((await ws.closed).code, REALTIME_CLOSE.frameTooLarge);
    await othersCarryOn();
  });
});
