// The SDK's session and API key helpers against a live Galley: list and revoke sessions (the
// current one drops the kept token), create, list, use and revoke API keys, and their errors.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { describeEachDialect } from '../../server/src/testing/databases.ts';
import { ADMIN, createTestApp, type TestApp } from '../../server/src/testing/test-app.ts';
import { createClient, GalleyError } from '../src/index.ts';

const PASSWORD = 'a long enough password';

async function rejectsWith(promise: Promise<unknown>, status: number, code: string): Promise<void> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof GalleyError, String(err));
  assert.equal(err.status, status);
  assert.equal(err.code, code);
}

await describeEachDialect('sdk sessions and API keys', (dialect) => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp(dialect);
    await t.app.services.auth.createUser({ email: 'noa@example.com', password: PASSWORD });
  });
  after(async () => t?.close());

  test('sessions: list shows every device with the current one marked; revoke ends one at once', async () => {
    const laptop = createClient(t.url);
    const phone = createClient(t.url);
    await laptop.auth.login('noa@example.com', PASSWORD);
    await phone.auth.login('noa@example.com', PASSWORD);
    const sessions = await laptop.auth.sessions.list();
    assert.equal(sessions.length, 2);
    const mine = sessions.find((s) => s.current)!;
    const other = sessions.find((s) => !s.current)!;
    assert.ok(mine && other);
    assert.ok(!Number.isNaN(Date.parse(other.lastSeen)));
    await laptop.auth.sessions.revoke(other.id);
    await rejectsWith(phone.auth.me(), 401, 'unauthenticated');
    assert.equal(await phone.auth.token(), null, 'me() dropped the dead token');
    await rejectsWith(laptop.auth.sessions.revoke(other.id), 404, 'not_found');
    await laptop.auth.sessions.revoke(mine.id);
    assert.equal(await laptop.auth.token(), null, 'revoking the current session drops the kept token');
    await rejectsWith(laptop.auth.sessions.list(), 401, 'unauthenticated');
  });

  test('API keys: a superuser creates one, a script uses it, the list has no secret, revoke kills it', async () => {
    const admin = createClient(t.url);
    await admin.auth.login(ADMIN.email, ADMIN.password);
    const created = await admin.apiKeys.create({ name: 'sdk test', roles: ['admin'], expiresAt: new Date(Date.now() + 3_600_000).toISOString() });
    assert.match(created.secret, /^gk_/);
    const script = createClient(t.url);
    await script.auth.setToken(created.secret);
    assert.equal((await script.auth.me()).id, created.id);
    assert.ok((await script.collections.list()).some((c) => c.name === 'users'), 'an admin key is a superuser');
    const listed = (await admin.apiKeys.list()).find((k) => k.id === created.id)!;
    assert.equal(listed.name, 'sdk test');
    assert.ok(!('secret' in listed));
    await admin.apiKeys.revoke(created.id);
    await rejectsWith(script.collections.list(), 401, 'unauthenticated');
    await rejectsWith(admin.apiKeys.revoke(created.id), 404, 'not_found');
  });

  test('API keys: bad input and non-superusers are refused with the contract codes', async () => {
    const admin = createClient(t.url);
    await admin.auth.login(ADMIN.email, ADMIN.password);
    const err = await admin.apiKeys.create({ name: '', roles: ['Bad Role'] }).catch((e: unknown) => e);
    assert.ok(err instanceof GalleyError && err.code === 'validation_failed');
    assert.deepEqual(err.fieldErrors?.map((f) => f.field).sort(), ['name', 'roles']);
    const user = createClient(t.url);
    await user.auth.login('noa@example.com', PASSWORD);
    await rejectsWith(user.apiKeys.list(), 403, 'forbidden');
    await rejectsWith(createClient(t.url).apiKeys.create({ name: 'x', roles: [] }), 401, 'unauthenticated');
  });
});
