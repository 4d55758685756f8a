// MFA with real TOTP codes (otpauth computes them as an authenticator app would): enrolment,
// confirmation, the `mfaRequired` login step, replay refusal, recovery codes, turning it off, and
// bad input that must change nothing.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Secret, TOTP, URI } from 'otpauth';
import { describeEachDialect } from '../src/testing/databases.ts';
import { createTestApp, type TestApp } from '../src/testing/test-app.ts';

const PASSWORD = 'a long enough password';
const STEP_MS = 30_000;

await describeEachDialect('mfa', (dialect) => {
  let t: TestApp;
  let users = 0;
  before(async () => {
    t = await createTestApp(dialect);
  });
  after(async () => t?.close());

  const param = (n: number) => (dialect === 'postgres' ? `$${n}` : '?');
  const login = (email: string, password = PASSWORD) => t.request('POST', '/api/v1/auth/login', { body: { email, password }, token: null });
  const sessionCount = async (userId: string) =>
    Number((await t.app.services.db.get<{ n: unknown }>(`SELECT COUNT(*) AS n FROM "_sessions" WHERE "user_id" = ${param(1)}`, [userId]))!.n);

  /** A fresh user signed in with a password: its id, email and token. */
  async function newUser() {
    const email = `mfa-${++users}@example.com`;
    const user = await t.app.services.auth.createUser({ email, password: PASSWORD });
    const res = await login(email);
    assert.equal(res.status, 200, res.text);
    return { id: user.id, email, token: res.body.token as string };
  }

  /** A user with TOTP on: the app's view of the secret and the recovery codes. The current step is used up. */
  async function userWithMfa() {
    const user = await newUser();
    const enrol = await t.request('POST', '/api/v1/auth/mfa/totp', { token: user.token });
    assert.equal(enrol.status, 200, enrol.text);
    const totp = new TOTP({ secret: Secret.fromBase32(enrol.body.secret) });
    const confirm = await t.request('POST', '/api/v1/auth/mfa/totp/confirm', { token: user.token, body: { code: totp.generate() } });
    assert.equal(confirm.status, 200, confirm.text);
    return { ...user, totp, recoveryCodes: confirm.body.recoveryCodes as string[] };
  }

  test('enrolment gives a secret, an otpauth URI and an SVG QR code; the secret is sealed at rest', async () => {
    const user = await newUser();
    const res = await t.request('POST', '/api/v1/auth/mfa/totp', { token: user.token });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.match(res.body.secret, /^[A-Z2-7]{32}$/);
    const uri = URI.parse(res.body.otpauthUri) as TOTP;
    assert.ok(uri instanceof TOTP);
    assert.equal(uri.issuer, 'Galley');
    assert.equal(uri.label, user.email);
    assert.equal(uri.secret.base32, res.body.secret);
    assert.equal(uri.digits, 6);
    assert.equal(uri.period, 30);
    assert.match(res.body.qrCode, /^data:image\/svg\+xml;base64,/);
    assert.match(Buffer.from(res.body.qrCode.split(',')[1], 'base64').toString(), /^<svg /);

    const row = await t.app.services.db.get<{ secret: string; confirmed: unknown }>(`SELECT "secret", "confirmed" FROM "_mfa_totp" WHERE "user_id" = ${param(1)}`, [user.id]);
    assert.ok(row && !row.secret.includes(res.body.secret), 'the secret is not stored readable');
    assert.equal(row.confirmed, null);
    assert.deepEqual((await t.request('GET', '/api/v1/auth/mfa', { token: user.token })).body, { totp: 'pending', recoveryCodesLeft: 0 });
    const again = await login(user.email);
    assert.ok(again.body.token, 'an unconfirmed enrolment does not ask for a code yet');
  });

  test('confirmation needs a real code; then recovery codes, stored only as keyed hashes', async () => {
    const user = await newUser();
    const enrol = await t.request('POST', '/api/v1/auth/mfa/totp', { token: user.token });
    const totp = new TOTP({ secret: Secret.fromBase32(enrol.body.secret) });
    const wrongCode = String((Number(totp.generate()) + 1) % 1_000_000).padStart(6, '0');
    const wrong = await t.request('POST', '/api/v1/auth/mfa/totp/confirm', { token: user.token, body: { code: wrongCode } });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body.code, 'invalid_credentials');
    assert.equal((await t.request('GET', '/api/v1/auth/mfa', { token: user.token })).body.totp, 'pending');

    const ok = await t.request('POST', '/api/v1/auth/mfa/totp/confirm', { token: user.token, body: { code: totp.generate() } });
    assert.equal(ok.status, 200, ok.text);
    const codes: string[] = ok.body.recoveryCodes;
    assert.equal(codes.length, 10);
    assert.equal(new Set(codes).size, 10);
    for (const code of codes) assert.match(code, /^[a-km-np-z2-9]{5}-[a-km-np-z2-9]{5}$/);
    const stored = await t.app.services.db.all<{ code_hash: string }>(`SELECT "code_hash" FROM "_mfa_recovery_codes" WHERE "user_id" = ${param(1)}`, [user.id]);
    assert.equal(stored.length, 10);
    assert.ok(stored.every((s) => /^[0-9a-f]{64}$/.test(s.code_hash) && !codes.some((c) => s.code_hash.includes(c.replace('-', '')))));
    assert.deepEqual((await t.request('GET', '/api/v1/auth/mfa', { token: user.token })).body, { totp: 'on', recoveryCodesLeft: 10 });

    const twice = await t.request('POST', '/api/v1/auth/mfa/totp', { token: user.token });
    assert.equal(twice.status, 409, 'enrolling again while on is a conflict');
    assert.equal(twice.body.code, 'conflict');
  });

  test('login of an MFA user: a ticket and no session; the code then gives the session', async () => {
    const user = await userWithMfa();
    const before = await sessionCount(user.id);
    const first = await login(user.email);
    assert.equal(first.status, 200, first.text);
    assert.deepEqual(Object.keys(first.body).sort(), ['mfaRequired', 'ticket']);
    assert.equal(first.body.mfaRequired, true);
    assert.equal(first.headers.get('set-cookie'), null, 'no session cookie before the second factor');
    assert.equal(await sessionCount(user.id), before, 'no session before the second factor');
    const stored = await t.app.services.db.all<{ token_hash: string }>('SELECT "token_hash" FROM "_mfa_tickets"');
    assert.ok(stored.every((s) => s.token_hash !== first.body.ticket), 'tickets are stored hashed');

    const wrongPassword = await login(user.email, 'not the password at all');
    assert.equal(wrongPassword.status, 401, 'the password is still checked first');

    const bad = await t.request('POST', '/api/v1/auth/mfa/verify', { token: null, body: { ticket: first.body.ticket, code: '000000' === user.totp.generate() ? '111111' : '000000' } });
    assert.equal(bad.status, 401);
    assert.equal(bad.body.code, 'invalid_credentials');
    assert.equal(await sessionCount(user.id), before);

    // The current step was used up by the confirmation: the app's next code is within the window.
    const code = user.totp.generate({ timestamp: Date.now() + STEP_MS });
    const ok = await t.request('POST', '/api/v1/auth/mfa/verify', { token: null, body: { ticket: first.body.ticket, code } });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.body.user.email, user.email);
    assert.match(ok.headers.get('set-cookie') ?? '', /^galley_session=[A-Za-z0-9_-]{43};.*HttpOnly/);
    assert.equal((await t.request('GET', '/api/v1/auth/me', { token: ok.body.token })).status, 200);

    const reuse = await t.request('POST', '/api/v1/auth/mfa/verify', { token: null, body: { ticket: first.body.ticket, code } });
    assert.equal(reuse.status, 401, 'a ticket is single-use');
    assert.equal(reuse.body.code, 'unauthenticated');

    // A code that has been accepted once is refused on a new ticket too (replay).
    const second = await login(user.email);
    const replay = await t.request('POST', '/api/v1/auth/mfa/verify', { token: null, body: { ticket: second.body.ticket, code } });
    assert.equal(replay.status, 401);
    assert.equal(replay.body.code, 'invalid_credentials');
    const older = await t.request('POST', '/api/v1/auth/mfa/verify', { token: null, body: { ticket: second.body.ticket, code: user.totp.generate() } });
    assert.equal(older.status, 401, 'an earlier step than the last accepted one is refused');
    assert.equal(await sessionCount(user.id), before + 1);
  });

  test('a recovery code works once, however it is typed', async () => {
    const user = await userWithMfa();
    const [code] = user.recoveryCodes;
    const first = await login(user.email);
    const ok = await t.request('POST', '/api/v1/auth/mfa/verify', { token: null, body: { ticket: first.body.ticket, code: ` ${code!.toUpperCase().replace('-', ' - ')} ` } });
    assert.equal(ok.status, 200, ok.text);
    const second = await login(user.email);
    const again = await t.request('POST', '/api/v1/auth/mfa/verify', { token: null, body: { ticket: second.body.ticket, code } });
    assert.equal(again.status, 401);
    assert.equal(again.body.code, 'invalid_credentials');
    assert.equal((await t.request('GET', '/api/v1/auth/mfa', { token: ok.body.token })).body.recoveryCodesLeft, 9);
  });

  test('a ticket dies after five wrong codes, and when it expires', async () => {
    const user = await userWithMfa();
    const first = await login(user.email);
    for (let i = 0; i < 5; i++) {
      const wrong = await t.request('POST', '/api/v1/auth/mfa/verify', { token: null, body: { ticket: first.body.ticket, code: `wrong-code${i}` } });
      assert.equal(wrong.status, 401);
      assert.equal(wrong.body.code, 'invalid_credentials');
    }
    const dead = await t.request('POST', '/api/v1/auth/mfa/verify', { token: null, body: { ticket: first.body.ticket, code: user.recoveryCodes[0] } });
    assert.equal(dead.status, 401);
    assert.equal(dead.body.code, 'unauthenticated');

    const second = await login(user.email);
    await t.app.services.db.run(`UPDATE "_mfa_tickets" SET "expires" = ${param(1)}`, [new Date(Date.now() - 1000).toISOString()]);
    const expired = await t.request('POST', '/api/v1/auth/mfa/verify', { token: null, body: { ticket: second.body.ticket, code: user.recoveryCodes[0] } });
    assert.equal(expired.status, 401);
    assert.equal(expired.body.code, 'unauthenticated');
    assert.equal((await t.request('GET', '/api/v1/auth/mfa', { token: user.token })).body.recoveryCodesLeft, 10, 'a refused ticket uses up no recovery code');
  });

  test('recovery codes can be replaced; the old ones stop working', async () => {
    const user = await userWithMfa();
    const res = await t.request('POST', '/api/v1/auth/mfa/recovery-codes', { token: user.token, body: { code: user.recoveryCodes[0] } });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.recoveryCodes.length, 10);
    const first = await login(user.email);
    const old = await t.request('POST', '/api/v1/auth/mfa/verify', { token: null, body: { ticket: first.body.ticket, code: user.recoveryCodes[1] } });
    assert.equal(old.status, 401);
    const fresh = await t.request('POST', '/api/v1/auth/mfa/verify', { token: null, body: { ticket: first.body.ticket, code: res.body.recoveryCodes[0] } });
    assert.equal(fresh.status, 200, fresh.text);
  });

  test('turning MFA off needs a current code; afterwards a password is enough again', async () => {
    const user = await userWithMfa();
    const noCode = await t.request('DELETE', '/api/v1/auth/mfa/totp', { token: user.token, body: {} });
    assert.equal(noCode.status, 400);
    assert.equal(noCode.body.code, 'validation_failed');
    const wrong = await t.request('DELETE', '/api/v1/auth/mfa/totp', { token: user.token, body: { code: 'aaaaa-aaaaa' } });
    assert.equal(wrong.status, 401);
    assert.equal((await t.request('GET', '/api/v1/auth/mfa', { token: user.token })).body.totp, 'on', 'a refused request changes nothing');

    const off = await t.request('DELETE', '/api/v1/auth/mfa/totp', { token: user.token, body: { code: user.totp.generate({ timestamp: Date.now() + STEP_MS }) } });
    assert.equal(off.status, 204, off.text);
    assert.deepEqual((await t.request('GET', '/api/v1/auth/mfa', { token: user.token })).body, { totp: 'off', recoveryCodesLeft: 0 });
    const res = await login(user.email);
    assert.ok(res.body.token, 'a session straight away');
    const gone = await t.request('DELETE', '/api/v1/auth/mfa/totp', { token: user.token, body: { code: user.recoveryCodes[0] } });
    assert.equal(gone.status, 404);
  });

  test('bad input: anonymous callers, malformed bodies and forged tickets change nothing', async () => {
    const anonymous = await t.request('POST', '/api/v1/auth/mfa/totp', { token: null });
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.body.code, 'unauthenticated');
    assert.equal((await t.request('GET', '/api/v1/auth/mfa', { token: null })).status, 401);

    const user = await newUser();
    const nothingPending = await t.request('POST', '/api/v1/auth/mfa/totp/confirm', { token: user.token, body: { code: '123456' } });
    assert.equal(nothingPending.status, 409);

    const cases: unknown[] = [
      { ticket: 'x'.repeat(201), code: '123456' },
      { ticket: 'abc', code: 123456 },
      { ticket: 'abc', code: '1'.repeat(33) },
      { ticket: 'abc' },
      { ticket: 'abc', code: '123456', extra: true },
    ];
    for (const body of cases) {
      const res = await t.request('POST', '/api/v1/auth/mfa/verify', { token: null, body });
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.body.code, 'validation_failed');
    }
    const forged = await t.request('POST', '/api/v1/auth/mfa/verify', { token: null, body: { ticket: 'forged-ticket-value-0123456789', code: '123456' } });
    assert.equal(forged.status, 401);
    assert.equal(forged.body.code, 'unauthenticated');
    assert.equal(forged.headers.get('set-cookie'), null);

    const mfaUser = await userWithMfa();
    const ticket = (await login(mfaUser.email)).body.ticket;
    const foreign = await t.request('POST', '/api/v1/auth/mfa/verify', { token: null, body: { ticket, code: mfaUser.recoveryCodes[0] }, headers: { origin: 'https://evil.example' } });
    assert.equal(foreign.status, 403, 'the second step is CSRF-checked like the first');
    assert.equal((await t.request('GET', '/api/v1/auth/mfa', { token: mfaUser.token })).body.recoveryCodesLeft, 10);
  });
});
