// Realtime connections on the wire, on every database: a client that stops answering pings is
// closed with 4000, one that stops reading is closed with 4002 before the server's buffer for it
// grows without bound; the others keep their events. A busy hub writes events at most once per
// GALLEY_REALTIME_FLUSH_MS, gathering each client's events of the interval into one write.

import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { after, test } from 'node:test';
import { REALTIME_CLOSE } from '@galley/protocol';
import { describeEachDialect } from '../src/testing/databases.ts';
import { RealtimeTestClient } from '../src/testing/realtime-client.ts';
import { createTestApp } from '../src/testing/test-app.ts';

const PUBLIC = { name: 'items', fields: [{ name: 'title', type: 'text' }, { name: 'body', type: 'text' }], rules: { list: '', view: '', create: '', update: '', delete: '' } };

await describeEachDialect('realtime limits', (dialect) => {
  test('a client that stops answering pings is closed with 4000; one that answers stays', async () => {
    const t = await createTestApp(dialect, { GALLEY_REALTIME_PING_SECONDS: '1' });
    after(() => t.close());
    assert.equal((await t.request('POST', '/api/v1/collections', { body: PUBLIC })).status, 201);
    const silent = await RealtimeTestClient.open(t.url, { autoPong: false });
    const polite = await RealtimeTestClient.open(t.url);
    assert.deepEqual(await silent.closed, { code: REALTIME_CLOSE.pingTimeout, reason: 'no pong: the client stopped answering pings' });
    assert.equal((await polite.subscribe({ id: 'p', collection: 'items' })).id, 'p');
    polite.close();
  });

  test('a client that reads too slowly is closed with 4002 before its buffer grows without bound', async () => {
    const t = await createTestApp(dialect, { GALLEY_REALTIME_BUFFER_BYTES: String(64 * 1024) });
    after(() => t.close());
    assert.equal((await t.request('POST', '/api/v1/collections', { body: PUBLIC })).status, 201);
    const slow = await RealtimeTestClient.open(t.url);
    await slow.subscribe({ id: 's', collection: 'items' });
    const reader = await RealtimeTestClient.open(t.url);
    await reader.subscribe({ id: 'r', collection: 'items' });
    // Stop reading: the kernel buffers fill, then the server's own buffer.
    (slow.ws as unknown as { _socket: Socket })._socket.pause();
    const body = 'y'.repeat(900_000);
    let closedAfter = 0;
    let closed = false;
    void slow.closed.then(() => (closed = true));
    for (let i = 0; i < 100 && t.app.services.realtime.connections === 2; i++) {
      const res = await t.request('POST', '/api/v1/collections/items/records', { body: { title: `bulk ${i}`, body } });
      assert.equal(res.status, 201);
      closedAfter = i + 1;
    }
    assert.equal(t.app.services.realtime.connections, 1, 'the slow client was dropped');
    assert.ok(closedAfter < 100);
    (slow.ws as unknown as { _socket: Socket })._socket.resume();
    assert.deepEqual(await slow.closed, { code: REALTIME_CLOSE.tooSlow, reason: 'too slow: the unsent events passed the buffer limit' });
    assert.ok(closed);
    // The reader got every event.
    assert.equal((await reader.take(closedAfter, 'event')).length, closedAfter);
    reader.close();
  });

  test('a busy hub writes events at most once per GALLEY_REALTIME_FLUSH_MS, all of them, in order', async () => {
    const interval = 300;
    const t = await createTestApp(dialect, { GALLEY_REALTIME_FLUSH_MS: String(interval) });
    after(() => t.close());
    assert.equal((await t.request('POST', '/api/v1/collections', { body: PUBLIC })).status, 201);
    const client = await RealtimeTestClient.open(t.url);
    await client.subscribe({ id: 's', collection: 'items' });
    const arrivals: number[] = [];
    client.ws.on('message', () => arrivals.push(performance.now()));
    const titles = Array.from({ length: 6 }, (_, i) => `n${i}`);
    for (const title of titles) assert.equal((await t.request('POST', '/api/v1/collections/items/records', { body: { title } })).status, 201);
    const events = await client.take(titles.length, 'event');
    assert.deepEqual(events.map((e) => e.data.record.title), titles);
    const seqs = events.map((e) => e.data.seq as number);
    assert.ok(seqs.every((seq, i) => i === 0 || seq > seqs[i - 1]!), `seq increases: ${seqs.join(',')}`);
    // Arrivals come in bursts, one per flush; two flushes are never closer than the interval.
    const bursts = arrivals.filter((at, i) => i === 0 || at - arrivals[i - 1]! > 50);
    assert.ok(bursts.length < titles.length, `events were gathered: ${bursts.length} bursts for ${titles.length} events`);
    for (let i = 1; i < bursts.length; i++) assert.ok(bursts[i]! - bursts[i - 1]! >= interval - 50, `flushes ${Math.round(bursts[i]! - bursts[i - 1]!)} ms apart`);
    await client.quiet(interval);
    client.close();
  });
});
