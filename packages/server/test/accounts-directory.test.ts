// The superusers' view of accounts: GET /auth/users (email, verified, roles; search by email,
// cursor paging) and DELETE /auth/users/:id/sessions, on SQLite and PostgreSQL.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { describeEachDialect } from '../src/testing/databases.ts';
import { createSignedInUser, createTestApp, type TestApp } from '../src/testing/test-app.ts';

await describeEachDialect('user directory', (dialect) => {
  let t: TestApp;
  let carol: { id: string; token: string };
  before(async () => {
    t = await createTestApp(dialect);
    carol = await createSignedInUser(t, 'carol@example.com');
    for (const name of ['dave', 'erin', 'frank_x', 'frankyx']) await t.app.services.auth.createUser({ email: `${name}@example.org`, password: 'a long enough password' });
  });
  after(async () => t?.close());

  test('superusers list users by email with verified and roles, search, and page by cursor', async () => {
    const all = await t.request('GET', '/api/v1/auth/users');
    assert.equal(all.status, 200, all.text);
    assert.deepEqual(all.body.items.map((u: { email: string }) => u.email), ['admin@example.com', 'carol@example.com', 'dave@example.org', 'erin@example.org', 'frank_x@example.org', 'frankyx@example.org']);
    const admin = all.body.items[0];
    assert.deepEqual([admin.roles, admin.verified, admin.passwordHash, admin.password_hash], [['admin'], true, undefined, undefined]);
    assert.equal(all.body.nextCursor, null);

    const search = await t.request('GET', '/api/v1/auth/users?search=FRANK_');
    assert.deepEqual(search.body.items.map((u: { email: string }) => u.email), ['frank_x@example.org'], '_ is a character, not a wildcard');

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await t.request('GET', `/api/v1/auth/users?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      assert.equal(page.status, 200, page.text);
      assert.ok(page.body.items.length <= 2);
      seen.push(...page.body.items.map((u: { email: string }) => u.email));
      cursor = page.body.nextCursor;
    } while (cursor);
    assert.equal(seen.length, 6);
  });

  test('bad queries and callers: 400, 401, 403', async () => {
    assert.equal((await t.request('GET', '/api/v1/auth/users?limit=0')).status, 400);
    assert.equal((await t.request('GET', '/api/v1/auth/users?limit=500')).status, 400);
    assert.equal((await t.request('GET', '/api/v1/auth/users?cursor=%21%21')).status, 400);
    assert.equal((await t.request('GET', '/api/v1/auth/users?sort=email')).status, 400);
    assert.equal((await t.request('GET', '/api/v1/auth/users', { token: null })).status, 401);
    assert.equal((await t.request('GET', '/api/v1/auth/users', { token: carol.token })).status, 403);
  });

  test('DELETE /auth/users/:id/sessions ends every session of that user, and is audited', async () => {
    assert.equal((await t.request('DELETE', `/api/v1/auth/users/${carol.id}/sessions`, { token: carol.token })).status, 403);
    assert.equal((await t.request('GET', '/api/v1/auth/me', { token: carol.token })).status, 200, 'a denied call changed nothing');
    assert.equal((await t.request('DELETE', '/api/v1/auth/users/nosuchuser/sessions')).status, 404);
    const res = await t.request('DELETE', `/api/v1/auth/users/${carol.id}/sessions`);
    assert.equal(res.status, 204, res.text);
    assert.equal((await t.request('GET', '/api/v1/auth/me', { token: carol.token })).status, 401);
    assert.equal((await t.request('GET', '/api/v1/auth/me')).status, 200, 'the superuser\'s own session is untouched');
    const audit = await t.request('GET', `/api/v1/audit?filter=${encodeURIComponent("action = 'sessions.revoked'")}`);
    assert.equal(audit.body.items[0].user, carol.id);
  });
});
