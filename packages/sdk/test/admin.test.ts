// The SDK's superuser parts against a live Galley on every database: the first run (galley.setup),
// accounts (galley.users), the audit log, the rule tester and check, and the metrics summary —
// with the failures a dashboard must branch on (403, 409, invalid_filter with its position).

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { describeEachDialect } from '../../server/src/testing/databases.ts';
import { createTestApp, type TestApp } from '../../server/src/testing/test-app.ts';
import { createClient, GalleyError, type GalleyClient } from '../src/index.ts';

const PASSWORD = 'a long and unusual passphrase';

async function rejectsWith(promise: Promise<unknown>, status: number, code: string): Promise<GalleyError> {
  const err = await promise.then(() => assert.fail(`expected ${code}`), (e: unknown) => e);
  assert.ok(err instanceof GalleyError, String(err));
  assert.deepEqual([err.status, err.code], [status, code], err.message);
  return err;
}

await describeEachDialect('sdk: first run', (dialect) => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp(dialect, {}, { superuser: false });
  });
  after(async () => t?.close());

  test('needsSuperuser, a refused weak password, then createSuperuser signs in; afterwards 409 and false', async () => {
    const galley = createClient(t.url);
    assert.equal(await galley.setup.needsSuperuser(), true);
    const weak = await rejectsWith(galley.setup.createSuperuser({ email: 'owner@example.com', password: 'short' }), 400, 'validation_failed');
    assert.equal(weak.fieldErrors[0]?.field, 'password');
    const session = await galley.setup.createSuperuser({ email: 'owner@example.com', password: PASSWORD });
    assert.deepEqual(session.user.roles, ['admin']);
    assert.equal((await galley.auth.me()).email, 'owner@example.com', 'the token is kept');
    assert.equal(await galley.setup.needsSuperuser(), false);
    await rejectsWith(createClient(t.url).setup.createSuperuser({ email: 'late@example.com', password: PASSWORD }), 409, 'conflict');
  });
});

await describeEachDialect('sdk: superuser parts', (dialect) => {
  let t: TestApp;
  let admin: GalleyClient;
  let userId: string;
  before(async () => {
    t = await createTestApp(dialect);
    admin = createClient(t.url);
    await admin.auth.setToken(t.adminToken);
    userId = (await t.app.services.auth.createUser({ email: 'zoe@example.com', password: PASSWORD })).id;
    await admin.collections.create({
      name: 'posts',
      fields: [{ name: 'title', type: 'text' }, { name: 'author', type: 'relation', collection: 'users' }],
      rules: { list: '', view: 'author = @request.auth.id', create: "@request.auth.id != ''", update: null, delete: null },
    });
  });
  after(async () => t?.close());

  test('users: list with search and cursor, set roles, set verified, revoke sessions', async () => {
    const page = await admin.users.list({ search: 'zoe' });
    assert.deepEqual(page.items.map((u) => [u.email, u.verified, u.roles]), [['zoe@example.com', false, []]]);
    const first = await admin.users.list({ limit: 1 });
    assert.ok(first.nextCursor);
    assert.equal((await admin.users.list({ limit: 1, cursor: first.nextCursor })).items[0]?.email, 'zoe@example.com');
    assert.deepEqual((await admin.users.setRoles(userId, ['editor'])).roles, ['editor']);
    const zoe = createClient(t.url);
    await zoe.auth.login('zoe@example.com', PASSWORD);
    await rejectsWith(zoe.users.list(), 403, 'forbidden');
    assert.equal((await admin.users.setVerified(userId, true)).verified, true);
    assert.equal((await zoe.auth.me()).verified, true, 'her session lives on');
    assert.equal((await admin.users.setVerified(userId, false)).verified, false);
    await rejectsWith(zoe.users.setVerified(userId, true), 403, 'forbidden');
    const bad = await rejectsWith(admin.users.setVerified(userId, 'yes' as unknown as boolean), 400, 'validation_failed');
    assert.deepEqual(bad.fieldErrors.map((f) => f.field), ['verified']);
    await rejectsWith(admin.users.setVerified('nosuchuser', true), 404, 'not_found');
    await admin.users.revokeSessions(userId);
    await rejectsWith(zoe.auth.me(), 401, 'unauthenticated');
    await rejectsWith(admin.users.revokeSessions('nosuchuser'), 404, 'not_found');
  });

  test('audit: the role change and the revocation are listed, filtered and paged', async () => {
    const changes = await admin.audit.list({ filter: admin.filter`action = ${'roles.changed'}` });
    assert.equal(changes.items.length, 1);
    assert.deepEqual(changes.items[0]!.detail, { before: [], after: ['editor'] });
    const one = await admin.audit.list({ limit: 1 });
    assert.equal(one.items.length, 1);
    assert.ok(one.nextCursor);
    await rejectsWith(admin.audit.list({ filter: 'nope = 1' }), 400, 'invalid_filter');
  });

  test('rules: test gives verdicts and traces; check resolves or rejects with the position', async () => {
    const mine = await admin.collection<{ id: string; title: string; author: string }>('posts').create({ title: 'x', author: userId });
    const result = await admin.collections.testRules('posts', { auth: { userId }, recordId: mine.id, rules: ['view', 'delete'] });
    assert.deepEqual(result.results.map((r) => [r.rule, r.allowed, r.reason]), [['view', true, 'expression'], ['delete', false, 'superusers_only']]);
    const trace = result.results[0]!.trace!;
    assert.ok(trace.kind === 'compare');
    assert.deepEqual([trace.left.value, trace.right.value], [userId, userId]);
    await admin.collections.checkRule('posts', "title ~ 'a'");
    await admin.collections.checkRule('posts', 'score > 1', [{ name: 'score', type: 'number' }]);
    const err = await rejectsWith(admin.collections.checkRule('posts', 'title = '), 400, 'invalid_filter');
    assert.equal(err.problem.position, 8);
  });

  test('metrics: a summary with totals, routes and gauges', async () => {
    const summary = await admin.metrics.summary();
    assert.ok(summary.requests.total > 0);
    assert.ok(summary.routes.some((r) => r.route === '/api/v1/collections/:name/rules/test'));
    assert.equal(typeof summary.gauges.galley_realtime_connections, 'number');
  });
});
