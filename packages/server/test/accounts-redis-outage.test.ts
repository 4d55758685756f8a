// With REDIS_URL, rate-limited endpoints answer `503 unavailable` with Retry-After — quickly, not
// hanging and not 500 — while Redis is down (refusing connections) or hung (connected, silent),
// and work again once it is back. A redis-server of the suite's own is stopped, never the shared one.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startRedisServer, type TestRedisServer } from '../src/testing/redis-server.ts';
import { createTestApp, type TestApp } from '../src/testing/test-app.ts';

const PASSWORD = 'a long and unusual passphrase';
const redis = await startRedisServer();
const skip = redis ? undefined : 'redis-server is not installed: Redis outage suite skipped';
if (skip && process.env.CI === 'true') throw new Error(`${skip} — but CI=true requires it`);

test('rate-limited endpoints while Redis is away: 503 with Retry-After, then back to normal', { skip }, async (ctx) => {
  const server = redis as TestRedisServer;
  const app: { t?: TestApp } = {};
  ctx.after(async () => {
    server.resume();
    await server.start().catch(() => {});
    await app.t?.close();
    await server.stop();
  });
  const t = (app.t = await createTestApp('sqlite', { GALLEY_RATE_LIMITS: 'on', REDIS_URL: server.url }));
  await t.app.services.auth.createUser({ email: 'ops@example.com', password: PASSWORD });
  const login = () => t.request('POST', '/api/v1/auth/login', { body: { email: 'ops@example.com', password: PASSWORD }, token: null });
  const timed = async <T>(fn: () => Promise<T>) => {
    const started = performance.now();
    const value = await fn();
    return { value, ms: performance.now() - started };
  };
  assert.equal((await login()).status, 200);

  await server.stop();
  for (const call of [
    login,
    () => t!.request('POST', '/api/v1/auth/register', { body: { email: 'new@example.com', password: PASSWORD }, token: null }),
    () => t!.request('POST', '/api/v1/auth/password-reset', { body: { email: 'ops@example.com' }, token: null }),
  ]) {
    const { value: res, ms } = await timed(call);
    assert.equal(res.status, 503, res.text);
    assert.equal(res.body.code, 'unavailable');
    assert.equal(res.headers.get('retry-after'), '5');
    assert.doesNotMatch(res.text, /redis|ECONNREFUSED|127\.0\.0\.1/i, 'no dependency name or address in the body');
    assert.ok(ms < 1000, `answered in ${ms.toFixed(0)} ms`);
  }
  assert.equal((await t.app.services.auth.userByEmail('new@example.com')), undefined, 'the refused registration created nothing');
  assert.equal((await t.request('GET', '/api/v1/health', { token: null })).status, 200, 'endpoints without limits are unaffected');

  await server.start();
  await waitFor(async () => (await login()).status === 200, 'login after Redis is back');

  // Hung: the connection stays open and nothing answers. The command timeout cuts it off.
  server.pause();
  const { value: hung, ms } = await timed(login);
  assert.equal(hung.status, 503, hung.text);
  assert.equal(hung.headers.get('retry-after'), '5');
  assert.ok(ms < 3000, `answered in ${ms.toFixed(0)} ms`);
  server.resume();
  await waitFor(async () => (await login()).status === 200, 'login after Redis answers again');
});

async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
