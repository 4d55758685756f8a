// The first run (/api/v1/setup): with no superuser, GET says so and POST creates one and signs them
// in — only from this machine (a loopback peer, a loopback Host, no proxy headers) or with the
// one-time token the server logged at start. Afterwards GET is 404 and POST 409. SQLite and PostgreSQL.

import assert from 'node:assert/strict';
import http from 'node:http';
import { Writable } from 'node:stream';
import { after, before, test } from 'node:test';
import { pino } from 'pino';
import { describeEachDialect } from '../src/testing/databases.ts';
import { createTestApp, type TestApp } from '../src/testing/test-app.ts';
import { isLocalRequest } from '../src/core/first-run.ts';

const FIRST = { email: 'owner@example.com', password: 'a long and unusual passphrase' };
const PROXIED = { 'x-forwarded-for': '203.0.113.7' };

/** A logger that keeps every line, to read the setup token the server prints. */
function capturingLogger() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

function tokenIn(lines: string[]): string | undefined {
  return /setup token: ([A-Za-z0-9_-]{20,})/.exec(lines.join('\n'))?.[1];
}

/** A POST with a Host header of our choosing (fetch would send the URL's). */
function postWithHost(url: string, host: string, body: unknown): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}/api/v1/setup`, { method: 'POST', headers: { host, 'content-type': 'application/json' } }, (res) => {
      res.resume();
      resolve(res.statusCode!);
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

test('isLocalRequest: loopback peer, loopback Host, no proxy header', () => {
  const local = { remoteAddress: '127.0.0.1', host: '127.0.0.1:8090', forwarded: false };
  assert.equal(isLocalRequest(local), true);
  assert.equal(isLocalRequest({ ...local, remoteAddress: '::ffff:127.0.0.1', host: 'localhost:8090' }), true);
  assert.equal(isLocalRequest({ ...local, remoteAddress: '::1', host: '[::1]:8090' }), true);
  assert.equal(isLocalRequest({ ...local, remoteAddress: '192.168.1.5' }), false, 'a LAN peer');
  assert.equal(isLocalRequest({ ...local, forwarded: true }), false, 'a reverse proxy on this machine');
  assert.equal(isLocalRequest({ ...local, host: 'rebound.example:8090' }), false, 'DNS rebinding');
  assert.equal(isLocalRequest({ ...local, host: undefined }), false);
});

await describeEachDialect('first run', (dialect) => {
  let t: TestApp;
  let lines: string[];
  before(async () => {
    const capture = capturingLogger();
    lines = capture.lines;
    t = await createTestApp(dialect, {}, { superuser: false, logger: capture.logger });
  });
  after(async () => t?.close());

  test('no superuser: GET /setup says so, and the log holds a one-time setup token', async () => {
    const res = await t.request('GET', '/api/v1/setup', { token: null });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body, { needsSuperuser: true });
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.ok(tokenIn(lines), 'the token is in the log');
  });

  test('from elsewhere without the token, with a wrong one, or under a foreign Host: 403 and nothing created', async () => {
    const token = tokenIn(lines)!;
    const proxyHeaders: Record<string, string>[] = [PROXIED, { forwarded: 'for=203.0.113.7' }, { 'x-real-ip': '203.0.113.7' }];
    for (const headers of proxyHeaders) {
      const res = await t.request('POST', '/api/v1/setup', { body: FIRST, token: null, headers });
      assert.equal(res.status, 403, res.text);
      assert.equal(res.body.code, 'forbidden');
      assert.doesNotMatch(res.text, new RegExp(token), 'the token never appears in an answer');
    }
    // Its last character changed (a fixed 'x' would be no change for one token in 64).
    const wrongToken = `${token.slice(0, -1)}${token.endsWith('x') ? 'y' : 'x'}`;
    const wrong = await t.request('POST', '/api/v1/setup', { body: { ...FIRST, setupToken: wrongToken }, token: null, headers: PROXIED });
    assert.equal(wrong.status, 403);
    assert.equal(await postWithHost(t.url, 'rebound.example', FIRST), 403, 'a DNS-rebinding page');
    assert.equal((await t.request('GET', '/api/v1/setup', { token: null })).status, 200, 'still no superuser');
    assert.equal(await t.app.services.auth.userByEmail(FIRST.email), undefined);
  });

  test('a weak password or a bad email is validation_failed naming the field, and nothing is created', async () => {
    const res = await t.request('POST', '/api/v1/setup', { body: { email: 'not an email', password: 'short' }, token: null });
    assert.equal(res.status, 400, res.text);
    assert.equal(res.body.code, 'validation_failed');
    assert.deepEqual(res.body.errors.map((e: { field: string }) => e.field).sort(), ['email', 'password']);
    const common = await t.request('POST', '/api/v1/setup', { body: { email: FIRST.email, password: 'password123' }, token: null });
    assert.equal(common.status, 400, 'a common password is refused, as at registration');
    const extra = await t.request('POST', '/api/v1/setup', { body: { ...FIRST, roles: ['admin'] }, token: null });
    assert.equal(extra.status, 400, 'unknown members are refused');
    assert.equal((await t.request('GET', '/api/v1/setup', { token: null })).status, 200);
  });

  test('with the token from elsewhere: 201, a verified superuser, signed in (token and cookie); the audit log says how', async () => {
    const res = await t.request('POST', '/api/v1/setup', { body: { ...FIRST, setupToken: tokenIn(lines) }, token: null, headers: PROXIED });
    assert.equal(res.status, 201, res.text);
    assert.deepEqual(res.body.user.roles, ['admin']);
    assert.equal(res.body.user.verified, true);
    assert.equal(res.body.user.passwordHash, undefined);
    assert.match(res.headers.get('set-cookie') ?? '', /galley_session=[^;]+;.*HttpOnly/i);
    const me = await t.request('GET', '/api/v1/auth/me', { token: res.body.token });
    assert.equal(me.body.user.email, FIRST.email);
    const audit = await t.request('GET', `/api/v1/audit?filter=${encodeURIComponent("action = 'superuser.created'")}`, { token: res.body.token });
    assert.equal(audit.status, 200, audit.text);
    assert.equal(audit.body.items.length, 1);
    assert.deepEqual(audit.body.items[0].detail, { via: 'setup_token' });
  });

  test('once a superuser exists: GET is 404, and POST is 409 even from this machine', async () => {
    const get = await t.request('GET', '/api/v1/setup', { token: null });
    assert.equal(get.status, 404);
    assert.equal(get.body.code, 'not_found');
    const local = await t.request('POST', '/api/v1/setup', { body: { email: 'second@example.com', password: FIRST.password }, token: null });
    assert.equal(local.status, 409);
    assert.equal(local.body.code, 'conflict');
    assert.equal(await t.app.services.auth.userByEmail('second@example.com'), undefined);
  });
});

await describeEachDialect('first run from this machine', (dialect) => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp(dialect, {}, { superuser: false });
  });
  after(async () => t?.close());

  test('two racing local requests: exactly one creates the superuser, the other is 409', async () => {
    const attempts = await Promise.all(
      ['a@example.com', 'b@example.com'].map((email) => t.request('POST', '/api/v1/setup', { body: { email, password: FIRST.password }, token: null })),
    );
    assert.deepEqual(attempts.map((r) => r.status).sort(), [201, 409], attempts.map((r) => r.text).join('\n'));
    const users = await t.app.services.db.all(`SELECT "email" FROM "users"`);
    assert.equal(users.length, 1);
  });
});

test('a server started with a superuser logs no setup token, and GET /setup is 404', async () => {
  const capture = capturingLogger();
  const t = await createTestApp('sqlite', {}, { logger: capture.logger });
  try {
    assert.equal(tokenIn(capture.lines), undefined);
    assert.equal((await t.request('GET', '/api/v1/setup', { token: null })).status, 404);
  } finally {
    await t.close();
  }
});
