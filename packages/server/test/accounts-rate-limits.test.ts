// Rate limits on the account endpoints: `429 rate_limited` with Retry-After, per account and per
// client, as a progressive delay (never a lockout); with REDIS_URL shared by two instances.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { delayAfter, POLICIES } from '../src/core/rate-limit.ts';
import { describeEachDialect } from '../src/testing/databases.ts';
import { Redis } from 'ioredis';
import { redisSkipReason, REDIS_TEST_URL, uniqueRedisPrefix } from '../src/testing/redis.ts';
import { createTestApp, type TestApp } from '../src/testing/test-app.ts';

const PASSWORD = 'a long and unusual passphrase';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('the delay doubles past the free attempts and stops at the cap', () => {
  const p = POLICIES.loginAccount;
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 8].map((n) => delayAfter(p, n)), [0, 0, 0, 0, 1000, 2000, 4000, 8000]);
  assert.equal(delayAfter(p, 1000), p.maxDelayMs);
});

await describeEachDialect('rate limits', (dialect) => {
  let t: TestApp;
  const login = (email: string, password: string) => t.request('POST', '/api/v1/auth/login', { body: { email, password }, token: null });
  before(async () => {
    t = await createTestApp(dialect, { GALLEY_RATE_LIMITS: 'on' });
    await t.app.services.auth.createUser({ email: 'lena@example.com', password: PASSWORD });
  });
  after(async () => t?.close());

  test('failed logins of one account: a delay after 5, then 429 with Retry-After, then back to normal', async () => {
    for (let i = 0; i < 5; i++) assert.equal((await login('lena@example.com', `wrong guess ${i}`)).status, 401);
    const limited = await login('LENA@example.com', PASSWORD);
    assert.equal(limited.status, 429, 'even the right password waits: the answer must not tell');
    assert.equal(limited.body.code, 'rate_limited');
    assert.equal(limited.headers.get('retry-after'), '1');
    const audit = await t.app.services.db.all<{ action: string }>(`SELECT "action" FROM "_audit" WHERE "email" = ${dialect === 'postgres' ? '$1' : '?'}`, ['lena@example.com']);
    assert.equal(audit.filter((a) => a.action === 'login.failed').length, 5);
    assert.equal(audit.filter((a) => a.action === 'login.rate_limited').length, 1, 'the lockout is audited');
    await sleep(1100);
    assert.equal((await login('lena@example.com', PASSWORD)).status, 200, 'a delay, not a lockout');
    assert.equal((await login('lena@example.com', 'wrong again')).status, 401, 'a success clears the account counter');
  });

  test('unknown accounts are limited alike (the limit says nothing about existence)', async () => {
    for (let i = 0; i < 5; i++) assert.equal((await login('ghost@example.com', `guess ${i}`)).status, 401);
    assert.equal((await login('ghost@example.com', 'guess 6')).status, 429);
  });

  test('mail requests for one address: 3, then 429 — for unknown addresses too', async () => {
    for (const email of ['lena@example.com', 'nobody@example.com']) {
      for (let i = 0; i < 3; i++) assert.equal((await t.request('POST', '/api/v1/auth/password-reset', { body: { email }, token: null })).status, 202);
      const limited = await t.request('POST', '/api/v1/auth/password-reset', { body: { email }, token: null });
      assert.equal(limited.status, 429, email);
      assert.ok(Number(limited.headers.get('retry-after')) >= 30);
    }
  });

  test('registrations from one client: 10, then 429 (a taken email counts too)', async () => {
    let status = 0;
    let n = 0;
    while (n < 12 && (status = (await t.request('POST', '/api/v1/auth/register', { body: { email: n % 2 ? 'lena@example.com' : `new${n}@example.com`, password: PASSWORD }, token: null })).status) !== 429) n++;
    assert.equal(status, 429);
    assert.equal(n, 10);
  });
});

const redisSkip = await redisSkipReason();
if (redisSkip) test(`rate limits shared through Redis: ${redisSkip}`, { skip: redisSkip }, () => {});
else {
  await describeEachDialect('rate limits shared through Redis by two instances', (dialect) => {
    let a: TestApp;
    let b: TestApp;
    const prefix = uniqueRedisPrefix();
    before(async () => {
      const env = { GALLEY_RATE_LIMITS: 'on', REDIS_URL: REDIS_TEST_URL, GALLEY_REDIS_PREFIX: prefix };
      [a, b] = await Promise.all([createTestApp(dialect, env), createTestApp(dialect, env)]);
    });
    after(async () => {
      await Promise.all([a?.close(), b?.close()]);
      const redis = new Redis(REDIS_TEST_URL);
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
    });

    test('failures on either instance count together, and the delay holds on both', async () => {
      const login = (t: TestApp, i: number) => t.request('POST', '/api/v1/auth/login', { body: { email: 'shared@example.com', password: `guess ${i}` }, token: null });
      for (let i = 0; i < 5; i++) assert.equal((await login(i % 2 ? a : b, i)).status, 401);
      assert.equal((await login(a, 6)).status, 429);
      const onB = await login(b, 7);
      assert.equal(onB.status, 429);
      assert.equal(onB.headers.get('retry-after'), '1');
    });
  });
}
