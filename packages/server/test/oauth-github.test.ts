// The GitHub preset: plain OAuth 2 with PKCE and state (GitHub has no ID token), the identity from
// /user and the verified primary address from /user/emails. Against a stand-in for GitHub that
// checks client secret, redirect URI and PKCE verifier as GitHub does.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { TestBrowser } from '../src/testing/browser.ts';
import { describeEachDialect } from '../src/testing/databases.ts';
import { startFakeGitHub, type FakeGitHub } from '../src/testing/github-fake.ts';
import { createTestApp, freePort, type TestApp } from '../src/testing/test-app.ts';

await describeEachDialect('oauth github', (dialect) => {
  let t: TestApp;
  let github: FakeGitHub;
  let base: string;
  before(async () => {
    github = await startFakeGitHub();
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    t = await createTestApp(dialect, {
      PORT: String(port),
      GALLEY_PUBLIC_URL: base,
      GALLEY_OAUTH_GITHUB_CLIENT_ID: github.clientId,
      GALLEY_OAUTH_GITHUB_CLIENT_SECRET: github.clientSecret,
      GALLEY_OAUTH_GITHUB_URL: github.webUrl,
      GALLEY_OAUTH_GITHUB_API_URL: github.apiUrl,
    });
  });
  after(async () => {
    await t?.close();
    await github?.close();
  });

  /** Galley → GitHub → back: the callback URL, not yet requested. */
  async function throughGitHub(browser: TestBrowser): Promise<string> {
    const start = await browser.request(`${base}/api/v1/auth/oauth/github?redirect=/done`);
    assert.equal(start.status, 302, await start.text());
    const authorize = new URL(start.headers.get('location')!);
    assert.equal(`${authorize.origin}${authorize.pathname}`, `${github.webUrl}/login/oauth/authorize`);
    assert.equal(authorize.searchParams.get('scope'), 'read:user user:email');
    assert.equal(authorize.searchParams.get('nonce'), null, 'no ID token, so no nonce');
    const { url } = await browser.follow(authorize.href, (next) => next.startsWith(base));
    return url;
  }

  test('a verified primary email signs in (a new account), then the same GitHub id again', async () => {
    github.signInAs({ id: 4242, login: 'octo', emails: [{ email: 'octo@old.example', primary: false, verified: true }, { email: 'Octo@Example.com', primary: true, verified: true }] });
    const browser = new TestBrowser();
    const res = await browser.request(await throughGitHub(browser));
    assert.equal(res.status, 302, await res.text());
    assert.equal(res.headers.get('location'), '/done');
    const session = browser.cookie(base, 'galley_session')!;
    const me = await t.request('GET', '/api/v1/auth/me', { token: null, headers: { cookie: `galley_session=${session}` } });
    assert.equal(me.body.user.email, 'octo@example.com');
    const identity = await t.app.services.db.get<{ user_id: string }>(`SELECT "user_id" FROM "_oauth_identities" WHERE "provider" = 'github' AND "subject" = '4242'`);
    assert.equal(identity?.user_id, me.body.user.id);

    // A changed primary address at GitHub does not make another account: the GitHub id decides.
    github.signInAs({ id: 4242, login: 'octo', emails: [{ email: 'octo@new.example', primary: true, verified: true }] });
    const again = new TestBrowser();
    await again.request(await throughGitHub(again));
    const second = await t.request('GET', '/api/v1/auth/me', { token: null, headers: { cookie: `galley_session=${again.cookie(base, 'galley_session')}` } });
    assert.equal(second.body.user.id, me.body.user.id);
  });

  test('an unverified primary email is refused; a reused code is refused', async () => {
    github.signInAs({ id: 7, login: 'nova', emails: [{ email: 'nova@example.com', primary: true, verified: false }] });
    const browser = new TestBrowser();
    const refused = await browser.request(await throughGitHub(browser));
    assert.equal(refused.status, 403);
    assert.equal(browser.cookie(base, 'galley_session'), undefined);
    assert.equal((await t.app.services.auth.userByEmail('nova@example.com')), undefined);

    github.signInAs({ id: 8, login: 'vera', emails: [{ email: 'vera@example.com', primary: true, verified: true }] });
    const first = new TestBrowser();
    const callback = await throughGitHub(first);
    const flow = first.cookie(base, 'galley_oauth')!;
    assert.equal((await first.request(callback)).status, 302);
    const replayer = new TestBrowser();
    replayer.cookies.set('127.0.0.1', new Map([['galley_oauth', flow]]));
    const replay = await replayer.request(callback);
    assert.equal(replay.status, 400);
    const body: any = await replay.json();
    assert.equal(body.code, 'oauth_failed');
    assert.match(body.detail, /bad_verification_code/);
  });
});
