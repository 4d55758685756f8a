// Identity minimum: argon2id hashes, login/logout/me with Bearer or the galley_session cookie,
// sessions stored hashed and revoked at logout, CSRF on cookie writes, the superuser bootstrap.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { describeEachDialect } from '../src/testing/databases.ts';
import { ADMIN, createTestApp, type TestApp } from '../src/testing/test-app.ts';

await describeEachDialect('auth', (dialect) => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp(dialect, { GALLEY_ALLOWED_ORIGINS: 'https://app.example, https://admin.example' });
    await t.app.services.auth.createUser({ email: 'Carol@Example.com', password: 'carol has a password' });
  });
  after(async () => t?.close());

  test('the superuser from the environment exists once, with role admin and an argon2id hash', async () => {
    const row = await t.app.services.db.get<{ password_hash: string; roles: unknown }>(`SELECT "password_hash", "roles" FROM "users" WHERE "email" = ${dialect === 'postgres' ? '$1' : '?'}`, [ADMIN.email]);
    assert.match(row!.password_hash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    assert.equal(await t.app.services.auth.ensureSuperuser(ADMIN.email, 'another password'), 'exists');
  });

  test('login → token and httpOnly cookie; the user never carries a hash', async () => {
    const res = await t.request('POST', '/api/v1/auth/login', { body: { email: ' CAROL@example.com ', password: 'carol has a password' }, token: null });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.user.email, 'carol@example.com');
    assert.ok(!JSON.stringify(res.body).includes('argon2'));
    assert.equal(res.body.user.passwordHash, undefined);
    const cookie = res.headers.get('set-cookie')!;
    assert.match(cookie, /^galley_session=[A-Za-z0-9_-]{43};/);
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Lax/);
    assert.match(cookie, /Path=\//);
    assert.doesNotMatch(cookie, /Secure/, 'no Secure over plain http');
    const stored = await t.app.services.db.all<{ token_hash: string }>('SELECT "token_hash" FROM "_sessions"');
    assert.ok(stored.every((s) => s.token_hash !== res.body.token), 'tokens are stored hashed');
  });

  test('me with Bearer and with the cookie; 401 without', async () => {
    const login = await t.request('POST', '/api/v1/auth/login', { body: { email: 'carol@example.com', password: 'carol has a password' }, token: null });
    const bearer = await t.request('GET', '/api/v1/auth/me', { token: login.body.token });
    assert.equal(bearer.status, 200);
    assert.equal(bearer.body.user.email, 'carol@example.com');
    const viaCookie = await t.request('GET', '/api/v1/auth/me', { token: null, headers: { cookie: `galley_session=${login.body.token}` } });
    assert.equal(viaCookie.status, 200);
    const anon = await t.request('GET', '/api/v1/auth/me', { token: null });
    assert.equal(anon.status, 401);
    assert.equal(anon.body.code, 'unauthenticated');
  });

  test('logout revokes the session at once', async () => {
    const login = await t.request('POST', '/api/v1/auth/login', { body: { email: 'carol@example.com', password: 'carol has a password' }, token: null });
    const out = await t.request('POST', '/api/v1/auth/logout', { token: login.body.token });
    assert.equal(out.status, 204);
    const me = await t.request('GET', '/api/v1/auth/me', { token: login.body.token });
    assert.equal(me.status, 401);
    assert.equal((await t.request('POST', '/api/v1/auth/logout', { token: null })).status, 401);
  });

  test('CSRF: cookie-authenticated writes need an allowed Origin; Bearer needs none', async () => {
    const login = await t.request('POST', '/api/v1/auth/login', { body: ADMIN, token: null });
    const cookie = `galley_session=${login.body.token}`;
    const body = { name: 'csrf_check', fields: [] };
    const evil = await t.request('POST', '/api/v1/collections', { token: null, body, headers: { cookie, origin: 'https://evil.example' } });
    assert.equal(evil.status, 403);
    assert.equal(evil.body.code, 'forbidden');
    const noOrigin = await t.request('POST', '/api/v1/collections', { token: null, body, headers: { cookie } });
    assert.equal(noOrigin.status, 403);
    assert.equal((await t.request('GET', '/api/v1/collections/csrf_check')).status, 404, 'nothing was created');
    const good = await t.request('POST', '/api/v1/collections', { token: null, body, headers: { cookie, origin: 'https://admin.example' } });
    assert.equal(good.status, 201, good.text);
    const viaBearer = await t.request('POST', '/api/v1/collections', { body: { name: 'csrf_bearer', fields: [] }, headers: { origin: 'https://evil.example' } });
    assert.equal(viaBearer.status, 201, 'Bearer requests are not subject to CSRF');
  });

  test('CSRF: a page of the server itself (same Origin as Host, e.g. /admin) may write with its cookie', async () => {
    const login = await t.request('POST', '/api/v1/auth/login', { body: ADMIN, token: null });
    const cookie = `galley_session=${login.body.token}`;
    const own = new URL(t.url).host;
    const res = await t.request('POST', '/api/v1/collections', { token: null, body: { name: 'csrf_same_origin', fields: [] }, headers: { cookie, origin: `http://${own}` } });
    assert.equal(res.status, 201, res.text);
    // Another port on the same machine is another origin.
    const port = Number(new URL(t.url).port) + 1;
    const other = await t.request('POST', '/api/v1/collections', { token: null, body: { name: 'csrf_other_port', fields: [] }, headers: { cookie, origin: `http://127.0.0.1:${port}` } });
    assert.equal(other.status, 403);
    assert.equal((await t.request('GET', '/api/v1/collections/csrf_other_port')).status, 404, 'nothing was created');
  });

  test('a login with a foreign Origin is refused (login CSRF)', async () => {
    const res = await t.request('POST', '/api/v1/auth/login', { body: { email: 'carol@example.com', password: 'carol has a password' }, token: null, headers: { origin: 'https://evil.example' } });
    assert.equal(res.status, 403);
  });

  test('wrong password and unknown account answer the same', async () => {
    const wrong = await t.request('POST', '/api/v1/auth/login', { body: { email: 'carol@example.com', password: 'not her password' }, token: null });
    const unknown = await t.request('POST', '/api/v1/auth/login', { body: { email: 'nobody@example.com', password: 'not her password' }, token: null });
    assert.equal(wrong.status, 401);
    assert.equal(unknown.status, 401);
    assert.equal(wrong.body.detail, unknown.body.detail);
    assert.equal(wrong.body.code, 'invalid_credentials');
  });

  test('expired sessions are refused', async () => {
    const login = await t.request('POST', '/api/v1/auth/login', { body: { email: 'carol@example.com', password: 'carol has a password' }, token: null });
    await t.app.services.db.run(`UPDATE "_sessions" SET "expires" = ${dialect === 'postgres' ? '$1' : '?'}`, [new Date(Date.now() - 1000).toISOString()]);
    assert.equal((await t.request('GET', '/api/v1/auth/me', { token: login.body.token })).status, 401);
  });

  test('a superuser is required for collections: a plain user gets 403', async () => {
    const login = await t.request('POST', '/api/v1/auth/login', { body: { email: 'carol@example.com', password: 'carol has a password' }, token: null });
    const res = await t.request('GET', '/api/v1/collections', { token: login.body.token });
    assert.equal(res.status, 403);
  });
});
