// API keys (contract §3): superusers create, list and revoke them; the secret is shown once and
// stored hashed; keys work only as Authorization: Bearer (a key in a URL or a cookie is refused);
// rules see a key with its roles; expired and revoked keys are 401 at once, realtime included.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, test } from 'node:test';
import { API_KEY_LOOKALIKE } from '../src/core/api-keys.ts';
import { describeEachDialect } from '../src/testing/databases.ts';
import { RealtimeTestClient } from '../src/testing/realtime-client.ts';
import { createSignedInUser, createTestApp, type TestApp } from '../src/testing/test-app.ts';

await describeEachDialect('API keys', (dialect) => {
  let t: TestApp;
  let user: { id: string; token: string };
  const ph = (n: number) => (dialect === 'postgres' ? `$${n}` : '?');
  const createKey = async (body: Record<string, unknown>) => {
    const res = await t.request('POST', '/api/v1/auth/api-keys', { body });
    assert.equal(res.status, 201, res.text);
    return res.body as { id: string; secret: string; name: string; roles: string[] };
  };
  const keyCount = async () => (await t.app.services.db.all('SELECT "id" FROM "_api_keys"')).length;

  before(async () => {
    t = await createTestApp(dialect);
    user = await createSignedInUser(t, 'mia@example.com');
    const res = await t.request('POST', '/api/v1/collections', {
      body: {
        name: 'reports',
        fields: [{ name: 'title', type: 'text' }, { name: 'by', type: 'text' }],
        rules: { list: "@request.auth.type = 'api_key'", view: "@request.auth.type = 'api_key'", create: "@request.auth.roles ?= 'ingest'", update: null, delete: null },
      },
    });
    assert.equal(res.status, 201, res.text);
  });
  after(async () => t?.close());

  test('a superuser creates a key: 201 with the secret once, stored only as its hash, listed without it', async () => {
    const expiresAt = new Date(Date.now() + 86_400_000).toISOString();
    const res = await t.request('POST', '/api/v1/auth/api-keys', { body: { name: ' nightly export ', roles: ['ingest', 'ingest'], expiresAt } });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.equal(res.headers.get('location'), `/api/v1/auth/api-keys/${res.body.id}`);
    assert.match(res.body.secret, /^gk_[A-Za-z0-9_-]{43}$/);
    assert.equal(res.body.name, 'nightly export');
    assert.deepEqual(res.body.roles, ['ingest']);
    assert.equal(res.body.expires, expiresAt);
    assert.equal(res.body.lastUsed, null);
    assert.ok(res.body.createdBy, 'the superuser who made it');
    const stored = await t.app.services.db.get<{ secret_hash: string }>(`SELECT "secret_hash" FROM "_api_keys" WHERE "id" = ${ph(1)}`, [res.body.id]);
    assert.equal(stored!.secret_hash, crypto.createHash('sha256').update(res.body.secret).digest('hex'));
    const list = await t.request('GET', '/api/v1/auth/api-keys');
    assert.equal(list.status, 200);
    assert.equal(list.headers.get('cache-control'), 'private, no-store');
    const listed = list.body.items.find((k: { id: string }) => k.id === res.body.id);
    assert.deepEqual(Object.keys(listed).sort(), ['created', 'createdBy', 'expires', 'id', 'lastUsed', 'name', 'roles']);
    assert.ok(!list.text.includes(res.body.secret) && !list.text.includes(stored!.secret_hash), 'neither the secret nor its hash is ever listed');
    const audit = await t.request('GET', `/api/v1/audit?filter=${encodeURIComponent(`action = 'api_key.created'`)}`);
    assert.equal(audit.body.items.length, 1);
    assert.equal(audit.body.items[0].detail.key, res.body.id);
    assert.ok(!audit.text.includes(res.body.secret), 'the audit log has no secret');
  });

  test('bad input is validation_failed with every field, and creates nothing', async () => {
    const before = await keyCount();
    const res = await t.request('POST', '/api/v1/auth/api-keys', { body: { name: 'x'.repeat(101), roles: ['Admin!'], expiresAt: '2001-01-01T00:00:00Z', owner: 'me' } });
    assert.equal(res.status, 400);
    assert.equal(res.body.code, 'validation_failed');
    assert.deepEqual(res.body.errors.map((e: { field: string; code: string }) => `${e.field}:${e.code}`).sort(), ['expiresAt:too_small', 'name:too_long', 'owner:unknown_field', 'roles:invalid_value']);
    for (const body of [{}, { name: '', roles: [] }, { name: 'a\nb', roles: [] }, { name: 'x', roles: 'admin' }, { name: 'x', roles: [], expiresAt: 'tomorrow' }, { name: 42, roles: [] }]) {
      const bad = await t.request('POST', '/api/v1/auth/api-keys', { body });
      assert.equal(bad.status, 400, JSON.stringify(body));
      assert.equal(bad.body.code, 'validation_failed', JSON.stringify(body));
    }
    assert.equal((await t.request('POST', '/api/v1/auth/api-keys', { raw: '[]', headers: { 'content-type': 'application/json' } })).status, 400);
    assert.equal(await keyCount(), before);
  });

  test('only superusers manage keys: 401 anonymous, 403 for users and for keys without admin', async () => {
    const plain = await createKey({ name: 'plain', roles: ['ingest'] });
    for (const token of [null, user.token, plain.secret]) {
      const expected = token === null ? 401 : 403;
      assert.equal((await t.request('POST', '/api/v1/auth/api-keys', { body: { name: 'mine', roles: ['admin'] }, token })).status, expected);
      assert.equal((await t.request('GET', '/api/v1/auth/api-keys', { token })).status, expected);
      assert.equal((await t.request('DELETE', `/api/v1/auth/api-keys/${plain.id}`, { token })).status, expected);
    }
    assert.equal((await t.request('GET', '/api/v1/auth/me', { token: plain.secret })).status, 200, 'the key survived the attempts');
  });

  test('rules see the key as @request.auth: id, type api_key and its roles; admin keys are superusers', async () => {
    const ingest = await createKey({ name: 'ingest', roles: ['ingest'] });
    const me = await t.request('GET', '/api/v1/auth/me', { token: ingest.secret });
    assert.equal(me.status, 200);
    assert.deepEqual(me.body.user, { id: ingest.id, type: 'api_key', name: 'ingest', email: '', verified: false, roles: ['ingest'] });
    const created = await t.request('POST', '/api/v1/collections/reports/records', { body: { title: 'daily', by: 'cron' }, token: ingest.secret });
    assert.equal(created.status, 201, created.text);
    assert.equal((await t.request('POST', '/api/v1/collections/reports/records', { body: { title: 'x' }, token: user.token })).status, 403, 'a user lacks the role');
    const listed = await t.request('GET', '/api/v1/collections/reports/records', { token: ingest.secret });
    assert.equal(listed.body.items.length, 1, "@request.auth.type = 'api_key' holds for a key");
    assert.equal((await t.request('GET', '/api/v1/collections/reports/records', { token: user.token })).body.items.length, 0, 'and not for a user');
    assert.equal((await t.request('GET', '/api/v1/collections', { token: ingest.secret })).status, 403, 'ingest is not admin');
    const admin = await createKey({ name: 'ops', roles: ['admin'] });
    assert.equal((await t.request('GET', '/api/v1/collections', { token: admin.secret })).status, 200, 'an admin key is a superuser');
    const made = await t.request('POST', '/api/v1/auth/api-keys', { body: { name: 'made by a key', roles: [] }, token: admin.secret });
    assert.equal(made.status, 201);
    assert.equal(made.body.createdBy, admin.id);
    const row = await t.app.services.db.get<{ last_used: unknown }>(`SELECT "last_used" FROM "_api_keys" WHERE "id" = ${ph(1)}`, [ingest.id]);
    assert.ok(row!.last_used, 'lastUsed is recorded');
  });

  test('a key is not a session: no sessions, logout, password change or MFA with it', async () => {
    const key = await createKey({ name: 'script', roles: [] });
    assert.equal((await t.request('GET', '/api/v1/auth/sessions', { token: key.secret })).status, 401);
    assert.equal((await t.request('POST', '/api/v1/auth/logout', { token: key.secret })).status, 401);
    assert.equal((await t.request('POST', '/api/v1/auth/password', { body: { currentPassword: 'x', password: 'y'.repeat(12) }, token: key.secret })).status, 401);
    assert.equal((await t.request('POST', '/api/v1/auth/mfa/totp', { token: key.secret })).status, 403);
    assert.equal((await t.request('GET', '/api/v1/auth/me', { token: key.secret })).status, 200, 'still valid');
  });

  test('a key in a URL or a cookie is refused (400) and not used; users cannot hold a `type` field', async () => {
    const key = await createKey({ name: 'leaky', roles: ['admin'] });
    for (const query of [`token=${key.secret}`, `api_key=${key.secret}`, `x=1&apikey=whatever`, `access_token=abc`, `filter=${encodeURIComponent(key.secret)}`]) {
      const res = await t.request('GET', `/api/v1/collections?${query}`, { token: null });
      assert.equal(res.status, 400, query);
      assert.equal(res.body.code, 'bad_request');
      assert.ok(!res.text.includes(key.secret), 'the key is not echoed');
    }
    const deleting = await t.request('DELETE', `/api/v1/collections/reports?token=${key.secret}`, { token: null });
    assert.equal(deleting.status, 400);
    assert.equal((await t.request('GET', '/api/v1/collections/reports')).status, 200, 'nothing was deleted');
    const cookie = await t.request('GET', '/api/v1/collections', { token: null, headers: { cookie: `galley_session=${key.secret}` } });
    assert.equal(cookie.status, 400);
    assert.equal(cookie.body.code, 'bad_request');
    const typeField = await t.request('PATCH', '/api/v1/collections/users', { body: { fields: [{ name: 'name', type: 'text' }, { name: 'type', type: 'text' }] } });
    assert.equal(typeField.status, 400, typeField.text);
    assert.ok(typeField.body.errors.some((e: { code: string }) => e.code === 'reserved'));
  });

  test('expired keys are 401; revoking is 204 and the key fails at once, over realtime too; twice is 404', async () => {
    const expiring = await createKey({ name: 'short', roles: [], expiresAt: new Date(Date.now() + 60_000).toISOString() });
    assert.equal((await t.request('GET', '/api/v1/auth/me', { token: expiring.secret })).status, 200);
    await t.app.services.db.run(`UPDATE "_api_keys" SET "expires" = ${ph(1)} WHERE "id" = ${ph(2)}`, [new Date(Date.now() - 1000).toISOString(), expiring.id]);
    const expired = await t.request('GET', '/api/v1/auth/me', { token: expiring.secret });
    assert.equal(expired.status, 401);
    assert.equal(expired.body.code, 'unauthenticated');

    const key = await createKey({ name: 'watcher', roles: [] });
    const ws = await RealtimeTestClient.open(t.url, { token: key.secret });
    await ws.subscribe({ id: 's1', collection: 'reports' });
    const anonymous = await RealtimeTestClient.open(t.url);
    await anonymous.subscribe({ id: 's1', collection: 'reports' });
    assert.equal((await t.request('POST', '/api/v1/collections/reports/records', { body: { title: 'live' } })).status, 201);
    assert.equal((await ws.next('event')).data.record.title, 'live', 'the handshake authenticated the key: the list rule lets it see the record');
    await anonymous.quiet();
    anonymous.close();

    const revoked = await t.request('DELETE', `/api/v1/auth/api-keys/${key.id}`);
    assert.equal(revoked.status, 204);
    assert.equal((await ws.closed).code, 4001, 'the realtime connection closes at once');
    assert.equal((await t.request('GET', '/api/v1/auth/me', { token: key.secret })).status, 401);
    assert.equal((await t.request('DELETE', `/api/v1/auth/api-keys/${key.id}`)).status, 404);
    assert.equal((await t.request('DELETE', '/api/v1/auth/api-keys/nosuchkey')).status, 404);
    const audit = await t.request('GET', `/api/v1/audit?filter=${encodeURIComponent(`action = 'api_key.revoked'`)}`);
    assert.equal(audit.body.items.length, 1);
    assert.equal(audit.body.items[0].detail.key, key.id);
    assert.ok(audit.body.items[0].actor);
    assert.ok(!(await t.request('GET', '/api/v1/auth/api-keys')).body.items.some((k: { id: string }) => k.id === key.id));
  });

  test('a key that expires while its realtime connection is open closes the connection at its expiry, not at the periodic check', async () => {
    const expiresAt = new Date(Date.now() + 1500).toISOString();
    const key = await createKey({ name: 'brief', roles: [], expiresAt });
    const byHandshake = await RealtimeTestClient.open(t.url, { token: key.secret });
    await byHandshake.subscribe({ id: 's1', collection: 'reports' });
    // The same key given in an `auth` frame on an anonymous connection.
    const byFrame = await RealtimeTestClient.open(t.url);
    byFrame.send('auth', { token: key.secret });
    await byFrame.subscribe({ id: 's1', collection: 'reports' });
    const steady = await RealtimeTestClient.open(t.url, { token: (await createKey({ name: 'steady', roles: [] })).secret });
    await steady.subscribe({ id: 's1', collection: 'reports' });
    for (const ws of [byHandshake, byFrame]) {
      assert.equal((await ws.next('error')).data.code, 'unauthenticated');
      assert.deepEqual(await ws.closed, { code: 4001, reason: 'session ended' });
    }
    const late = Date.now() - new Date(expiresAt).getTime();
    assert.ok(late >= 0 && late < 5000, `closed ${late} ms after the expiry (the periodic check runs every 60 s)`);
    // A key without expiry keeps its connection.
    assert.equal((await t.request('POST', '/api/v1/collections/reports/records', { body: { title: 'after expiry' } })).status, 201);
    assert.equal((await steady.next('event')).data.record.title, 'after expiry');
    steady.close();
  });
});

test('only a whole key in a query string is refused, not a key-like run inside another value', async () => {
  const key = `gk_${'A'.repeat(43)}`;
  for (const text of [`token=${key}`, `filter=x = '${key}'`, key]) assert.ok(API_KEY_LOOKALIKE.test(text), text);
  for (const text of [`token=abc${key}`, `token=${key}x`, `token=eyJ1Ijo.gk_${'A'.repeat(40)}`]) assert.ok(!API_KEY_LOOKALIKE.test(text), text);
});
