// GALLEY_TRUST_PROXY: off by default (X-Forwarded-For is forgeable, so a client could pick its own
// rate-limit key); with a trusted proxy the client address of rate limits, sessions and the audit
// log is the forwarded one.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../src/config/config.ts';
import { createTestApp, type TestApp } from '../src/testing/test-app.ts';

test('GALLEY_TRUST_PROXY parses true, false, a hop count and address/CIDR lists; anything else is a ConfigError', () => {
  const parse = (value?: string) => loadConfig(value === undefined ? {} : { GALLEY_TRUST_PROXY: value }, [], '/').trustProxy;
  assert.equal(parse(), false);
  assert.equal(parse('false'), false);
  assert.equal(parse('true'), true);
  assert.equal(parse('2'), 2);
  assert.deepEqual(parse('127.0.0.1, 10.0.0.0/8,::1,fd00::/8'), ['127.0.0.1', '10.0.0.0/8', '::1', 'fd00::/8']);
  for (const bad of ['0', '99', 'proxy.example', '10.0.0.0/33', '1.2.3.4/8/8', 'yes']) assert.throws(() => parse(bad), ConfigError, bad);
});

for (const trusted of [false, true]) {
  test(`X-Forwarded-For ${trusted ? 'is the client address behind a trusted proxy' : 'is ignored by default'}`, async (ctx) => {
    const t: TestApp = await createTestApp('sqlite', trusted ? { GALLEY_TRUST_PROXY: '127.0.0.1' } : {});
    ctx.after(() => t.close());
    await t.app.services.auth.createUser({ email: 'pia@example.com', password: 'a long enough password' });
    const res = await t.request('POST', '/api/v1/auth/login', { body: { email: 'pia@example.com', password: 'not it at all' }, token: null, headers: { 'x-forwarded-for': '203.0.113.7' } });
    assert.equal(res.status, 401);
    const audit = await t.request('GET', `/api/v1/audit?filter=${encodeURIComponent(`action = 'login.failed'`)}`);
    assert.equal(audit.body.items[0].ip, trusted ? '203.0.113.7' : '127.0.0.1');
  });
}
