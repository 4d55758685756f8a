// OAuth / OpenID Connect sign-in against a real provider (oidc-provider on 127.0.0.1), walked
// like a browser: Galley → provider sign-in and consent pages → callback → redirect. Then what
// an attacker would try: a foreign state, a reused code, a swapped nonce, open redirects, an email
// the provider does not vouch for. Each gets its documented error and leaves no session behind.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Secret, TOTP } from 'otpauth';
import { TestBrowser } from '../src/testing/browser.ts';
import { describeEachDialect } from '../src/testing/databases.ts';
import { signInAt, startOidcProvider, type TestOidcProvider } from '../src/testing/oidc-provider.ts';
import { createTestApp, freePort, type TestApp } from '../src/testing/test-app.ts';

const APP_ORIGIN = 'https://app.example';
// Tests read arbitrary shapes; asserting is their job.
const json = (res: Response): Promise<any> => res.json();

await describeEachDialect('oauth', (dialect) => {
  let t: TestApp;
  let idp: TestOidcProvider;
  let base: string;
  before(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    idp = await startOidcProvider(`${base}/api/v1/auth/oauth/test/callback`);
    t = await createTestApp(dialect, {
      PORT: String(port),
      GALLEY_PUBLIC_URL: base,
      GALLEY_ALLOWED_ORIGINS: `${base},${APP_ORIGIN}`,
      GALLEY_OAUTH_TEST_ISSUER: idp.issuer,
      GALLEY_OAUTH_TEST_CLIENT_ID: idp.clientId,
      GALLEY_OAUTH_TEST_CLIENT_SECRET: idp.clientSecret,
    });
  });
  after(async () => {
    await t?.close();
    await idp?.close();
  });

  const param = (n: number) => (dialect === 'postgres' ? `$${n}` : '?');
  const count = async (sql: string, ...values: unknown[]) => Number((await t.app.services.db.get<{ n: unknown }>(`SELECT COUNT(*) AS n FROM ${sql}`, values))!.n);
  const sessionsOf = (userId: string) => count(`"_sessions" WHERE "user_id" = ${param(1)}`, userId);
  const startUrl = (redirect?: string) => `${base}/api/v1/auth/oauth/test${redirect === undefined ? '' : `?redirect=${encodeURIComponent(redirect)}`}`;

  /** Starts a flow in `browser`: Galley's 302 to the provider. Returns the authorization URL. */
  async function start(browser: TestBrowser, redirect?: string): Promise<URL> {
    const res = await browser.request(startUrl(redirect));
    assert.equal(res.status, 302, await res.text());
    const location = new URL(res.headers.get('location')!);
    assert.equal(location.origin, idp.issuer);
    return location;
  }

  /** Start, sign in at the provider as `account`: the callback URL the provider sends the browser to (not yet requested). */
  async function throughProvider(browser: TestBrowser, account: string, redirect?: string, tamper?: (url: URL) => void): Promise<string> {
    const authorization = await start(browser, redirect);
    tamper?.(authorization);
    const callback = await signInAt(browser, authorization.href, account, idp);
    assert.ok(callback.startsWith(`${base}/api/v1/auth/oauth/test/callback?`), callback);
    return callback;
  }

  async function me(browser: TestBrowser) {
    const session = browser.cookie(base, 'galley_session');
    return session ? t.request('GET', '/api/v1/auth/me', { token: null, headers: { cookie: `galley_session=${session}` } }) : undefined;
  }

  test('lists the configured providers', async () => {
    const res = await t.request('GET', '/api/v1/auth/oauth', { token: null });
    assert.deepEqual(res.body, { providers: ['test'] });
  });

  test('a new identity with a verified email: an account, a session cookie and a 302 to redirect', async () => {
    idp.accounts.set('alice', { email: 'Alice@Example.com', email_verified: true });
    const browser = new TestBrowser();
    const authorization = await start(browser, '/app/welcome?tab=1');
    assert.equal(authorization.searchParams.get('code_challenge_method'), 'S256');
    assert.match(authorization.searchParams.get('code_challenge')!, /^[A-Za-z0-9_-]{43}$/);
    assert.ok(authorization.searchParams.get('state') && authorization.searchParams.get('nonce'));
    assert.equal(authorization.searchParams.get('redirect_uri'), `${base}/api/v1/auth/oauth/test/callback`);
    const flowCookie = browser.history.at(-1)!;
    assert.equal(flowCookie.status, 302);
    assert.ok(browser.cookie(base, 'galley_oauth'), 'the flow state rides in a cookie');

    const callback = await signInAt(browser, authorization.href, 'alice', idp);
    const res = await browser.request(callback);
    assert.equal(res.status, 302);
    assert.equal(res.headers.get('location'), '/app/welcome?tab=1');
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.equal(browser.cookie(base, 'galley_oauth'), undefined, 'the flow cookie is used up');
    const who = await me(browser);
    assert.equal(who?.status, 200);
    assert.equal(who.body.user.email, 'alice@example.com');
    assert.equal(who.body.user.verified, true);
    assert.equal(await count(`"_oauth_identities" WHERE "provider" = 'test' AND "subject" = 'alice' AND "user_id" = ${param(1)}`, who.body.user.id), 1);

    // The same identity again: the same account, a second session.
    const again = new TestBrowser();
    await again.request(await throughProvider(again, 'alice'));
    assert.equal((await me(again))?.body.user.id, who.body.user.id);
    assert.equal(await count(`"users" WHERE "email" = 'alice@example.com'`), 1);
    assert.equal(await sessionsOf(who.body.user.id), 2);

    // An account made through OAuth has no password to sign in with.
    const password = await t.request('POST', '/api/v1/auth/login', { token: null, body: { email: 'alice@example.com', password: 'any password at all' } });
    assert.equal(password.status, 401);
  });

  test('a verified email links to the existing verified account with that email', async () => {
    const bob = await t.app.services.auth.createUser({ email: 'bob@example.com', password: 'bob has a password', verified: true });
    idp.accounts.set('bob-at-idp', { email: 'BOB@example.com', email_verified: true });
    const browser = new TestBrowser();
    const res = await browser.request(await throughProvider(browser, 'bob-at-idp', `${APP_ORIGIN}/home`));
    assert.equal(res.status, 302);
    assert.equal(res.headers.get('location'), `${APP_ORIGIN}/home`);
    assert.equal((await me(browser))?.body.user.id, bob.id);
  });

  test('an email the provider does not vouch for neither links nor creates an account', async () => {
    const carol = await t.app.services.auth.createUser({ email: 'carol@example.com', password: 'carol has a password', verified: true });
    idp.accounts.set('not-carol', { email: 'carol@example.com', email_verified: false });
    idp.accounts.set('no-email', {});
    for (const account of ['not-carol', 'no-email']) {
      const browser = new TestBrowser();
      const res = await browser.request(await throughProvider(browser, account));
      assert.equal(res.status, 403, account);
      assert.match(res.headers.get('content-type')!, /^application\/problem\+json/);
      assert.equal((await json(res)).code, 'forbidden');
      assert.equal(browser.cookie(base, 'galley_session'), undefined);
      assert.equal(browser.cookie(base, 'galley_oauth'), undefined, 'the flow is used up even when it fails');
    }
    assert.equal(await sessionsOf(carol.id), 0);
    assert.equal(await count(`"_oauth_identities" WHERE "subject" IN ('not-carol', 'no-email')`), 0);
    assert.equal(await count(`"users" WHERE "email" = 'carol@example.com'`), 1);
  });

  test('an existing account that has not verified its email is not linked (pre-registration squatting)', async () => {
    const squatter = await t.app.services.auth.createUser({ email: 'dan@example.com', password: 'the squatter password' });
    idp.accounts.set('real-dan', { email: 'dan@example.com', email_verified: true });
    const browser = new TestBrowser();
    const res = await browser.request(await throughProvider(browser, 'real-dan'));
    assert.equal(res.status, 409);
    const body = await json(res);
    assert.equal(body.code, 'conflict');
    assert.equal(body.errors[0].code, 'email_unverified');
    assert.equal(browser.cookie(base, 'galley_session'), undefined);
    assert.equal(await sessionsOf(squatter.id), 0);
    assert.equal(await count(`"_oauth_identities" WHERE "subject" = 'real-dan'`), 0);
  });

  test('a callback from another browser\'s flow (login CSRF) or with no flow at all is refused', async () => {
    idp.accounts.set('mallory', { email: 'mallory@example.com', email_verified: true });
    const attacker = new TestBrowser();
    const planted = await throughProvider(attacker, 'mallory');

    const victim = new TestBrowser();
    await start(victim);
    const res = await victim.request(planted);
    assert.equal(res.status, 400);
    const mismatch = await json(res);
    assert.equal(mismatch.code, 'oauth_failed');
    assert.match(mismatch.detail, /state/);
    assert.equal(victim.cookie(base, 'galley_session'), undefined);

    const fresh = new TestBrowser();
    const none = await fresh.request(planted);
    assert.equal(none.status, 400);
    assert.equal((await json(none)).code, 'oauth_failed');

    const forged = new TestBrowser();
    forged.cookies.set('127.0.0.1', new Map([['galley_oauth', 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA']]));
    assert.equal((await forged.request(planted)).status, 400);
    assert.equal(await count(`"users" WHERE "email" = 'mallory@example.com'`), 0, 'nothing was created from the planted callback');
  });

  test('an authorization code works once', async () => {
    idp.accounts.set('erin', { email: 'erin@example.com', email_verified: true });
    const browser = new TestBrowser();
    const callback = await throughProvider(browser, 'erin');
    const flow = browser.cookie(base, 'galley_oauth')!;
    assert.equal((await browser.request(callback)).status, 302);
    const userId = (await me(browser))!.body.user.id;
    assert.equal(await sessionsOf(userId), 1);

    // Replayed with the flow cookie put back (an attacker holding both): the provider refuses the code.
    const replayer = new TestBrowser();
    replayer.cookies.set('127.0.0.1', new Map([['galley_oauth', flow]]));
    const replay = await replayer.request(callback);
    assert.equal(replay.status, 400);
    const refused = await json(replay);
    assert.equal(refused.code, 'oauth_failed');
    assert.match(refused.detail, /invalid_grant/);
    assert.equal(replayer.cookie(base, 'galley_session'), undefined);
    assert.equal(await sessionsOf(userId), 1);
  });

  test('an ID token whose nonce is not this flow\'s is refused', async () => {
    idp.accounts.set('frank', { email: 'frank@example.com', email_verified: true });
    const browser = new TestBrowser();
    const callback = await throughProvider(browser, 'frank', undefined, (url) => url.searchParams.set('nonce', 'a-nonce-the-attacker-chose'));
    const res = await browser.request(callback);
    assert.equal(res.status, 400);
    const body = await json(res);
    assert.equal(body.code, 'oauth_failed');
    assert.match(body.detail, /nonce/);
    assert.doesNotMatch(JSON.stringify(body), /openid-client|oauth4webapi|a-nonce-the-attacker-chose|at .*\.js/);
    assert.equal(browser.cookie(base, 'galley_session'), undefined);
    assert.equal(await count(`"users" WHERE "email" = 'frank@example.com'`), 0);
  });

  test('the provider refusing (the user cancelled) is oauth_failed', async () => {
    const browser = new TestBrowser();
    const authorization = await start(browser);
    const res = await browser.request(`${base}/api/v1/auth/oauth/test/callback?error=access_denied&state=${authorization.searchParams.get('state')}`);
    assert.equal(res.status, 400);
    const body = await json(res);
    assert.equal(body.code, 'oauth_failed');
    assert.match(body.detail, /access_denied/);
  });

  test('redirect goes only to a path here or an allowed origin: open redirects are refused before leaving', async () => {
    for (const redirect of [
      'https://evil.example/',
      '//evil.example/x',
      '/\\evil.example',
      '\\\\evil.example',
      '/\tevil',
      'javascript:alert(1)',
      'data:text/html,hi',
      `${APP_ORIGIN}.evil.example/`,
      `https://user@${APP_ORIGIN.slice(8)}/`,
      'http://app.example/',
      'evil.example',
      `/${'a'.repeat(2100)}`,
    ]) {
      const browser = new TestBrowser();
      const res = await browser.request(startUrl(redirect));
      assert.equal(res.status, 400, redirect);
      assert.equal((await json(res)).code, 'bad_request', redirect);
      assert.equal(browser.cookie(base, 'galley_oauth'), undefined, redirect);
    }
    const unknownProvider = await t.request('GET', '/api/v1/auth/oauth/nope', { token: null });
    assert.equal(unknownProvider.status, 404);
    const extra = await t.request('GET', '/api/v1/auth/oauth/test?next=/x', { token: null });
    assert.equal(extra.status, 400, 'unknown query parameters are refused');
  });

  test('a user with MFA gets the ticket in the redirect fragment, and a session only after the code', async () => {
    idp.accounts.set('grace', { email: 'grace@example.com', email_verified: true });
    const grace = await t.app.services.auth.createUser({ email: 'grace@example.com', password: 'grace has a password', verified: true });
    const { secret } = await t.app.services.mfa.beginTotp(grace);
    const totp = new TOTP({ secret: Secret.fromBase32(secret) });
    await t.app.services.mfa.confirmTotp(grace.id, totp.generate());

    const browser = new TestBrowser();
    const res = await browser.request(await throughProvider(browser, 'grace', `${APP_ORIGIN}/signed-in#old`));
    assert.equal(res.status, 302);
    const location = new URL(res.headers.get('location')!);
    assert.equal(`${location.origin}${location.pathname}`, `${APP_ORIGIN}/signed-in`);
    const fragment = new URLSearchParams(location.hash.slice(1));
    assert.equal(fragment.get('mfaRequired'), 'true');
    assert.ok(fragment.get('ticket'));
    assert.equal(browser.cookie(base, 'galley_session'), undefined, 'no session before the second factor');
    assert.equal(await sessionsOf(grace.id), 0);

    const verified = await t.request('POST', '/api/v1/auth/mfa/verify', { token: null, body: { ticket: fragment.get('ticket'), code: totp.generate({ timestamp: Date.now() + 30_000 }) } });
    assert.equal(verified.status, 200, verified.text);
    assert.equal(verified.body.user.id, grace.id);
  });
});
