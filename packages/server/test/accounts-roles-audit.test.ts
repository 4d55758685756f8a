// Roles (only superusers set them; rules see them as @request.auth.roles; a change revokes the
// user's sessions), the verified flag set by a superuser (ends no session), and the audit log at
// GET /api/v1/audit (superusers; filter, sort, cursor).

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { describeEachDialect } from '../src/testing/databases.ts';
import { createTestApp, type TestApp } from '../src/testing/test-app.ts';

const PASSWORD = 'a long and unusual passphrase';

await describeEachDialect('roles and the audit log', (dialect) => {
  let t: TestApp;
  let eve: { id: string };
  const login = async (email: string) => (await t.request('POST', '/api/v1/auth/login', { body: { email, password: PASSWORD }, token: null, headers: { 'user-agent': 'AuditAgent/1.0' } })).body.token as string;
  before(async () => {
    t = await createTestApp(dialect);
    eve = await t.app.services.auth.createUser({ email: 'eve@example.com', password: PASSWORD });
    const res = await t.request('POST', '/api/v1/collections', {
      body: { name: 'articles', fields: [{ name: 'title', type: 'text' }], rules: { list: '', view: '', create: "@request.auth.roles ?= 'editor'", update: null, delete: null } },
    });
    assert.equal(res.status, 201, res.text);
  });
  after(async () => t?.close());

  test('only superusers set roles; the rule @request.auth.roles ?= \'editor\' follows them; the change revokes sessions', async () => {
    const before = await login('eve@example.com');
    assert.equal((await t.request('POST', '/api/v1/collections/articles/records', { body: { title: 'x' }, token: before })).status, 403);
    const self = await t.request('PATCH', `/api/v1/auth/users/${eve.id}`, { body: { roles: ['admin'] }, token: before });
    assert.equal(self.status, 403, 'a user cannot give themself a role');
    assert.deepEqual((await t.request('GET', '/api/v1/auth/me', { token: before })).body.user.roles, []);
    for (const roles of ['editor', [42], ['Editor!'], Array.from({ length: 21 }, (_, i) => `r${i}`)]) {
      const bad = await t.request('PATCH', `/api/v1/auth/users/${eve.id}`, { body: { roles } });
      assert.equal(bad.status, 400, JSON.stringify(roles));
      assert.equal(bad.body.code, 'validation_failed');
    }
    assert.equal((await t.request('PATCH', '/api/v1/auth/users/nosuchuser', { body: { roles: ['editor'] } })).status, 404);
    const set = await t.request('PATCH', `/api/v1/auth/users/${eve.id}`, { body: { roles: ['editor', 'editor'] } });
    assert.equal(set.status, 200, set.text);
    assert.deepEqual(set.body.user.roles, ['editor']);
    assert.equal((await t.request('GET', '/api/v1/auth/me', { token: before })).status, 401, 'rotation: the old session is gone');
    const after = await login('eve@example.com');
    assert.equal((await t.request('POST', '/api/v1/collections/articles/records', { body: { title: 'by an editor' }, token: after })).status, 201);
    assert.equal((await t.request('GET', '/api/v1/collections', { token: after })).status, 403, 'editor is not admin');
  });

  test('GET /audit: superusers only, with time, user, client address and user agent', async () => {
    await t.request('POST', '/api/v1/auth/login', { body: { email: 'eve@example.com', password: 'not the password' }, token: null, headers: { 'user-agent': 'AuditAgent/1.0' } });
    const eveToken = await login('eve@example.com');
    assert.equal((await t.request('GET', '/api/v1/audit', { token: eveToken })).status, 403);
    assert.equal((await t.request('GET', '/api/v1/audit', { token: null })).status, 401);
    const failed = await t.request('GET', `/api/v1/audit?filter=${encodeURIComponent(`action = 'login.failed' && email = 'eve@example.com'`)}`);
    assert.equal(failed.status, 200, failed.text);
    assert.equal(failed.headers.get('cache-control'), 'private, no-store');
    assert.equal(failed.body.items.length, 1);
    const entry = failed.body.items[0];
    assert.equal(entry.user, eve.id);
    assert.equal(entry.user_agent, 'AuditAgent/1.0');
    assert.match(entry.ip, /127\.0\.0\.1/);
    assert.ok(!Number.isNaN(Date.parse(entry.created)));
    const roles = await t.request('GET', `/api/v1/audit?filter=${encodeURIComponent(`action = 'roles.changed'`)}&expand=user`);
    assert.equal(roles.body.items.length, 1);
    assert.deepEqual(roles.body.items[0].detail, { before: [], after: ['editor'] });
    assert.equal(roles.body.items[0].expand.user.email, 'eve@example.com');
    assert.ok(roles.body.items[0].actor, 'the superuser who did it');
  });

  test('GET /audit pages by cursor and sorts like records; bad filters are invalid_filter', async () => {
    const all: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { items: Array<{ id: string; created: string }>; nextCursor: string | null } } = await t.request('GET', `/api/v1/audit?limit=2&sort=created${cursor ? `&cursor=${cursor}` : ''}`);
      all.push(...page.body.items.map((i) => i.created));
      cursor = page.body.nextCursor;
    } while (cursor);
    assert.ok(all.length >= 5);
    assert.deepEqual(all, [...all].sort(), 'oldest first');
    const count = await t.request('GET', '/api/v1/audit?count=true&limit=1');
    assert.equal(count.body.totalItems, all.length);
    const bad = await t.request('GET', `/api/v1/audit?filter=${encodeURIComponent('password_hash = 1')}`);
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, 'invalid_filter');
    assert.equal((await t.request('GET', '/api/v1/audit?cursor=forged')).body.code, 'bad_request');
  });

  test('entries older than the retention are pruned', async () => {
    await t.app.services.db.run(`UPDATE "_audit" SET "created" = ${dialect === 'postgres' ? '$1' : '?'} WHERE "action" = 'logout' OR "action" = 'login.failed'`, [new Date(Date.now() - 100 * 86_400_000).toISOString()]);
    const pruned = await t.app.services.auth.audit.prune(90);
    assert.ok(pruned >= 1);
    const left = await t.request('GET', `/api/v1/audit?filter=${encodeURIComponent(`action = 'login.failed'`)}`);
    assert.equal(left.body.items.length, 0);
  });

  test('a superuser marks a user verified and unverified: audited, sessions kept; bad bodies change nothing', async () => {
    const token = await login('eve@example.com');
    const me = async () => (await t.request('GET', '/api/v1/auth/me', { token })).body.user;
    assert.equal((await me()).verified, false);
    const self = await t.request('PATCH', `/api/v1/auth/users/${eve.id}`, { body: { verified: true }, token });
    assert.deepEqual([self.status, self.body.code], [403, 'forbidden'], 'a user cannot verify themself');
    const bodies: Array<[unknown, string[]]> = [
      [{ verified: 'yes' }, ['verified']],
      [{ verified: 1 }, ['verified']],
      [{ verified: null }, ['verified']],
      [{}, ['body']],
      [{ verified: true, email: 'x@example.com' }, ['email']],
      [{ verified: 'no', roles: 'editor' }, ['roles', 'verified']],
    ];
    for (const [body, fields] of bodies) {
      const bad = await t.request('PATCH', `/api/v1/auth/users/${eve.id}`, { body });
      assert.deepEqual([bad.status, bad.body.code], [400, 'validation_failed'], JSON.stringify(body));
      assert.deepEqual(bad.body.errors.map((e: { field: string }) => e.field).sort(), fields, JSON.stringify(body));
    }
    assert.equal((await me()).verified, false, 'nothing changed');
    assert.equal((await t.request('PATCH', '/api/v1/auth/users/nosuchuser', { body: { verified: true } })).status, 404);

    const verified = await t.request('PATCH', `/api/v1/auth/users/${eve.id}`, { body: { verified: true } });
    assert.equal(verified.status, 200, verified.text);
    assert.deepEqual([verified.body.user.verified, verified.body.user.roles], [true, ['editor']], 'roles untouched');
    assert.equal((await me()).verified, true, 'the session lives on and sees the change');
    const unverified = await t.request('PATCH', `/api/v1/auth/users/${eve.id}`, { body: { verified: false } });
    assert.equal(unverified.body.user.verified, false);
    assert.equal((await me()).verified, false);

    // Entries of one millisecond have no order under sort=created: compare as a set.
    const entries = await t.request('GET', `/api/v1/audit?filter=${encodeURIComponent(`action = 'verified.changed'`)}`);
    // (Keys written in one order: PostgreSQL's jsonb hands them back in its own.)
    const asText = (user: string, detail: { before: boolean; after: boolean }) => JSON.stringify([user, { before: detail.before, after: detail.after }]);
    assert.deepEqual(entries.body.items.map((e: { user: string; detail: { before: boolean; after: boolean } }) => asText(e.user, e.detail)).sort(), [
      JSON.stringify([eve.id, { before: false, after: true }]),
      JSON.stringify([eve.id, { before: true, after: false }]),
    ].sort());
    assert.ok(entries.body.items.every((e: { actor: string | null }) => e.actor && e.actor !== eve.id), 'the superuser is the actor');

    // Both at once: the roles change still ends the sessions.
    const both = await t.request('PATCH', `/api/v1/auth/users/${eve.id}`, { body: { roles: [], verified: true } });
    assert.deepEqual([both.status, both.body.user.roles, both.body.user.verified], [200, [], true]);
    assert.equal((await t.request('GET', '/api/v1/auth/me', { token })).status, 401, 'roles changed: sessions revoked');
  });
});
