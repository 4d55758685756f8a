// posts.subscribe against a live Galley, through a TCP proxy the test can cut: events arrive with
// the subscriber's rules applied, one socket carries every subscription, and after the connection
// drops the changes made meanwhile are delivered exactly once, in order, after the reconnect.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import WebSocket from 'ws';
import { describeEachDialect } from '../../server/src/testing/databases.ts';
import { createTestApp, type TestApp } from '../../server/src/testing/test-app.ts';
import { createProxy } from './tcp-proxy.ts';
import { createClient, GalleyError, type GalleyClient, type RealtimeEvent, type WebSocketConstructor } from '../src/index.ts';

interface Note {
  id: string;
  created: string;
  updated: string;
  text: string;
  public: boolean;
}

async function until(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

await describeEachDialect('sdk realtime', (dialect) => {
  let t: TestApp;
  let proxy: Awaited<ReturnType<typeof createProxy>>;
  let admin: GalleyClient;
  before(async () => {
    t = await createTestApp(dialect);
    admin = createClient(t.url);
    await admin.auth.setToken(t.adminToken);
    await admin.collections.create({
      name: 'notes',
      fields: [{ name: 'text', type: 'text', required: true }, { name: 'public', type: 'boolean' }],
      rules: { list: 'public = true', view: 'public = true', create: '', update: '', delete: '' },
    });
    proxy = await createProxy(Number(new URL(t.url).port));
  });
  after(async () => {
    await proxy?.close();
    await t?.close();
  });

  test('events follow the rules and the filter; one socket for every subscription; unsubscribe stops them', async () => {
    const galley = createClient(proxy.url, { WebSocket: WebSocket as unknown as WebSocketConstructor });
    const notes = galley.collection<Note>('notes');
    const all: RealtimeEvent<Note>[] = [];
    const filtered: RealtimeEvent<Note>[] = [];
    const before = proxy.connections;
    const stopAll = await notes.subscribe({}, (e) => all.push(e));
    const stopFiltered = await notes.subscribe({ filter: galley.filter`text ~ ${'urgent'}` }, (e) => filtered.push(e));
    assert.equal(proxy.connections - before, 1, 'both subscriptions share one socket');

    const writer = admin.collection<Note>('notes');
    await writer.create({ text: 'hidden', public: false });
    const urgent = await writer.create({ text: 'urgent: public', public: true });
    await writer.update(urgent.id, { text: 'urgent: edited' });
    await writer.delete(urgent.id);
    await until(() => all.length === 3 && filtered.length === 3, 'the events');
    assert.deepEqual(all.map((e) => e.action), ['create', 'update', 'delete']);
    assert.deepEqual(all[2]!.record, { id: urgent.id });
    assert.ok(all.every((e, i) => i === 0 || e.seq > all[i - 1]!.seq));
    // A delete is matched against the record as it was, and carries only its id.
    assert.deepEqual(filtered.map((e) => (e.record as Note).text), ['urgent: public', 'urgent: edited', undefined]);

    stopFiltered();
    await writer.create({ text: 'urgent again', public: true });
    await until(() => all.length === 4, 'the fourth event');
    assert.equal(filtered.length, 3, 'an unsubscribed handler hears nothing more');
    stopAll();
  });

  test('a refused subscription rejects with the server problem', async () => {
    const galley = createClient(proxy.url, { WebSocket: WebSocket as unknown as WebSocketConstructor });
    const err = await galley.collection('notes').subscribe({ filter: 'text ~' }, () => {}).catch((e: unknown) => e);
    assert.ok(err instanceof GalleyError && err.code === 'invalid_filter', String(err));
    const missing = await galley.collection('nothing_here').subscribe({}, () => {}).catch((e: unknown) => e);
    assert.ok(missing instanceof GalleyError && missing.code === 'not_found', String(missing));
  });

  test('after the connection drops, the changes made meanwhile arrive once, in order (resumed with since)', async () => {
    const galley = createClient(proxy.url, { WebSocket: WebSocket as unknown as WebSocketConstructor, reconnectBackoffMs: 50 });
    const seen: RealtimeEvent<Note>[] = [];
    const stop = await galley.collection<Note>('notes').subscribe({}, (e) => seen.push(e));
    const writer = admin.collection<Note>('notes');
    await writer.create({ text: 'before the drop', public: true });
    await until(() => seen.length === 1, 'the first event');

    const connectionsBefore = proxy.connections;
    proxy.cut();
    const meanwhile = [];
    for (let i = 0; i < 5; i++) meanwhile.push((await writer.create({ text: `meanwhile ${i}`, public: true })).id);
    await until(() => seen.length === 6, 'the replayed events');
    assert.ok(proxy.connections > connectionsBefore, 'it reconnected');
    await writer.create({ text: 'after', public: true });
    await until(() => seen.length === 7, 'the live event after the replay');
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(seen.length, 7, 'nothing twice');
    assert.deepEqual(seen.slice(1, 6).map((e) => e.record.id), meanwhile);
    assert.ok(seen.every((e, i) => i === 0 || e.seq > seen[i - 1]!.seq), 'in order');
    stop();
  });

  test('after a server restart, the changes made before the client is back arrive once, in order', async () => {
    // A long backoff: the writes below land while the client is still waiting to reconnect.
    const galley = createClient(t.url, { WebSocket: WebSocket as unknown as WebSocketConstructor, reconnectBackoffMs: 1_000 });
    const seen: RealtimeEvent<Note>[] = [];
    const stop = await galley.collection<Note>('notes').subscribe({}, (e) => seen.push(e));
    try {
      await admin.collection<Note>('notes').create({ text: 'before the restart', public: true });
      await until(() => seen.length === 1, 'the first event');

      await t.restart();
      // fetch may still hold a keep-alive socket to the old server: the first request on it fails.
      for (let tries = 0; ; tries++) {
        const health = await fetch(`${t.url}/api/v1/health`).catch(() => undefined);
        if (health?.ok) break;
        assert.ok(tries < 5, 'the restarted server answers');
      }
      const writer = admin.collection<Note>('notes');
      const meanwhile = [];
      for (let i = 0; i < 3; i++) meanwhile.push((await writer.create({ text: `restarted ${i}`, public: true })).id);
      await until(() => seen.length === 4, 'the events made while the client was away', 15_000);
      const live = await writer.create({ text: 'live again', public: true });
      await until(() => seen.length === 5, 'the live event after the replay');
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(seen.length, 5, 'nothing twice');
      assert.deepEqual(seen.slice(1).map((e) => e.record.id), [...meanwhile, live.id]);
      assert.ok(seen.every((e, i) => i === 0 || e.seq > seen[i - 1]!.seq), 'in order');
    } finally {
      stop();
    }
  });

  test('a client away for longer than the log reaches back is told to resync, then continues live', async () => {
    const short = await createTestApp(dialect, { GALLEY_CHANGES_RETENTION_ROWS: '1' });
    const cut = await createProxy(Number(new URL(short.url).port));
    const writer = createClient(short.url);
    await writer.auth.setToken(short.adminToken);
    await writer.collections.create({ name: 'notes', fields: [{ name: 'text', type: 'text' }, { name: 'public', type: 'boolean' }], rules: { list: '', view: '', create: '' } });
    const galley = createClient(cut.url, { WebSocket: WebSocket as unknown as WebSocketConstructor, reconnectBackoffMs: 300 });
    const seen: string[] = [];
    const textOf = (e: RealtimeEvent<Note>) => ('text' in e.record ? e.record.text : '');
    let resyncs = 0;
    const notes = writer.collection<Note>('notes');
    const stop = await galley.collection<Note>('notes').subscribe({ onResync: () => resyncs++ }, (e) => seen.push(textOf(e)));
    try {
      await notes.create({ text: 'first', public: true });
      await until(() => seen.length === 1, 'the first event');
      cut.down();
      for (const text of ['missed 1', 'missed 2', 'missed 3']) await notes.create({ text, public: true });
      await short.app.services.changes.prune();
      cut.restore();
      await until(() => resyncs === 1, 'the resync notice');
      await notes.create({ text: 'after the resync', public: true });
      await until(() => seen.includes('after the resync'), 'the live event after the resync');
      assert.deepEqual(seen.filter((text) => text.startsWith('missed')), [], 'the pruned changes are not replayed');
      assert.equal(resyncs, 1);
    } finally {
      stop();
      await cut.close();
      await short.close();
    }
  });
});
