// Registration (contract §3): the password policy (length, capped before hashing, common passwords),
// email normalisation, and hostile emails — each refused with its documented code, creating nothing.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { describeEachDialect } from '../src/testing/databases.ts';
import { createTestApp, type TestApp, type TestResponse } from '../src/testing/test-app.ts';

const PASSWORD = 'a long and unusual passphrase';

function assertFieldError(res: TestResponse, field: string, code: string, context: string): void {
  assert.equal(res.status, 400, `${context}: ${res.status} ${res.text}`);
  assert.equal(res.body.code, 'validation_failed', context);
  assert.ok(res.body.errors.some((e: { field: string; code: string }) => e.field === field && e.code === code), `${context}: expected ${field}/${code}, got ${JSON.stringify(res.body.errors)}`);
}

await describeEachDialect('registration', (dialect) => {
  let t: TestApp;
  const userCount = async () => Number((await t.app.services.db.get<{ n: number }>('SELECT COUNT(*) AS n FROM "users"'))!.n);
  const register = (body: unknown, headers: Record<string, string> = {}) => t.request('POST', '/api/v1/auth/register', { body, token: null, headers });
  before(async () => {
    t = await createTestApp(dialect);
  });
  after(async () => t?.close());

  test('register → 201 {user, token}, a session cookie, an unverified account without roles', async () => {
    const res = await register({ email: '  Dana@Example.COM ', password: PASSWORD, name: 'Dana' });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.body.user.email, 'dana@example.com');
    assert.equal(res.body.user.name, 'Dana');
    assert.equal(res.body.user.verified, false);
    assert.deepEqual(res.body.user.roles, []);
    assert.equal(res.body.user.passwordHash, undefined);
    assert.match(res.headers.get('set-cookie')!, /^galley_session=[A-Za-z0-9_-]{43};.*HttpOnly/);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    const me = await t.request('GET', '/api/v1/auth/me', { token: res.body.token });
    assert.equal(me.body.user.id, res.body.user.id);
    const login = await t.request('POST', '/api/v1/auth/login', { body: { email: 'DANA@example.com', password: PASSWORD }, token: null });
    assert.equal(login.status, 200);
  });

  test('a taken email, in any case or Unicode form, is 409 conflict and changes nothing', async () => {
    assert.equal((await register({ email: 'jose\u0301@example.com', password: PASSWORD })).status, 201, 'decomposed é');
    const before = await userCount();
    for (const email of ['DANA@example.com', 'jos\u00e9@example.com', 'JOS\u00c9@EXAMPLE.COM']) {
      const res = await register({ email, password: PASSWORD });
      assert.equal(res.status, 409, email);
      assert.equal(res.body.code, 'conflict');
      assert.deepEqual(res.body.errors, [{ field: 'email', code: 'not_unique', message: 'is taken' }]);
    }
    assert.equal(await userCount(), before);
    const login = await t.request('POST', '/api/v1/auth/login', { body: { email: 'jos\u00e9@example.com', password: PASSWORD }, token: null });
    assert.equal(login.status, 200, 'the composed form signs in to the account made with the decomposed one');
  });

  test('the password policy: required, a string, 8 to 1024 characters, not a common password', async () => {
    const before = await userCount();
    const cases: Array<[unknown, string]> = [
      [undefined, 'required'],
      [12345678, 'invalid_type'],
      ['short', 'too_short'],
      ['\u{1F600}'.repeat(7), 'too_short'], // 14 UTF-16 units, 7 characters
      ['x'.repeat(1025), 'too_long'],
      ['password', 'common_password'],
      ['BaseBall', 'common_password'],
      ['qwertyuiop', 'common_password'],
      ['iloveyou1', 'common_password'],
      ['pass\u0000word12', 'invalid_value'],
    ];
    for (const [password, code] of cases) {
      const res = await register({ email: `policy-${code}@example.com`, ...(password === undefined ? {} : { password }) });
      assertFieldError(res, 'password', code, `password ${JSON.stringify(password)?.slice(0, 40)}`);
    }
    assert.equal(await userCount(), before);
    assert.equal((await register({ email: 'eight@example.com', password: '\u{1F600}'.repeat(8) })).status, 201, '8 characters suffice');
  });

  test('a huge password is refused before anything is hashed', async () => {
    const started = performance.now();
    const res = await register({ email: 'huge@example.com', password: 'x'.repeat(5_000_000) });
    assertFieldError(res, 'password', 'too_long', 'five million characters');
    // No argon2 pass over 5 MB took place (one would take far longer than parsing the body).
    assert.ok(performance.now() - started < 5000);
    const login = await t.request('POST', '/api/v1/auth/login', { body: { email: 'dana@example.com', password: 'x'.repeat(5_000_000) }, token: null });
    assert.equal(login.status, 400);
  });

  test('every invalid field is reported at once', async () => {
    const res = await register({ email: 'not an email', password: 'short', name: 42 });
    assert.equal(res.status, 400);
    assert.deepEqual(res.body.errors.map((e: { field: string }) => e.field).sort(), ['email', 'name', 'password']);
  });

  test('roles, verified or any other account field cannot be set at registration', async () => {
    const before = await userCount();
    for (const extra of [{ roles: ['admin'] }, { verified: true }, { password_hash: 'x' }, { id: 'chosen' }, { created: '2020-01-01T00:00:00Z' }]) {
      const res = await register({ email: 'climber@example.com', password: PASSWORD, ...extra });
      assertFieldError(res, Object.keys(extra)[0]!, 'unknown_field', JSON.stringify(extra));
    }
    assert.equal(await userCount(), before);
  });

  test('hostile emails are refused with their code and create nothing', async () => {
    const before = await userCount();
    const cases: Array<[unknown, string, string]> = [
      [undefined, 'required', 'missing'],
      [['a@example.com'], 'invalid_type', 'an array'],
      ['victim@example.com\r\nBcc: everyone@example.com', 'invalid_email', 'header injection (CRLF)'],
      ['victim@example.com\nX-Evil: 1', 'invalid_email', 'header injection (LF)'],
      ['vic\u0000tim@example.com', 'invalid_email', 'NUL'],
      ['ad\u200bmin@example.com', 'invalid_email', 'zero-width space'],
      ['admin\u202e@example.com', 'invalid_email', 'bidi override'],
      ['adm\u00adin@example.com', 'invalid_email', 'soft hyphen'],
      ['p\u0430ypal@example.com', 'confusable_email', 'Cyrillic а in a Latin local part'],
      ['billing@ex\u0430mple.com', 'confusable_email', 'Cyrillic а in a Latin domain'],
      ['\uff41dmin@example.com', 'confusable_email', 'full-width a'],
      ['of\ufb01ce@example.com', 'confusable_email', 'fi ligature'],
      [`${'a'.repeat(65)}@example.com`, 'invalid_email', 'local part over 64'],
      [`a@${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(60)}.${'e'.repeat(60)}.${'f'.repeat(10)}.com`, 'too_long', 'over 254'],
      [`a@${'b'.repeat(64)}.com`, 'invalid_email', 'a label over 63'],
      ['a'.repeat(1_000_000) + '@example.com', 'too_long', 'a megabyte'],
      ['"quoted local"@example.com', 'invalid_email', 'quoted local part'],
      ['a b@example.com', 'invalid_email', 'inner space'],
      ['a@b@example.com', 'invalid_email', 'two @'],
      ['@example.com', 'invalid_email', 'no local part'],
      ['nobody@localhost', 'invalid_email', 'no dot in the domain'],
      ['x@example.123', 'invalid_email', 'numeric top-level label'],
      ['x@-example.com', 'invalid_email', 'label starting with a hyphen'],
      ['x@example..com', 'invalid_email', 'empty label'],
      ['x..y@example.com', 'invalid_email', 'two dots in the local part'],
      ['<x@example.com>', 'invalid_email', 'angle brackets'],
      ['x@example.com,y@example.com', 'invalid_email', 'a list'],
    ];
    for (const [email, code, why] of cases) {
      assertFieldError(await register({ ...(email === undefined ? {} : { email }), password: PASSWORD }), 'email', code, why);
    }
    assert.equal(await userCount(), before);
  });

  test('addresses in one script of any kind are welcome', async () => {
    for (const email of ['jos\u00e9.garc\u00eda@example.es', '\u043f\u043e\u0447\u0442\u0430@\u043f\u0440\u0438\u043c\u0435\u0440.\u0440\u0444', '\u7528\u6237@\u4f8b\u5b50.\u5e7f\u544a', 'o\u2019brien+tag@example.ie'.replace('\u2019', "'"), 'tanaka\u592a\u90ce@example.jp']) {
      const res = await register({ email, password: PASSWORD });
      assert.equal(res.status, 201, `${email}: ${res.text}`);
    }
  });

  test('a body that is not an object is 400', async () => {
    assert.equal((await t.request('POST', '/api/v1/auth/register', { raw: '["x"]', token: null, headers: { 'content-type': 'application/json' } })).status, 400);
    assert.equal((await t.request('POST', '/api/v1/auth/register', { raw: '{', token: null, headers: { 'content-type': 'application/json' } })).body.code, 'bad_request');
  });
});
