// The SDK's account mail flows against a live Galley with a real SMTP server: reset, verification,
// password change and email change, each by following the link in the received mail.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { describeEachDialect } from '../../server/src/testing/databases.ts';
import { startTestSmtp, type TestSmtp } from '../../server/src/testing/smtp.ts';
import { createTestApp, type TestApp } from '../../server/src/testing/test-app.ts';
import { createClient, GalleyError } from '../src/index.ts';

const PUBLIC_URL = 'https://app.example';
const PASSWORD = 'a long enough password';
const NEW_PASSWORD = 'another long enough password';

await describeEachDialect('sdk account mail flows', (dialect) => {
  let t: TestApp;
  let smtp: TestSmtp;
  before(async () => {
    smtp = await startTestSmtp();
    t = await createTestApp(dialect, { SMTP_URL: smtp.url, GALLEY_PUBLIC_URL: PUBLIC_URL });
  });
  after(async () => {
    await t?.close();
    await smtp?.close();
  });

  async function tokenMailedTo(email: string, path: string): Promise<string> {
    const mail = await smtp.nextMailTo(email);
    const link = mail.links.find((l) => l.startsWith(`${PUBLIC_URL}${path}#token=`));
    assert.ok(link, `a ${path} link in: ${mail.subject}`);
    return new URLSearchParams(new URL(link).hash.slice(1)).get('token')!;
  }

  test('verification, reset, password change and email change through the SDK', async () => {
    const galley = createClient(t.url);
    await galley.auth.register({ email: 'sam@example.com', password: PASSWORD });
    await galley.auth.verifyEmail(await tokenMailedTo('sam@example.com', '/auth/verify-email'));
    assert.equal((await galley.auth.me()).verified, true);

    const before = await galley.auth.token();
    const changed = await galley.auth.changePassword(PASSWORD, NEW_PASSWORD);
    assert.notEqual(changed.token, before);
    assert.equal(await galley.auth.token(), changed.token, 'the fresh session is kept');

    await galley.auth.requestPasswordReset('sam@example.com');
    await galley.auth.resetPassword(await tokenMailedTo('sam@example.com', '/auth/reset-password'), PASSWORD);
    const again = createClient(t.url);
    await again.auth.login('sam@example.com', PASSWORD);

    await again.auth.requestEmailChange('sam@new.example', PASSWORD);
    await again.auth.confirmEmailChange(await tokenMailedTo('sam@new.example', '/auth/confirm-email-change'));
    assert.equal((await again.auth.me()).email, 'sam@new.example');

    const err = await again.auth.requestEmailChange('sam@other.example', 'wrong password').then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof GalleyError);
    assert.equal(err.status, 401);
    assert.equal(err.code, 'invalid_credentials');
    const bad = await again.auth.confirmEmailChange('not a token').then(() => undefined, (e: unknown) => e);
    assert.ok(bad instanceof GalleyError);
    assert.equal(bad.code, 'invalid_token');
  });
});
