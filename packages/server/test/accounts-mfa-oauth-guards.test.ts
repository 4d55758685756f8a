// Rate limits and the audit trail of the second factor and of OAuth sign-in: wrong codes count
// per account and per client address (429 with Retry-After, a delay rather than a lockout), OAuth
// starts and failed callbacks per client address; enrolment, confirmation, turning MFA off, new
// recovery codes, a recovery code's use, OAuth sign-ins (ok and failed) and account linking are audited.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Secret, TOTP } from 'otpauth';
import { TestBrowser } from '../src/testing/browser.ts';
import { describeEachDialect } from '../src/testing/databases.ts';
import { signInAt, startOidcProvider, type TestOidcProvider } from '../src/testing/oidc-provider.ts';
import { createTestApp, freePort, type TestApp } from '../src/testing/test-app.ts';

const PASSWORD = 'a long enough password';
const STEP_MS = 30_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

await describeEachDialect('MFA rate limits and audit', (dialect) => {
  let t: TestApp;
  let users = 0;
  before(async () => {
    t = await createTestApp(dialect, { GALLEY_RATE_LIMITS: 'on' });
  });
  after(async () => t?.close());

  const login = (email: string) => t.request('POST', '/api/v1/auth/login', { body: { email, password: PASSWORD }, token: null });
  const verify = (ticket: string, code: string) => t.request('POST', '/api/v1/auth/mfa/verify', { body: { ticket, code }, token: null });
  const auditOf = async (userId: string) =>
    (await t.request('GET', `/api/v1/audit?sort=created&limit=200&filter=${encodeURIComponent(`user = '${userId}'`)}`)).body.items as Array<{ action: string; detail: any; ip: string; created: string }>;

  /** A user with TOTP on (signed in before it was): id, email, token, the app's secret and the recovery codes. */
  async function userWithMfa() {
    const email = `guard-${++users}@example.com`;
    const { id } = await t.app.services.auth.createUser({ email, password: PASSWORD });
    const token = (await login(email)).body.token as string;
    const enrol = await t.request('POST', '/api/v1/auth/mfa/totp', { token });
    const totp = new TOTP({ secret: Secret.fromBase32(enrol.body.secret) });
    const confirm = await t.request('POST', '/api/v1/auth/mfa/totp/confirm', { token, body: { code: totp.generate() } });
    assert.equal(confirm.status, 200, confirm.text);
    return { id, email, token, totp, recoveryCodes: confirm.body.recoveryCodes as string[] };
  }

  test('enrolment, confirmation, a wrong code, a recovery code, new codes and turning it off are audited', async () => {
    const user = await userWithMfa();
    const ticket = (await login(user.email)).body.ticket as string;
    assert.equal((await verify(ticket, 'aaaaa-aaaaa')).status, 401);
    assert.equal((await verify(ticket, user.recoveryCodes[0]!)).status, 200);
    const replaced = await t.request('POST', '/api/v1/auth/mfa/recovery-codes', { token: user.token, body: { code: user.recoveryCodes[1] } });
    assert.equal(replaced.status, 200);
    const off = await t.request('DELETE', '/api/v1/auth/mfa/totp', { token: user.token, body: { code: user.totp.generate({ timestamp: Date.now() + STEP_MS }) } });
    assert.equal(off.status, 204);

    const entries = (await auditOf(user.id)).filter((e) => e.action.startsWith('mfa.') || e.action === 'login.succeeded');
    const expected = [
      'login.succeeded', 'mfa.enrolment_started', 'mfa.enabled', 'mfa.failed', 'mfa.recovery_code_used', 'login.succeeded',
      'mfa.recovery_code_used', 'mfa.recovery_codes_replaced', 'mfa.disabled',
    ];
    assert.equal(entries.length, expected.length, entries.map((e) => e.action).join(', '));
    // Entries written in the same millisecond (one request's) have no order between them under
    // sort=created: compare each run of equal times as a set.
    for (let i = 0; i < entries.length; ) {
      let j = i;
      while (j < entries.length && entries[j]!.created === entries[i]!.created) j++;
      assert.deepEqual(entries.slice(i, j).map((e) => e.action).sort(), expected.slice(i, j).sort(), `entries ${i}–${j - 1}`);
      i = j;
    }
    const used = entries.filter((e) => e.action === 'mfa.recovery_code_used').map((e) => e.detail);
    assert.deepEqual(entries.find((e) => e.action === 'mfa.failed')!.detail, { purpose: 'sign_in' });
    assert.deepEqual(used, [{ purpose: 'sign_in', left: 9 }, { purpose: 'regenerate', left: 10 }], 'what is left: then the fresh codes');
    assert.equal(entries.filter((e) => e.action === 'login.succeeded')[1]!.detail.method, 'mfa');
    assert.ok(entries.every((e) => /127\.0\.0\.1/.test(e.ip)), 'with the client address');
  });

  test('wrong codes for one account: after 5 a delay (429 with Retry-After) even for the right code, then back to normal', async () => {
    const user = await userWithMfa();
    let ticket = (await login(user.email)).body.ticket as string;
    for (let i = 0; i < 5; i++) assert.equal((await verify(ticket, `wrong-code${i}`)).status, 401);
    ticket = (await login(user.email)).body.ticket as string;
    const limited = await verify(ticket, user.recoveryCodes[0]!);
    assert.equal(limited.status, 429);
    assert.equal(limited.body.code, 'rate_limited');
    assert.equal(limited.headers.get('retry-after'), '1');
    // Every path that checks a code waits alike: a signed-in session cannot guess either.
    assert.equal((await t.request('DELETE', '/api/v1/auth/mfa/totp', { token: user.token, body: { code: user.recoveryCodes[0] } })).status, 429);
    assert.equal((await t.request('GET', '/api/v1/auth/mfa', { token: user.token })).body.recoveryCodesLeft, 10, 'a refused attempt uses nothing up');
    assert.ok((await auditOf(user.id)).some((e) => e.action === 'mfa.rate_limited'), 'the delay is audited');
    await sleep(1100);
    assert.equal((await verify(ticket, user.recoveryCodes[0]!)).status, 200, 'a delay, not a lockout');
  });

  test('wrong confirmation codes count too', async () => {
    const email = `guard-${++users}@example.com`;
    await t.app.services.auth.createUser({ email, password: PASSWORD });
    const token = (await login(email)).body.token as string;
    await t.request('POST', '/api/v1/auth/mfa/totp', { token });
    for (let i = 0; i < 5; i++) assert.equal((await t.request('POST', '/api/v1/auth/mfa/totp/confirm', { token, body: { code: '000000' } })).status, 401);
    const limited = await t.request('POST', '/api/v1/auth/mfa/totp/confirm', { token, body: { code: '000000' } });
    assert.equal(limited.status, 429);
    assert.ok(limited.headers.get('retry-after'));
  });

  test('wrong codes from one client address across accounts: a delay after 20, for an account that never failed too', async () => {
    let limitedAfter = 0;
    let attempts = 0;
    // 4 wrong codes per account stay under the account limit: only the client counter can stop them.
    while (!limitedAfter && attempts < 30) {
      const user = await userWithMfa();
      for (let i = 0; i < 4 && !limitedAfter; i++) {
        attempts++;
        const res = await t.request('DELETE', '/api/v1/auth/mfa/totp', { token: user.token, body: { code: `wrong-code${i}` } });
        if (res.status === 429) limitedAfter = attempts;
        else assert.equal(res.status, 401);
      }
    }
    assert.ok(limitedAfter > 0 && limitedAfter <= 21, `limited after ${limitedAfter} attempts`);
    const fresh = await userWithMfa().catch((err: Error) => err);
    assert.ok(fresh instanceof Error && /429/.test(fresh.message), 'even a confirmation from this address waits');
  });
});

await describeEachDialect('OAuth rate limits and audit', (dialect) => {
  let t: TestApp;
  let idp: TestOidcProvider;
  let base: string;
  before(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    idp = await startOidcProvider(`${base}/api/v1/auth/oauth/test/callback`);
    t = await createTestApp(dialect, {
      PORT: String(port),
      GALLEY_RATE_LIMITS: 'on',
      GALLEY_PUBLIC_URL: base,
      GALLEY_OAUTH_TEST_ISSUER: idp.issuer,
      GALLEY_OAUTH_TEST_CLIENT_ID: idp.clientId,
      GALLEY_OAUTH_TEST_CLIENT_SECRET: idp.clientSecret,
    });
  });
  after(async () => {
    await t?.close();
    await idp?.close();
  });

  const audit = async (action: string) =>
    (await t.request('GET', `/api/v1/audit?sort=created&filter=${encodeURIComponent(`action = '${action}'`)}`)).body.items as Array<{ user: string | null; email: string | null; detail: any }>;

  async function signIn(browser: TestBrowser, account: string): Promise<Response> {
    const start = await browser.request(`${base}/api/v1/auth/oauth/test`);
    assert.equal(start.status, 302, await start.text());
    return browser.request(await signInAt(browser, start.headers.get('location')!, account, idp));
  }

  test('sign-ins, new accounts and links to existing ones are audited; failed callbacks too', async () => {
    idp.accounts.set('ines', { email: 'ines@example.com', email_verified: true });
    assert.equal((await signIn(new TestBrowser(), 'ines')).status, 302);
    const jon = await t.app.services.auth.createUser({ email: 'jon@example.com', password: PASSWORD, verified: true });
    idp.accounts.set('jon', { email: 'jon@example.com', email_verified: true });
    assert.equal((await signIn(new TestBrowser(), 'jon')).status, 302);

    const linked = await audit('oauth.linked');
    assert.deepEqual(linked.map((e) => [e.email, e.detail]), [['ines@example.com', { provider: 'test', newAccount: true }], ['jon@example.com', { provider: 'test', newAccount: false }]]);
    assert.equal(linked[1]!.user, jon.id);
    const registered = (await audit('user.registered')).filter((e) => e.detail?.method === 'oauth');
    assert.deepEqual(registered.map((e) => e.email), ['ines@example.com']);
    const succeeded = (await audit('login.succeeded')).filter((e) => e.detail.method === 'oauth:test');
    assert.deepEqual(succeeded.map((e) => e.user), [linked[0]!.user, jon.id]);

    // A callback with no flow in this browser (login CSRF), and one whose email the provider does not vouch for.
    const forged = await new TestBrowser().request(`${base}/api/v1/auth/oauth/test/callback?code=x&state=y`);
    assert.equal(forged.status, 400);
    idp.accounts.set('kim', { email: 'kim@example.com', email_verified: false });
    assert.equal((await signIn(new TestBrowser(), 'kim')).status, 403);
    const failed = (await audit('login.failed')).filter((e) => e.detail?.method === 'oauth');
    assert.deepEqual(failed.map((e) => e.detail), [{ method: 'oauth', provider: 'test', code: 'oauth_failed' }, { method: 'oauth', provider: 'test', code: 'forbidden' }]);
  });

  test('starts and failed callbacks from one client address: a delay after 30, callbacks wait too', async () => {
    const browser = new TestBrowser();
    let limitedAt = 0;
    for (let i = 1; i <= 40 && !limitedAt; i++) {
      const res = await browser.request(`${base}/api/v1/auth/oauth/test`);
      if (res.status === 429) {
        limitedAt = i;
        assert.equal(((await res.json()) as { code: string }).code, 'rate_limited');
        assert.ok(Number(res.headers.get('retry-after')) >= 1);
      } else assert.equal(res.status, 302);
    }
    // The first test counted 3 starts and 2 failed callbacks: 30 in all before the delay.
    assert.equal(limitedAt, 30 - 5 + 1);
    const callback = await browser.request(`${base}/api/v1/auth/oauth/test/callback?code=x&state=y`);
    assert.equal(callback.status, 429);
    assert.equal(browser.cookie(base, 'galley_session'), undefined);
  });
});
