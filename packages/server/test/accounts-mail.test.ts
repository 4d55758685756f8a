// Password reset and email verification by mail (contract §3) through a real SMTP server: the tests
// read the links out of the received mails and follow them. Tokens are single-use, expiring, hashed,
// bound to the address; forged, replayed and expired links are `400 invalid_token` and change nothing.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, before, test } from 'node:test';
import { pino } from 'pino';
import { createMailer } from '../src/mail/mailer.ts';
import { describeEachDialect } from '../src/testing/databases.ts';
import { parseMessage, startTestSmtp, type ReceivedMail, type TestSmtp } from '../src/testing/smtp.ts';
import { createTestApp, type TestApp } from '../src/testing/test-app.ts';

const PUBLIC_URL = 'https://app.example';
const PASSWORD = 'a long and unusual passphrase';
const NEW_PASSWORD = 'another unusual passphrase';

function tokenFrom(mail: ReceivedMail, pathname: string): string {
  const link = mail.links.find((l) => l.startsWith(`${PUBLIC_URL}${pathname}`));
  assert.ok(link, `a ${pathname} link in: ${mail.text}`);
  const url = new URL(link);
  assert.equal(url.search, '', 'the token is not in the query string (it would reach access logs)');
  const token = new URLSearchParams(url.hash.slice(1)).get('token');
  assert.match(token ?? '', /^[A-Za-z0-9_-]{43}$/);
  return token!;
}

await describeEachDialect('mail flows', (dialect) => {
  let t: TestApp;
  let smtp: TestSmtp;
  const post = (p: string, body: unknown, token: string | null = null) => t.request('POST', `/api/v1/auth${p}`, { body, token });
  const login = (email: string, password: string) => post('/login', { email, password });
  before(async () => {
    smtp = await startTestSmtp();
    t = await createTestApp(dialect, { SMTP_URL: smtp.url, GALLEY_PUBLIC_URL: PUBLIC_URL, GALLEY_MAIL_FROM: 'Galley Test <accounts@app.example>' });
  });
  after(async () => {
    await t?.close();
    await smtp?.close();
  });

  test('registration mails a verification link; following it verifies the account, once', async () => {
    const reg = await post('/register', { email: 'vera@example.com', password: PASSWORD });
    assert.equal(reg.status, 201);
    const mail = await smtp.nextMailTo('vera@example.com');
    assert.equal(mail.from, 'accounts@app.example');
    assert.equal(mail.subject, 'Confirm your email address');
    const token = tokenFrom(mail, '/auth/verify-email');
    const stored = await t.app.services.db.all<{ token_hash: string }>('SELECT "token_hash" FROM "_auth_tokens"');
    assert.ok(stored.length > 0 && stored.every((r) => r.token_hash !== token), 'only a hash is stored');
    assert.equal((await post('/verify-email/confirm', { token })).status, 204);
    assert.equal((await t.request('GET', '/api/v1/auth/me', { token: reg.body.token })).body.user.verified, true);
    const again = await post('/verify-email/confirm', { token });
    assert.equal(again.status, 400);
    assert.equal(again.body.code, 'invalid_token');
  });

  test('POST /verify-email sends a new link for the signed-in caller or for an email; always 202', async () => {
    const reg = await post('/register', { email: 'walt@example.com', password: PASSWORD });
    const first = tokenFrom(await smtp.nextMailTo('walt@example.com'), '/auth/verify-email');
    assert.equal((await post('/verify-email', {}, reg.body.token)).status, 202);
    const second = tokenFrom(await smtp.nextMailTo('walt@example.com'), '/auth/verify-email');
    assert.equal((await post('/verify-email', { email: 'WALT@example.com' })).status, 202);
    const third = tokenFrom(await smtp.nextMailTo('walt@example.com'), '/auth/verify-email');
    assert.equal((await post('/verify-email', { email: 'nobody@example.com' })).status, 202);
    assert.equal((await post('/verify-email', { email: 'not an email' })).status, 202);
    // Only the newest link works.
    for (const old of [first, second]) assert.equal((await post('/verify-email/confirm', { token: old })).body.code, 'invalid_token');
    assert.equal((await post('/verify-email/confirm', { token: third })).status, 204);
    await t.app.services.mailer.drain();
    assert.ok(!smtp.received.some((m) => m.to.includes('nobody@example.com')));
  });

  test('password reset: 202 either way, a mail only when the account exists, and the link resets once', async () => {
    await post('/register', { email: 'rita@example.com', password: PASSWORD });
    await smtp.nextMailTo('rita@example.com'); // the verification mail
    const sessions = [(await login('rita@example.com', PASSWORD)).body.token, (await login('rita@example.com', PASSWORD)).body.token];
    const known = await post('/password-reset', { email: 'Rita@Example.com' });
    const unknown = await post('/password-reset', { email: 'nobody@example.com' });
    assert.equal(known.status, 202);
    assert.equal(unknown.status, 202);
    assert.equal(known.text, unknown.text);
    const mail = await smtp.nextMailTo('rita@example.com');
    assert.equal(mail.subject, 'Reset your password');
    const token = tokenFrom(mail, '/auth/reset-password');

    const weak = await post('/password-reset/confirm', { token, password: 'password' });
    assert.equal(weak.status, 400);
    assert.equal(weak.body.errors[0].code, 'common_password');
    assert.equal((await login('rita@example.com', PASSWORD)).status, 200, 'a weak password changed nothing');

    assert.equal((await post('/password-reset/confirm', { token, password: NEW_PASSWORD })).status, 204, 'the link still works after a weak try');
    for (const s of sessions) assert.equal((await t.request('GET', '/api/v1/auth/me', { token: s })).status, 401, 'every session was revoked');
    assert.equal((await login('rita@example.com', PASSWORD)).status, 401);
    const fresh = await login('rita@example.com', NEW_PASSWORD);
    assert.equal(fresh.status, 200);
    assert.equal(fresh.body.user.verified, true, 'the reset mail proved the address');
    const replay = await post('/password-reset/confirm', { token, password: 'yet another passphrase' });
    assert.equal(replay.status, 400);
    assert.equal(replay.body.code, 'invalid_token');
    assert.equal((await login('rita@example.com', NEW_PASSWORD)).status, 200);
    await t.app.services.mailer.drain();
    assert.ok(!smtp.received.some((m) => m.to.includes('nobody@example.com')));
  });

  test('forged, malformed, expired and superseded reset tokens are invalid_token and change nothing', async () => {
    await post('/register', { email: 'fay@example.com', password: PASSWORD });
    await post('/password-reset', { email: 'fay@example.com' });
    const first = tokenFrom((await smtp.nextMailTo('fay@example.com', 5000).then(async (m) => (m.subject === 'Reset your password' ? m : smtp.nextMailTo('fay@example.com')))), '/auth/reset-password');
    await post('/password-reset', { email: 'fay@example.com' });
    const second = tokenFrom(await smtp.nextMailTo('fay@example.com'), '/auth/reset-password');
    const forged = Buffer.alloc(32, 7).toString('base64url');
    for (const token of [first, forged, 'short', 'x'.repeat(10_000), 42, null, undefined, { $ne: '' }]) {
      const res = await post('/password-reset/confirm', { token, password: NEW_PASSWORD });
      assert.equal(res.status, 400, JSON.stringify(token)?.slice(0, 30));
      assert.equal(res.body.code, 'invalid_token');
    }
    await t.app.services.db.run(`UPDATE "_auth_tokens" SET "expires" = ${dialect === 'postgres' ? '$1' : '?'}`, [new Date(Date.now() - 1000).toISOString()]);
    assert.equal((await post('/password-reset/confirm', { token: second, password: NEW_PASSWORD })).body.code, 'invalid_token', 'expired');
    assert.equal((await login('fay@example.com', PASSWORD)).status, 200, 'the password never changed');
  });

  test('a verification token does not reset a password, nor the other way round', async () => {
    await post('/register', { email: 'otto@example.com', password: PASSWORD });
    const verify = tokenFrom(await smtp.nextMailTo('otto@example.com'), '/auth/verify-email');
    assert.equal((await post('/password-reset/confirm', { token: verify, password: NEW_PASSWORD })).body.code, 'invalid_token');
    await post('/password-reset', { email: 'otto@example.com' });
    const reset = tokenFrom(await smtp.nextMailTo('otto@example.com'), '/auth/reset-password');
    assert.equal((await post('/verify-email/confirm', { token: reset })).body.code, 'invalid_token');
    assert.equal((await post('/verify-email/confirm', { token: verify })).status, 204, 'each still works for its own purpose');
  });

  test('a header-injection email gets no mail and no account', async () => {
    const before = smtp.received.length;
    const res = await post('/password-reset', { email: 'rita@example.com\r\nBcc: evil@example.com' });
    assert.equal(res.status, 202);
    await t.app.services.mailer.drain();
    assert.equal(smtp.received.length, before);
  });

  test('the password change proves the current password, revokes every session and rotates the caller\'s', async () => {
    const reg = await post('/register', { email: 'cara@example.com', password: PASSWORD });
    const other = (await login('cara@example.com', PASSWORD)).body.token;
    const wrong = await post('/password', { currentPassword: 'not it at all', password: NEW_PASSWORD }, reg.body.token);
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body.code, 'invalid_credentials');
    const weak = await post('/password', { currentPassword: PASSWORD, password: 'short' }, reg.body.token);
    assert.equal(weak.status, 400);
    assert.equal(weak.body.errors[0].code, 'too_short');
    assert.equal((await post('/password', { currentPassword: PASSWORD, password: NEW_PASSWORD })).status, 401, 'with the admin\'s token it is the admin\'s password that must match');
    const changed = await post('/password', { currentPassword: PASSWORD, password: NEW_PASSWORD }, reg.body.token);
    assert.equal(changed.status, 200, changed.text);
    assert.notEqual(changed.body.token, reg.body.token);
    for (const old of [reg.body.token, other]) assert.equal((await t.request('GET', '/api/v1/auth/me', { token: old })).status, 401);
    assert.equal((await t.request('GET', '/api/v1/auth/me', { token: changed.body.token })).status, 200);
    assert.equal((await post('/password', { currentPassword: NEW_PASSWORD, password: PASSWORD })).status, 401, 'anonymous');
  });
});

await describeEachDialect('hidden accounts (GALLEY_AUTH_HIDE_ACCOUNTS)', (dialect) => {
  let t: TestApp;
  let smtp: TestSmtp;
  before(async () => {
    smtp = await startTestSmtp();
    t = await createTestApp(dialect, { SMTP_URL: smtp.url, GALLEY_PUBLIC_URL: PUBLIC_URL, GALLEY_AUTH_HIDE_ACCOUNTS: 'true' });
  });
  after(async () => {
    await t?.close();
    await smtp?.close();
  });

  test('a new and a taken address get the same 202 and no session; the outcome goes by mail', async () => {
    const register = (email: string, password = PASSWORD) => t.request('POST', '/api/v1/auth/register', { body: { email, password }, token: null });
    const fresh = await register('hana@example.com');
    const taken = await register('HANA@example.com', 'a different passphrase');
    for (const res of [fresh, taken]) {
      assert.equal(res.status, 202);
      assert.equal(res.text, '');
      assert.equal(res.headers.get('set-cookie'), null);
    }
    const welcome = await smtp.nextMailTo('hana@example.com');
    assert.equal(welcome.subject, 'Confirm your email address');
    const warning = await smtp.nextMailTo('hana@example.com');
    assert.equal(warning.subject, 'Someone tried to sign up with your address');
    // The owner can take the account back through the reset link in the warning.
    const token = tokenFrom(warning, '/auth/reset-password');
    assert.equal((await t.request('POST', '/api/v1/auth/password-reset/confirm', { body: { token, password: NEW_PASSWORD }, token: null })).status, 204);
    assert.equal((await t.request('POST', '/api/v1/auth/login', { body: { email: 'hana@example.com', password: NEW_PASSWORD }, token: null })).status, 200);
    // Input errors still say what is wrong with the input (that reveals nothing about accounts).
    assert.equal((await register('hana@example.com', 'short')).status, 400);
  });
});

test('without SMTP_URL a mail is written to the mail folder and the log names only the file', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'galley-mail-'));
  const lines: string[] = [];
  const logger = pino({ level: 'info' }, new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) }));
  const mailer = createMailer({ from: 'Galley <no-reply@app.example>', folder: path.join(dir, 'mail'), logger });
  const link = `${PUBLIC_URL}/auth/reset-password#token=${'T'.repeat(43)}`;
  mailer.send({ to: 'ida@example.com', subject: 'Reset your password', text: `Choose a new password here:\n${link}\n` });
  await mailer.close();
  const files = fs.readdirSync(path.join(dir, 'mail'));
  assert.equal(files.length, 1);
  assert.match(files[0]!, /\.eml$/);
  assert.equal(fs.statSync(path.join(dir, 'mail', files[0]!)).mode & 0o777, 0o600);
  const { headers, text } = parseMessage(fs.readFileSync(path.join(dir, 'mail', files[0]!), 'utf8'));
  assert.equal(headers.get('to'), 'ida@example.com');
  assert.ok(text.includes(link), 'the developer can open the link');
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, /mail written/);
  assert.ok(!lines.join('').includes('TTTT'), 'no token in the log');
  fs.rmSync(dir, { recursive: true, force: true });
});
