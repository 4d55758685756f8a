// Several instances on one PostgreSQL database act as one for realtime: a change written through
// one reaches subscribers on the other (woken by LISTEN/NOTIFY, or by Redis pub/sub with REDIS_URL),
// a logout on one closes the session's sockets on the other; and with two real `galley serve`
// processes, a subscriber whose instance is killed with SIGKILL mid-stream resumes on the survivor
// with `since` and sees every change exactly once.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { createApp, type App } from '../src/app.ts';
import { RedisBus } from '../src/bus/redis-bus.ts';
import { loadConfig } from '../src/config/config.ts';
import { createPostgresDatabase, testDialects } from '../src/testing/databases.ts';
import { RealtimeTestClient } from '../src/testing/realtime-client.ts';
import { redisSkipReason, REDIS_TEST_URL, uniqueRedisPrefix } from '../src/testing/redis.ts';
import { exited, serveGalley } from '../src/testing/galley-process.ts';
import { ADMIN, createTestApp } from '../src/testing/test-app.ts';

const { dialects, skipReason: pgSkip } = await testDialects();
const redisSkip = await redisSkipReason();
const NOTES = { name: 'notes', fields: [{ name: 'title', type: 'text' }], rules: { list: '', view: '', create: '', update: '', delete: '' } };

const buses: Array<{ name: string; env: () => Record<string, string>; skip: string | false }> = [
  { name: 'LISTEN/NOTIFY', env: () => ({}), skip: false },
  { name: 'Redis pub/sub', env: () => ({ REDIS_URL: REDIS_TEST_URL, GALLEY_REDIS_PREFIX: uniqueRedisPrefix() }), skip: redisSkip ?? false },
];

for (const bus of buses) {
  const skip = !dialects.includes('postgres') ? pgSkip! : bus.skip;
  test(`two instances (${bus.name}): written through one, delivered by the other; a logout on one closes sockets on the other`, { skip }, async () => {
    const env = bus.env();
    const a = await createTestApp('postgres', env);
    let b: App | undefined;
    const sockets: RealtimeTestClient[] = [];
    try {
      b = await createApp(loadConfig({ DATABASE_URL: a.app.config.databaseUrl!, ...env }, ['--port', '0', '--dir', a.app.config.dataDir]), { logger: pino({ level: 'silent' }) });
      const bUrl = (await b.listen()).replace('[::1]', '127.0.0.1');
      assert.equal(b.services.bus instanceof RedisBus, bus.name === 'Redis pub/sub', 'REDIS_URL picks the Redis bus');
      assert.equal((await a.request('POST', '/api/v1/collections', { body: NOTES })).status, 201);
      const user = await a.app.services.auth.createUser({ email: 'dana@example.com', password: 'a long enough password' });
      const login = await a.request('POST', '/api/v1/auth/login', { body: { email: user.email, password: 'a long enough password' }, token: null });
      // B learns of the collection through the announcement; subscribe once it knows it.
      const deadline = Date.now() + 5000;
      while (!b.services.collections.get('notes') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
      const onB = await RealtimeTestClient.open(bUrl, { token: login.body.token });
      sockets.push(onB);
      const { seq } = await onB.subscribe({ id: 'n', collection: 'notes' });
      const written = [];
      for (let i = 0; i < 5; i++) written.push((await a.request('POST', '/api/v1/collections/notes/records', { body: { title: `via A ${i}` } })).body);
      const events = await onB.take(5, 'event');
      assert.deepEqual(events.map((e) => e.data.record.id), written.map((r) => r.id));
      assert.deepEqual(events.map((e) => e.data.seq), [1, 2, 3, 4, 5].map((n) => seq + n));
      assert.equal((await a.request('POST', '/api/v1/auth/logout', { token: login.body.token })).status, 204);
      assert.equal((await onB.next('error')).data.code, 'unauthenticated');
      assert.equal((await onB.closed).code, 4001);
    } finally {
      sockets.forEach((s) => s.close());
      await b?.close();
      await a.close();
    }
  });
}

test('two galley serve processes: kill -9 one mid-stream; the subscriber resumes on the survivor with since and sees every change exactly once', {
  skip: !dialects.includes('postgres') ? pgSkip! : false,
}, async () => {
  const pg = await createPostgresDatabase();
  const env: Record<string, string> = { DATABASE_URL: pg.url, ...(redisSkip ? {} : { REDIS_URL: REDIS_TEST_URL, GALLEY_REDIS_PREFIX: uniqueRedisPrefix() }) };
  // The first process migrates alone; then the second joins.
  const doomed = serveGalley(env);
  const survivor = serveGalley(env);
  let subscriber: RealtimeTestClient | undefined;
  try {
    const [doomedUrl, survivorUrl] = await Promise.all([doomed.url, survivor.url]);
    const login = await fetch(`${survivorUrl}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ADMIN) });
    const { token } = (await login.json()) as { token: string };
    const call = (method: string, p: string, body?: unknown) =>
      fetch(`${survivorUrl}${p}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    assert.equal((await call('POST', '/api/v1/collections', NOTES)).status, 201);

    subscriber = await RealtimeTestClient.open(doomedUrl, { token });
    // The doomed instance may not have reloaded the new collection yet.
    let first;
    for (let i = 0; i < 100; i++) {
      subscriber.send('subscribe', { id: 'n', collection: 'notes' });
      const reply = await subscriber.next();
      if (reply.type === 'subscribed') {
        first = reply.data;
        break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(first, 'subscribed on the first instance');

    // A writer through the survivor, throughout.
    const created: string[] = [];
    let writing = true;
    const writer = (async () => {
      for (let i = 0; writing; i++) {
        const res = await call('POST', '/api/v1/collections/notes/records', { title: `n${i}` });
        assert.equal(res.status, 201);
        created.push(((await res.json()) as { id: string }).id);
        await new Promise((r) => setTimeout(r, 5));
      }
    })();

    const seen: Array<{ seq: number; id: string }> = [];
    while (seen.length < 20) {
      const e = await subscriber.next('event');
      seen.push({ seq: e.data.seq, id: e.data.record.id });
    }
    doomed.kill('SIGKILL');
    await exited(doomed);
    // Whatever arrived before the socket died counts; then resume from the last one seen.
    await subscriber.closed;
    for (const m of subscriber.received.splice(0)) if (m.type === 'event') seen.push({ seq: m.data.seq, id: m.data.record.id });
    const resumeFrom = seen[seen.length - 1]!.seq;
    subscriber = await RealtimeTestClient.open(survivorUrl, { token });
    await subscriber.subscribe({ id: 'n', collection: 'notes', since: resumeFrom });
    await new Promise((r) => setTimeout(r, 500));
    writing = false;
    await writer;
    const total = created.length;
    while (seen.length < total) {
      const e = await subscriber.next('event');
      seen.push({ seq: e.data.seq, id: e.data.record.id });
    }
    await subscriber.quiet(300);
    // Exactly once, in order, with no gap: the seqs run first.seq+1 … first.seq+total.
    assert.deepEqual(seen.map((s) => s.seq), Array.from({ length: total }, (_, i) => first.seq + i + 1));
    assert.deepEqual(seen.map((s) => s.id), created);
  } finally {
    subscriber?.close();
    survivor.kill('SIGTERM');
    doomed.kill('SIGKILL');
    await Promise.all([exited(survivor), exited(doomed)]);
    await pg.drop();
  }
});
