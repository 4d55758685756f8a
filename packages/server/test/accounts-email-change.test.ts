// The change of a signed-in user's address (docs/accounts.md): the current password proves the
// request, a single-use link goes to the new address, and the account moves only when it is
// followed; the old address is told. Runs a real SMTP server and follows the links in the mails.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Dialect } from '../src/db/database.ts';
import { describeEachDialect } from '../src/testing/databases.ts';
import { startTestSmtp, type ReceivedMail, type TestSmtp } from '../src/testing/smtp.ts';
import { createTestApp, type TestApp } from '../src/testing/test-app.ts';

const PUBLIC_URL = 'https://app.example';
const PASSWORD = 'a long and unusual passphrase';
const CONFIRM_PATH = '/auth/confirm-email-change';

function tokenFrom(mail: ReceivedMail): string {
  const link = mail.links.find((l) => l.startsWith(`${PUBLIC_URL}${CONFIRM_PATH}#token=`));
  assert.ok(link, `a confirmation link in: ${mail.text}`);
  return new URLSearchParams(new URL(link).hash.slice(1)).get('token')!;
}

/** A test app with a real SMTP server, for the suite this is called in. */
function setup(dialect: Dialect, env: Record<string, string> = {}) {
  const ctx = {} as { t: TestApp; smtp: TestSmtp };
  before(async () => {
    ctx.smtp = await startTestSmtp();
    ctx.t = await createTestApp(dialect, { SMTP_URL: ctx.smtp.url, GALLEY_PUBLIC_URL: PUBLIC_URL, ...env });
  });
  after(async () => {
    await ctx.t?.close();
    await ctx.smtp?.close();
  });
  return ctx;
}

await describeEachDialect('email change', (dialect) => {
  const ctx = setup(dialect);
  const post = (p: string, body: unknown, token: string | null = null) => ctx.t.request('POST', `/api/v1/auth${p}`, { body, token });
  const login = (email: string) => post('/login', { email, password: PASSWORD });

  /** A fresh account (its verification mail read) and its session token. */
  async function signUp(email: string): Promise<string> {
    const reg = await post('/register', { email, password: PASSWORD });
    assert.equal(reg.status, 201, reg.text);
    await ctx.smtp.nextMailTo(email);
    return reg.body.token as string;
  }

  test('the account moves when the link mailed to the new address is followed, once; the old address is told', async () => {
    const token = await signUp('mona@example.com');
    const asked = await post('/email-change', { email: ' Mona.New@Example.com ', currentPassword: PASSWORD }, token);
    assert.equal(asked.status, 202, asked.text);
    assert.equal(asked.text, '');
    const mail = await ctx.smtp.nextMailTo('mona.new@example.com');
    assert.equal(mail.subject, 'Confirm your new email address');
    const link = tokenFrom(mail);
    assert.equal((await login('mona@example.com')).status, 200, 'nothing moves before the link is followed');
    assert.equal((await login('mona.new@example.com')).status, 401);

    assert.equal((await post('/email-change/confirm', { token: link })).status, 204);
    assert.equal((await login('mona@example.com')).status, 401, 'the old address no longer signs in');
    const moved = await login('mona.new@example.com');
    assert.equal(moved.status, 200);
    assert.equal(moved.body.user.email, 'mona.new@example.com');
    assert.equal(moved.body.user.verified, true, 'following the link proved the new address');
    assert.equal((await ctx.t.request('GET', '/api/v1/auth/me', { token })).status, 200, 'the session that asked stays signed in');
    const notice = await ctx.smtp.nextMailTo('mona@example.com');
    assert.equal(notice.subject, 'Your email address was changed');
    assert.ok(notice.text.includes('mona.new@example.com'));
    assert.ok(!notice.links.some((l) => l.includes('#token=')), 'the notice carries no link that changes anything');

    const replay = await post('/email-change/confirm', { token: link });
    assert.equal(replay.status, 400);
    assert.equal(replay.body.code, 'invalid_token');

    const audit = await ctx.t.request('GET', `/api/v1/audit?filter=${encodeURIComponent(`user = '${moved.body.user.id}' && action ~ 'email.'`)}&sort=created`);
    assert.deepEqual(
      audit.body.items.map((e: { action: string; email: string }) => [e.action, e.email]).sort(),
      [['email.change_requested', 'mona.new@example.com'], ['email.changed', 'mona.new@example.com']],
    );
    assert.deepEqual(audit.body.items.find((e: { action: string }) => e.action === 'email.changed').detail, { from: 'mona@example.com' });
  });

  test('refused requests say why and send nothing: wrong password, bad or unchanged address, taken address, no session', async () => {
    const token = await signUp('nils@example.com');
    await signUp('taken@example.com');
    const before = ctx.smtp.received.length;
    const cases: Array<[unknown, number, string, string?]> = [
      [{ email: 'nils.new@example.com', currentPassword: 'not the password' }, 401, 'invalid_credentials'],
      [{ email: 'nils.new@example.com' }, 401, 'invalid_credentials'],
      [{ email: 'nils.new@example.com', currentPassword: 'x'.repeat(100_000) }, 401, 'invalid_credentials'],
      [{ email: 'not an address', currentPassword: PASSWORD }, 400, 'validation_failed', 'invalid_email'],
      [{ email: 'nils@example.com\r\nBcc: evil@example.com', currentPassword: PASSWORD }, 400, 'validation_failed', 'invalid_email'],
      [{ currentPassword: PASSWORD }, 400, 'validation_failed', 'required'],
      [{ email: 'NILS@example.com', currentPassword: PASSWORD }, 400, 'validation_failed', 'unchanged'],
      [{ email: 'Taken@Example.com', currentPassword: PASSWORD }, 409, 'conflict', 'not_unique'],
    ];
    for (const [body, status, code, fieldCode] of cases) {
      const res = await post('/email-change', body, token);
      assert.equal(res.status, status, `${JSON.stringify(body).slice(0, 60)}: ${res.text}`);
      assert.equal(res.body.code, code);
      if (fieldCode) assert.deepEqual(res.body.errors.map((e: { field: string; code: string }) => [e.field, e.code]), [['email', fieldCode]]);
    }
    assert.equal((await post('/email-change', { email: 'nils.new@example.com', currentPassword: PASSWORD })).status, 401, 'anonymous');
    const key = await ctx.t.request('POST', '/api/v1/auth/api-keys', { body: { name: 'script', roles: [] } });
    assert.equal(key.status, 201, key.text);
    assert.equal((await post('/email-change', { email: 'key@example.com', currentPassword: PASSWORD }, key.body.secret)).status, 401, 'an API key moves no account');
    await ctx.t.app.services.mailer.drain();
    assert.equal(ctx.smtp.received.length, before, 'no mail went out');
    assert.equal((await login('nils@example.com')).status, 200);
  });

  test('only the newest link works, a link of another purpose does not, and a taken address at confirmation is a conflict', async () => {
    const token = await signUp('olga@example.com');
    await post('/email-change', { email: 'olga.one@example.com', currentPassword: PASSWORD }, token);
    const first = tokenFrom(await ctx.smtp.nextMailTo('olga.one@example.com'));
    await post('/email-change', { email: 'olga.two@example.com', currentPassword: PASSWORD }, token);
    const second = tokenFrom(await ctx.smtp.nextMailTo('olga.two@example.com'));
    assert.equal((await post('/email-change/confirm', { token: first })).body.code, 'invalid_token', 'superseded');
    await post('/verify-email', {}, token);
    const verification = (await ctx.smtp.nextMailTo('olga@example.com')).links.find((l) => l.includes('/auth/verify-email#token='))!;
    const verifyToken = new URLSearchParams(new URL(verification).hash.slice(1)).get('token');
    assert.equal((await post('/email-change/confirm', { token: verifyToken })).body.code, 'invalid_token', 'a verification link moves nothing');
    for (const forged of [Buffer.alloc(32, 9).toString('base64url'), 'short', 42, null, { $ne: '' }]) {
      assert.equal((await post('/email-change/confirm', { token: forged })).body.code, 'invalid_token', JSON.stringify(forged));
    }

    // Someone registers the address while the link is on its way.
    await signUp('olga.two@example.com');
    const late = await post('/email-change/confirm', { token: second });
    assert.equal(late.status, 409, late.text);
    assert.equal(late.body.errors[0].code, 'not_unique');
    assert.equal((await login('olga@example.com')).status, 200, 'the account kept its address');
  });

  test('an account without a password (OAuth) cannot move by session alone', async () => {
    const user = await ctx.t.app.services.auth.createUser({ email: 'oauth.only@example.com', password: null, verified: true });
    const token = await ctx.t.app.services.auth.createSession(user.id, {});
    const res = await post('/email-change', { email: 'elsewhere@example.com', currentPassword: '' }, token);
    assert.equal(res.status, 401);
    assert.equal(res.body.code, 'invalid_credentials');
  });
});

await describeEachDialect('email change with hidden accounts', (dialect) => {
  const ctx = setup(dialect, { GALLEY_AUTH_HIDE_ACCOUNTS: 'true' });

  test('a taken address answers 202 like a free one; its owner is told and no link exists', async () => {
    const { t, smtp } = ctx;
    const user = await t.app.services.auth.createUser({ email: 'pia@example.com', password: PASSWORD, verified: true });
    await t.app.services.auth.createUser({ email: 'owner@example.com', password: PASSWORD, verified: true });
    const token = await t.app.services.auth.createSession(user.id, {});
    const taken = await t.request('POST', '/api/v1/auth/email-change', { body: { email: 'owner@example.com', currentPassword: PASSWORD }, token });
    const free = await t.request('POST', '/api/v1/auth/email-change', { body: { email: 'pia.new@example.com', currentPassword: PASSWORD }, token });
    for (const res of [taken, free]) {
      assert.equal(res.status, 202, res.text);
      assert.equal(res.text, '');
    }
    const warning = await smtp.nextMailTo('owner@example.com');
    assert.equal(warning.subject, 'Someone tried to use your address');
    assert.ok(!warning.links.some((l) => l.includes('#token=')));
    assert.equal((await smtp.nextMailTo('pia.new@example.com')).subject, 'Confirm your new email address');
  });
});

await describeEachDialect('email change rate limits', (dialect) => {
  const ctx = setup(dialect, { GALLEY_RATE_LIMITS: 'on' });

  test('requests for one new address: 3, then 429 with Retry-After', async () => {
    const { t } = ctx;
    const user = await t.app.services.auth.createUser({ email: 'quinn@example.com', password: PASSWORD, verified: true });
    const token = await t.app.services.auth.createSession(user.id, {});
    const ask = () => t.request('POST', '/api/v1/auth/email-change', { body: { email: 'victim@example.com', currentPassword: PASSWORD }, token });
    for (let i = 0; i < 3; i++) assert.equal((await ask()).status, 202);
    const limited = await ask();
    assert.equal(limited.status, 429);
    assert.equal(limited.body.code, 'rate_limited');
    assert.match(limited.headers.get('retry-after') ?? '', /^[1-9][0-9]*$/);
  });
});
