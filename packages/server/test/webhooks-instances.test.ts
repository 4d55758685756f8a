// Webhooks across instances and crashes: two instances on one PostgreSQL database turn each change
// into exactly one delivery per webhook and send each once; and a `galley serve` process killed with
// SIGKILL in the middle of sending resumes after a restart on the same data (SQLite file or
// PostgreSQL database) and delivers every change — at least once, retries under the same delivery id.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { createApp, type App } from '../src/app.ts';
import { loadConfig } from '../src/config/config.ts';
import { createPostgresDatabase, testDialects, type TestDialect } from '../src/testing/databases.ts';
import { exited, serveGalley } from '../src/testing/galley-process.ts';
import { ADMIN, createTestApp } from '../src/testing/test-app.ts';
import { WebhookReceiver } from '../src/testing/webhook-receiver.ts';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const { dialects, skipReason } = await testDialects();
const ENV = { GALLEY_WEBHOOK_ALLOW: '127.0.0.1', GALLEY_WEBHOOK_RETRY_SECONDS: '0.1,0.2,0.4', GALLEY_WEBHOOK_TIMEOUT_SECONDS: '1' };
const NOTES = { name: 'notes', fields: [{ name: 'title', type: 'text' }], rules: { list: '', view: '', create: '', update: '', delete: '' } };

test('two instances on one PostgreSQL database: each change becomes one delivery, sent once', { skip: dialects.includes('postgres') ? false : skipReason }, async () => {
  const receiver = await WebhookReceiver.start();
  const a = await createTestApp('postgres', ENV);
  let b: App | undefined;
  try {
    b = await createApp(loadConfig({ DATABASE_URL: a.app.config.databaseUrl!, ...ENV }, ['--port', '0', '--dir', a.app.config.dataDir]), { logger: pino({ level: 'silent' }) });
    const bUrl = (await b.listen()).replace('[::1]', '127.0.0.1');
    assert.equal((await a.request('POST', '/api/v1/collections', { body: NOTES })).status, 201);
    const hook = await a.request('POST', '/api/v1/webhooks', { body: { url: `${receiver.url}/both`, events: ['notes.*'] } });
    assert.equal(hook.status, 201, hook.text);
    receiver.secrets.set(hook.body.id, hook.body.secret);
    const deadline = Date.now() + 5000;
    while (!b.services.collections.get('notes') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));

    // Writers on both instances at once: both outboxes and both senders are woken for every change.
    const writeOn = (base: string, title: string) =>
      fetch(`${base}/api/v1/collections/notes/records`, { method: 'POST', headers: { authorization: `Bearer ${a.adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ title }) });
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => writeOn(i % 2 ? bUrl : a.url, `n${i}`)));
    assert.ok(results.every((r) => r.status === 201));
    await receiver.until((r) => new Set(r.map((d) => d.body.seq)).size === 40, 'forty changes delivered');
    await new Promise((r) => setTimeout(r, 500));

    const rows = await a.app.services.db.all<{ seq: number; n: number }>(`SELECT "seq", COUNT(*) AS n FROM "_webhook_deliveries" GROUP BY "seq"`);
    assert.equal(rows.length, 40);
    assert.ok(rows.every((r) => Number(r.n) === 1), 'one delivery row per change');
    const ids = receiver.on('/both').map((d) => d.headers['galley-delivery-id']);
    assert.equal(ids.length, 40, 'each delivery sent once');
    assert.equal(new Set(ids).size, 40);
    assert.ok(receiver.on('/both').every((d) => d.verified));
  } finally {
    await b?.close();
    await a.close();
    await receiver.close();
  }
});

for (const dialect of ['sqlite', 'postgres'] as TestDialect[]) {
  test(`galley serve killed with SIGKILL mid-delivery (${dialect}): after a restart on the same data every change is delivered`, {
    skip: dialects.includes(dialect) ? false : skipReason,
  }, async () => {
    const receiver = await WebhookReceiver.start();
    receiver.delayMs.set('/crash', 150);
    const pg = dialect === 'postgres' ? await createPostgresDatabase() : undefined;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'galley-webhook-crash-'));
    const env = { ...ENV, ...(pg ? { DATABASE_URL: pg.url } : {}) };
    let galley = serveGalley(env, { dir });
    try {
      let url = await galley.url;
      const login = await fetch(`${url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ADMIN) });
      const { token } = (await login.json()) as { token: string };
      const call = async (method: string, p: string, body?: unknown) => {
        const res = await fetch(`${url}${p}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
        return { status: res.status, body: (await res.json()) as any };
      };
      assert.equal((await call('POST', '/api/v1/collections', NOTES)).status, 201);
      const hook = await call('POST', '/api/v1/webhooks', { url: `${receiver.url}/crash`, events: ['notes.create'] });
      assert.equal(hook.status, 201);
      receiver.secrets.set(hook.body.id, hook.body.secret);
      const batch = await call('POST', '/api/v1/batch', { operations: Array.from({ length: 60 }, (_, i) => ({ action: 'create', collection: 'notes', body: { title: `c${i}` } })) });
      assert.equal(batch.status, 200);
      const seqs = new Set<number>();
      await receiver.until((r) => r.length >= 8, 'the first deliveries');
      galley.kill('SIGKILL');
      await exited(galley);
      const beforeRestart = new Set(receiver.received.map((d) => d.body.seq)).size;
      assert.ok(beforeRestart < 60, `killed mid-way (${beforeRestart} of 60 delivered)`);

      galley = serveGalley(env, { dir });
      url = await galley.url;
      await receiver.until((r) => new Set(r.map((d) => d.body.seq)).size === 60, 'all sixty changes delivered after the restart', 20_000);
      for (const d of receiver.received) seqs.add(d.body.seq);
      assert.equal(seqs.size, 60);
      // Repeats (attempts whose answer the dead process never recorded) carry the same delivery id and body.
      const bodyById = new Map<string, string>();
      for (const d of receiver.received) {
        const id = String(d.headers['galley-delivery-id']);
        assert.equal(bodyById.get(id) ?? d.raw, d.raw);
        bodyById.set(id, d.raw);
      }
      assert.equal(bodyById.size, 60, 'one delivery id per change');
      assert.ok(receiver.received.every((d) => d.verified));
    } finally {
      galley.kill('SIGKILL');
      await exited(galley);
      await receiver.close();
      await pg?.drop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}
