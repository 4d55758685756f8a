// The SDK's MFA and OAuth helpers against a live Galley: enrol and confirm with a real TOTP code,
// the mfaRequired login step and verifyMfa keeping the session, turning MFA off, the OAuth URL.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Secret, TOTP } from 'otpauth';
import { describeEachDialect } from '../../server/src/testing/databases.ts';
import { createTestApp, type TestApp } from '../../server/src/testing/test-app.ts';
import { createClient, GalleyError } from '../src/index.ts';

const PASSWORD = 'a long enough password';

await describeEachDialect('sdk mfa and oauth', (dialect) => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp(dialect);
    await t.app.services.auth.createUser({ email: 'mia@example.com', password: PASSWORD });
  });
  after(async () => t?.close());

  test('enrol, confirm, then login needs verifyMfa; the session is kept after it', async () => {
    const galley = createClient(t.url);
    await galley.auth.login('mia@example.com', PASSWORD);
    const enrolment = await galley.auth.mfa.enrolTotp();
    assert.match(enrolment.qrCode, /^data:image\/svg\+xml;base64,/);
    const totp = new TOTP({ secret: Secret.fromBase32(enrolment.secret) });
    const recoveryCodes = await galley.auth.mfa.confirmTotp(totp.generate());
    assert.equal(recoveryCodes.length, 10);
    assert.deepEqual(await galley.auth.mfa.status(), { totp: 'on', recoveryCodesLeft: 10 });

    const other = createClient(t.url);
    const step = await other.auth.login('mia@example.com', PASSWORD);
    assert.ok('mfaRequired' in step && step.mfaRequired);
    assert.equal(await other.auth.token(), null, 'no session before the code');
    const wrong = await other.auth.verifyMfa(step.ticket, 'aaaaa-aaaaa').catch((e: unknown) => e);
    assert.ok(wrong instanceof GalleyError && wrong.code === 'invalid_credentials');
    const session = await other.auth.verifyMfa(step.ticket, totp.generate({ timestamp: Date.now() + 30_000 }));
    assert.equal(await other.auth.token(), session.token);
    assert.equal((await other.auth.me()).email, 'mia@example.com');

    await other.auth.mfa.disableTotp(recoveryCodes[0]!);
    const plain = await createClient(t.url).auth.login('mia@example.com', PASSWORD);
    assert.ok('token' in plain);
  });

  test('oauth() is the URL to send the browser to, with redirect encoded', () => {
    const galley = createClient(`${t.url}/`);
    assert.equal(galley.auth.oauth('google', { redirect: '/app?x=1&y=2' }), `${t.url}/api/v1/auth/oauth/google?redirect=%2Fapp%3Fx%3D1%26y%3D2`);
    assert.equal(galley.auth.oauth('a/b'), `${t.url}/api/v1/auth/oauth/a%2Fb`);
  });
});
