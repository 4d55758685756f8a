// Sessions (contract §3): list and revoke the caller's own sessions, idle expiry, logout at once,
// a deleted account's sessions and data gone with it; CSRF on cookie-authenticated writes and CORS
// only for GALLEY_ALLOWED_ORIGINS.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Secret, TOTP } from 'otpauth';
import { describeEachDialect } from '../src/testing/databases.ts';
import { RealtimeTestClient } from '../src/testing/realtime-client.ts';
import { createTestApp, type TestApp } from '../src/testing/test-app.ts';

const APP_ORIGIN = 'https://app.example';
const EVIL = 'https://evil.example';
const PASSWORD = 'a long and unusual passphrase';

await describeEachDialect('sessions, CSRF and CORS', (dialect) => {
  let t: TestApp;
  const ph = (n: number) => (dialect === 'postgres' ? `$${n}` : '?');
  const login = async (email: string, userAgent = 'TestBrowser/1.0') =>
    (await t.request('POST', '/api/v1/auth/login', { body: { email, password: PASSWORD }, token: null, headers: { 'user-agent': userAgent } })).body.token as string;
  const me = async (token: string) => (await t.request('GET', '/api/v1/auth/me', { token })).status;
  before(async () => {
    t = await createTestApp(dialect, { GALLEY_ALLOWED_ORIGINS: APP_ORIGIN });
    await t.app.services.auth.createUser({ email: 'sam@example.com', password: PASSWORD });
    await t.app.services.auth.createUser({ email: 'tia@example.com', password: PASSWORD });
  });
  after(async () => t?.close());

  test('GET /sessions lists the caller\'s sessions only, marks the current one, never shows a token', async () => {
    const phone = await login('sam@example.com', 'Phone/2.0');
    const laptop = await login('sam@example.com', 'Laptop/3.0');
    await login('tia@example.com');
    const res = await t.request('GET', '/api/v1/auth/sessions', { token: laptop });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers.get('cache-control'), 'private, no-store');
    const devices = res.body.items.map((s: { device: string }) => s.device);
    assert.ok(devices.includes('Phone/2.0') && devices.includes('Laptop/3.0'));
    assert.ok(res.body.items.every((s: Record<string, unknown>) => typeof s.created === 'string' && typeof s.lastSeen === 'string' && typeof s.ip === 'string'));
    assert.deepEqual(res.body.items.filter((s: { current: boolean }) => s.current).map((s: { device: string }) => s.device), ['Laptop/3.0']);
    assert.ok(!res.text.includes(phone) && !res.text.includes(laptop) && !/token/i.test(res.text));
    assert.equal((await t.request('GET', '/api/v1/auth/sessions', { token: null })).status, 401);
  });

  test('DELETE /sessions/:id revokes at once; another user\'s session is 404 and lives on', async () => {
    const a = await login('sam@example.com', 'A');
    const b = await login('sam@example.com', 'B');
    const tia = await login('tia@example.com');
    const list = (await t.request('GET', '/api/v1/auth/sessions', { token: a })).body.items as Array<{ id: string; device: string }>;
    const idOfB = list.find((s) => s.device === 'B')!.id;
    const tiaId = (await t.request('GET', '/api/v1/auth/sessions', { token: tia })).body.items[0].id;
    const foreign = await t.request('DELETE', `/api/v1/auth/sessions/${tiaId}`, { token: a });
    assert.equal(foreign.status, 404);
    assert.equal(await me(tia), 200);
    assert.equal((await t.request('DELETE', `/api/v1/auth/sessions/${idOfB}`, { token: a })).status, 204);
    assert.equal(await me(b), 401, 'revoked at once');
    assert.equal(await me(a), 200);
    assert.equal((await t.request('DELETE', `/api/v1/auth/sessions/${idOfB}`, { token: a })).status, 404, 'already gone');
    const audit = await t.app.services.db.all<{ action: string; user: string }>(`SELECT "action", "user" FROM "_audit" WHERE "action" = ${ph(1)}`, ['session.revoked']);
    assert.equal(audit.length, 1);
    // Revoking the current session is a logout.
    const own = (await t.request('GET', '/api/v1/auth/sessions', { token: a })).body.items.find((s: { current: boolean }) => s.current).id;
    assert.equal((await t.request('DELETE', `/api/v1/auth/sessions/${own}`, { token: a })).status, 204);
    assert.equal(await me(a), 401);
  });

  test('a session idle for longer than the idle limit is refused', async () => {
    const token = await login('tia@example.com', 'Idle');
    await t.app.services.db.run(`UPDATE "_sessions" SET "last_seen" = ${ph(1)} WHERE "user_agent" = ${ph(2)}`, [new Date(Date.now() - 8 * 24 * 3600 * 1000).toISOString(), 'Idle']);
    assert.equal(await me(token), 401);
  });

  /** How many rows of each table that keeps account data belong to `userId`. */
  const accountRows = async (userId: string) => {
    const counts: Record<string, number> = {};
    for (const table of ['_sessions', '_auth_tokens', '_mfa_totp', '_mfa_recovery_codes', '_oauth_identities']) {
      const row = await t.app.services.db.get<{ n: number }>(`SELECT COUNT(*) AS "n" FROM "${table}" WHERE "user_id" = ${ph(1)}`, [userId]);
      counts[table] = Number(row!.n);
    }
    return counts;
  };

  test('deleting a user ends their sessions and realtime connections at once; MFA, mail tokens and OAuth links go with the account; a rolled-back delete keeps all', async () => {
    const { id } = await t.app.services.auth.createUser({ email: 'gone@example.com', password: PASSWORD });
    const token = await login('gone@example.com');
    const enrol = await t.request('POST', '/api/v1/auth/mfa/totp', { token });
    const totp = new TOTP({ secret: Secret.fromBase32(enrol.body.secret) });
    assert.equal((await t.request('POST', '/api/v1/auth/mfa/totp/confirm', { token, body: { code: totp.generate() } })).status, 200);
    assert.equal((await t.request('POST', '/api/v1/auth/password-reset', { body: { email: 'gone@example.com' }, token: null })).status, 202);
    // What a sign-in through an OpenID provider links (oauth.test.ts walks the real flow).
    await t.app.services.db.run(`INSERT INTO "_oauth_identities" ("provider", "subject", "user_id", "email", "created") VALUES (${ph(1)}, ${ph(2)}, ${ph(3)}, ${ph(4)}, ${ph(5)})`, ['test', 'subject-1', id, 'gone@example.com', new Date().toISOString()]);
    const before = await accountRows(id);
    assert.ok(Object.values(before).every((n) => n > 0), JSON.stringify(before));
    const ws = await RealtimeTestClient.open(t.url, { token });
    const bystander = await login('tia@example.com');

    // In a batch that fails afterwards, the delete rolls back and takes nothing with it.
    const failed = await t.request('POST', '/api/v1/batch', { body: { operations: [{ action: 'delete', collection: 'users', id }, { action: 'delete', collection: 'users', id: 'nosuchuser12345' }] } });
    assert.equal(failed.status, 404, failed.text);
    assert.deepEqual(await accountRows(id), before);
    assert.equal(await me(token), 200);

    let closedAt = 0;
    const closed = ws.closed.then((how) => ((closedAt = Date.now()), how));
    assert.equal((await t.request('DELETE', `/api/v1/collections/users/records/${id}`)).status, 204);
    const answeredAt = Date.now();
    assert.deepEqual(await closed, { code: 4001, reason: 'session ended' });
    assert.ok(closedAt - answeredAt < 1000, 'closed with the delete, not at the periodic check');
    assert.equal(await me(token), 401);
    assert.deepEqual(Object.values(await accountRows(id)), [0, 0, 0, 0, 0]);
    const audit = await t.request('GET', `/api/v1/audit?filter=${encodeURIComponent(`action = 'user.deleted' && user = '${id}'`)}`);
    assert.equal(audit.body.items.length, 1);
    assert.equal(audit.body.items[0].email, 'gone@example.com');
    assert.equal(audit.body.items[0].actor, (await t.app.services.auth.userByEmail('admin@example.com'))!.id);
    assert.equal(await me(bystander), 200, 'other accounts keep their sessions');
  });

  test('CSRF: cookie-authenticated logout and revocation need an allowed Origin', async () => {
    const token = await login('sam@example.com', 'Cookie');
    const cookie = `galley_session=${token}`;
    const forged: Array<Record<string, string>> = [{ cookie, origin: EVIL }, { cookie }, { cookie, origin: 'null' }, { cookie, origin: `${APP_ORIGIN}.evil.example` }];
    for (const headers of forged) {
      const res = await t.request('POST', '/api/v1/auth/logout', { token: null, headers });
      assert.equal(res.status, 403, JSON.stringify(headers));
      assert.equal(res.body.code, 'forbidden');
    }
    assert.equal(await me(token), 200, 'the session survived every forged request');
    const sessions = (await t.request('GET', '/api/v1/auth/sessions', { token })).body.items;
    const id = sessions.find((s: { current: boolean }) => s.current).id;
    assert.equal((await t.request('DELETE', `/api/v1/auth/sessions/${id}`, { token: null, headers: { cookie, origin: EVIL } })).status, 403);
    assert.equal(await me(token), 200);
    assert.equal((await t.request('POST', '/api/v1/auth/logout', { token: null, headers: { cookie, origin: APP_ORIGIN } })).status, 204);
    assert.equal(await me(token), 401);
  });

  test('CSRF: registration, login and password reset from a foreign origin are refused and create nothing', async () => {
    const count = async () => Number((await t.app.services.db.get<{ n: number }>('SELECT COUNT(*) AS n FROM "users"'))!.n);
    const before = await count();
    const reg = await t.request('POST', '/api/v1/auth/register', { body: { email: 'csrf@example.com', password: PASSWORD }, token: null, headers: { origin: EVIL } });
    assert.equal(reg.status, 403);
    assert.equal(reg.headers.get('set-cookie'), null);
    assert.equal(await count(), before);
    assert.equal((await t.request('POST', '/api/v1/auth/password-reset', { body: { email: 'sam@example.com' }, token: null, headers: { origin: EVIL } })).status, 403);
    assert.equal((await t.request('POST', '/api/v1/auth/register', { body: { email: 'csrf@example.com', password: PASSWORD }, token: null, headers: { origin: APP_ORIGIN } })).status, 201);
  });

  test('CORS answers the allowed origin, with credentials, and nobody else', async () => {
    const preflight = (origin: string) =>
      t.request('OPTIONS', '/api/v1/auth/login', { token: null, headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });
    const ok = await preflight(APP_ORIGIN);
    assert.equal(ok.status, 204);
    assert.equal(ok.headers.get('access-control-allow-origin'), APP_ORIGIN);
    assert.equal(ok.headers.get('access-control-allow-credentials'), 'true');
    assert.match(ok.headers.get('access-control-allow-methods') ?? '', /POST/);
    assert.match(ok.headers.get('vary') ?? '', /origin/i);
    const evil = await preflight(EVIL);
    assert.equal(evil.headers.get('access-control-allow-origin'), null);
    assert.equal(evil.headers.get('access-control-allow-credentials'), null);
    const read = await t.request('GET', '/api/v1/health', { token: null, headers: { origin: APP_ORIGIN } });
    assert.equal(read.headers.get('access-control-allow-origin'), APP_ORIGIN);
    assert.match(read.headers.get('access-control-expose-headers') ?? '', /etag/i);
    assert.match(read.headers.get('access-control-expose-headers') ?? '', /idempotent-replayed/i, 'a page can tell a replayed create');
    assert.equal((await t.request('GET', '/api/v1/health', { token: null, headers: { origin: EVIL } })).headers.get('access-control-allow-origin'), null);
  });
});
