// Bad input at every endpoint: malformed, oversized, wrong-type and hostile requests get the
// documented problem code, never a 500, and change nothing.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { describeEachDialect } from '../src/testing/databases.ts';
import { createTestApp, type TestApp, type TestResponse } from '../src/testing/test-app.ts';


const RECORDS = '/api/v1/collections/notes/records';

function assertProblem(res: TestResponse, status: number, code: string, context = ''): void {
  assert.equal(res.status, status, `${context}: expected ${status} ${code}, got ${res.status} ${res.text}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/, context);
  assert.equal(res.body.code, code, context);
  assert.equal(res.body.status, status);
  assert.equal(typeof res.body.requestId, 'string');
  assert.doesNotMatch(res.text, /at \w+ \(|node_modules|\/work\/|SQLITE|syntax error|pg_|relation "/i, `${context}: internals leaked`);
}

await describeEachDialect('hostile input', (dialect) => {
  let t: TestApp;
  let count: () => Promise<number>;
  before(async () => {
    t = await createTestApp(dialect, { GALLEY_BODY_LIMIT: String(64 * 1024) });
    const res = await t.request('POST', '/api/v1/collections', {
      body: {
        name: 'notes',
        fields: [
          { name: 'title', type: 'text', max: 100 },
          { name: 'n', type: 'number' },
          { name: 'meta', type: 'json' },
          { name: 'tags', type: 'select', values: ['a', 'b'], multiple: true },
        ],
        rules: { list: '', view: '', create: '', update: '', delete: '' },
      },
    });
    assert.equal(res.status, 201, res.text);
    await t.request('POST', RECORDS, { body: { title: 'seed', n: 1 } });
    count = async () => (await t.request('GET', `${RECORDS}?count=true&limit=1`)).body.totalItems;
  });
  after(async () => t?.close());

  test('unknown routes and methods → 404 problem', async () => {
    assertProblem(await t.request('GET', '/nope'), 404, 'not_found', 'GET /nope');
    assertProblem(await t.request('PUT', RECORDS), 404, 'not_found', 'PUT on records');
    assertProblem(await t.request('GET', '/api/v1/collections/nope/records'), 404, 'not_found', 'unknown collection');
    assertProblem(await t.request('GET', `${RECORDS}/${'x'.repeat(300)}`), 404, 'not_found', 'long id');
    assertProblem(await t.request('GET', `${RECORDS}/..%2f..%2fetc`), 404, 'not_found', 'traversal id');
  });

  test('malformed bodies → 400 bad_request; nothing is stored', async () => {
    const before = await count();
    const raw = async (raw: string | Buffer, ctx: string, contentType = 'application/json') =>
      assertProblem(await t.request('POST', RECORDS, { raw, headers: { 'content-type': contentType } }), 400, 'bad_request', ctx);
    await raw('{"title": ', 'truncated JSON');
    await raw('', 'empty body');
    await raw('[1,2,3]', 'array body');
    await raw('"just a string"', 'string body');
    await raw('null', 'null body');
    await raw('{"__proto__": {"admin": true}, "title": "x"}', '__proto__ key');
    await raw('{"constructor": {"prototype": {"admin": true}}}', 'constructor.prototype');
    await raw(Buffer.from([0x7b, 0x22, 0x74, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]), 'invalid UTF-8');
    await raw('{"meta":' + '['.repeat(20_000) + ']'.repeat(20_000) + '}x', 'deep nesting');
    assert.equal(await count(), before);
  });

  test('wrong content types → 415', async () => {
    assertProblem(await t.request('POST', RECORDS, { raw: 'title=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } }), 415, 'unsupported_media_type', 'form');
    assertProblem(await t.request('POST', RECORDS, { raw: 'x', headers: { 'content-type': 'text/plain' } }), 415, 'unsupported_media_type', 'text');
    assertProblem(await t.request('POST', RECORDS, { raw: '<a/>', headers: { 'content-type': 'application/xml' } }), 415, 'unsupported_media_type', 'xml');
  });

  test('bodies over the limit → 413', async () => {
    const before = await count();
    const big = JSON.stringify({ title: 'x', meta: { pad: 'y'.repeat(70 * 1024) } });
    assertProblem(await t.request('POST', RECORDS, { raw: big, headers: { 'content-type': 'application/json' } }), 413, 'payload_too_large', 'oversized');
    assert.equal(await count(), before);
  });

  test('wrong types, huge numbers, unknown fields → 400 validation_failed listing each field', async () => {
    const before = await count();
    const res = await t.request('POST', RECORDS, {
      raw: '{"title": 12, "n": 1e400, "tags": "a", "unknown": true, "id": "bad id!"}',
      headers: { 'content-type': 'application/json' },
    });
    assertProblem(res, 400, 'validation_failed', 'types');
    assert.deepEqual(res.body.errors.map((e: { field: string }) => e.field).sort(), ['id', 'n', 'tags', 'title', 'unknown']);
    const nul = await t.request('POST', RECORDS, { body: { title: 'a\u0000b' } });
    assertProblem(nul, 400, 'validation_failed', 'NUL in text');
    const surrogate = await t.request('POST', RECORDS, { raw: '{"title": "\\ud800"}', headers: { 'content-type': 'application/json' } });
    assertProblem(surrogate, 400, 'validation_failed', 'lone surrogate');
    const long = await t.request('POST', RECORDS, { body: { title: 'x'.repeat(101) } });
    assertProblem(long, 400, 'validation_failed', 'too long');
    assert.equal(await count(), before);
  });

  test('SQL and filter injection is inert', async () => {
    const payloads = [
      "'; DROP TABLE notes; --",
      "title = 'x' OR 1=1 --",
      "title = 'x'); DROP TABLE notes; --",
      'title = "\\" OR 1=1"',
      "title ~ '%' || title ~ '_'",
      'n > 0 UNION SELECT * FROM users',
      '@request.auth.password_hash != ""',
      'title = @request.body.title',
      '__proto__ = 1',
      'constructor.prototype = 1',
      "title = '" + "\u0000" + "'",
      '('.repeat(100) + 'n = 1' + ')'.repeat(100),
      'n = 1 && '.repeat(300) + 'n = 1',
      'n = 99999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999',
    ];
    for (const filter of payloads) {
      const res = await t.request('GET', `${RECORDS}?filter=${encodeURIComponent(filter)}`);
      assert.ok(res.status === 200 || (res.status === 400 && res.body.code === 'invalid_filter'), `${filter}: ${res.status} ${res.text}`);
      if (res.status === 400) assert.equal(typeof res.body.position, 'number');
    }
    const stored = await t.request('POST', RECORDS, { body: { title: "Robert'); DROP TABLE notes;--" } });
    assert.equal(stored.status, 201);
    const found = await t.request('GET', `${RECORDS}?filter=${encodeURIComponent(`title = "Robert'); DROP TABLE notes;--"`)}`);
    assert.equal(found.body.items.length, 1);
    const wild = await t.request('GET', `${RECORDS}?filter=${encodeURIComponent("title ~ '%'")}`);
    assert.equal(wild.body.items.length, 0, '% is literal text in ~, not a wildcard');
    assert.equal((await t.request('GET', '/api/v1/collections/users')).status, 200, 'tables survive');
  });

  test('hostile query parameters → 400 bad_request', async () => {
    assertProblem(await t.request('GET', `${RECORDS}?limit=1e3`), 400, 'bad_request', 'limit exponent');
    assertProblem(await t.request('GET', `${RECORDS}?limit=-1`), 400, 'bad_request', 'negative limit');
    assertProblem(await t.request('GET', `${RECORDS}?limit=1&limit=2`), 400, 'bad_request', 'repeated');
    assertProblem(await t.request('GET', `${RECORDS}?cursor=${Buffer.from('["-created,-id",[1,2]]').toString('base64url')}`), 400, 'bad_request', 'forged cursor');
    assertProblem(await t.request('GET', `${RECORDS}?cursor=${Buffer.from('{"__proto__":1}').toString('base64url')}`), 400, 'bad_request', 'object cursor');
    assertProblem(await t.request('GET', `${RECORDS}?sort=${encodeURIComponent('title; DROP TABLE notes')}`), 400, 'invalid_filter', 'sort injection');
    assertProblem(await t.request('GET', `${RECORDS}?count=yes`), 400, 'bad_request', 'count');
    assertProblem(await t.request('GET', `${RECORDS}?fields=title,nope`), 400, 'bad_request', 'unknown field in fields');
  });

  test('malformed collection definitions never reach the database', async () => {
    const bad = [
      { name: 'x"; DROP TABLE users; --', fields: [] },
      { name: 'ok_name', fields: [{ name: 'a"b', type: 'text' }] },
      { name: 'ok_name', fields: 'nope' },
      { name: 'ok_name', fields: [{ name: 'a', type: 'text', max: 'big' }] },
      { name: 'ok_name', fields: [], rules: { list: 12 } },
      { name: 'ok_name', fields: [], indexes: [{ fields: ['missing'] }] },
      { name: 'ok_name', fields: [], extra: 1 },
    ];
    for (const body of bad) assertProblem(await t.request('POST', '/api/v1/collections', { body }), 400, 'validation_failed', JSON.stringify(body));
    assert.equal((await t.request('GET', '/api/v1/collections/ok_name')).status, 404);
  });

  test('updates, deletes and batches refuse hostile bodies and change nothing', async () => {
    const rec = await t.request('POST', RECORDS, { body: { title: 'stable', n: 7 } });
    const url = `${RECORDS}/${rec.body.id}`;
    assertProblem(await t.request('PATCH', url, { raw: '[]', headers: { 'content-type': 'application/json' } }), 400, 'bad_request', 'array patch');
    assertProblem(await t.request('PATCH', url, { raw: '{"__proto__":{"x":1}}', headers: { 'content-type': 'application/json' } }), 400, 'bad_request', 'proto patch');
    assertProblem(await t.request('PATCH', url, { body: { n: 'seven', created: '2020-01-01', nope: 1 } }), 400, 'validation_failed', 'typed patch');
    assertProblem(await t.request('PATCH', url, { body: { n: 8 }, headers: { 'if-match': '"garbage"' } }), 412, 'precondition_failed', 'garbage If-Match');
    assertProblem(await t.request('DELETE', url, { headers: { 'if-match': 'W/"x", "y"' } }), 412, 'precondition_failed', 'garbage If-Match on delete');
    assertProblem(await t.request('PATCH', `${RECORDS}/nope`, { body: { n: 1 } }), 404, 'not_found', 'missing record');
    const same = await t.request('GET', url);
    assert.equal(same.body.n, 7);
    assert.equal(same.body.title, 'stable');
    assertProblem(await t.request('POST', '/api/v1/batch', { body: { operations: 'all' } }), 400, 'validation_failed', 'batch not a list');
    assertProblem(await t.request('POST', '/api/v1/batch', { body: { operations: [null, 1, []] } }), 400, 'validation_failed', 'batch junk');
    assertProblem(await t.request('POST', '/api/v1/batch', { body: { operations: [{ action: 'update', collection: 'notes', id: rec.body.id, body: [] }] } }), 400, 'validation_failed', 'batch body array');
    assertProblem(await t.request('POST', '/api/v1/batch', { body: { operations: [{ action: 'create', collection: 'nope', body: {} }] } }), 404, 'not_found', 'batch unknown collection');
    assertProblem(await t.request('PATCH', '/api/v1/collections/notes', { body: { fields: [{ name: 'title', type: 'text', max: -1 }] } }), 400, 'validation_failed', 'collection patch');
    assertProblem(await t.request('PATCH', '/api/v1/collections/notes', { raw: '"x"', headers: { 'content-type': 'application/json' } }), 400, 'validation_failed', 'collection patch string');
    assertProblem(await t.request('DELETE', '/api/v1/collections/%22%3B%20DROP'), 404, 'not_found', 'hostile collection name');
    assert.equal((await t.request('GET', '/api/v1/collections/notes')).body.fields.length, 4, 'definition unchanged');
  });

  test('bad credentials and tokens', async () => {
    assertProblem(await t.request('GET', RECORDS, { token: 'x'.repeat(43) }), 401, 'unauthenticated', 'unknown bearer');
    assertProblem(await t.request('GET', RECORDS, { headers: { authorization: 'Basic abc' }, token: null }), 401, 'unauthenticated', 'basic auth');
    assertProblem(await t.request('POST', '/api/v1/auth/login', { body: { email: 'admin@example.com', password: 'wrong password' }, token: null }), 401, 'invalid_credentials', 'wrong password');
    assertProblem(await t.request('POST', '/api/v1/auth/login', { body: { email: 'nobody@example.com', password: 'wrong password' }, token: null }), 401, 'invalid_credentials', 'unknown account');
    assertProblem(await t.request('POST', '/api/v1/auth/login', { body: { email: ['x'], password: 1 }, token: null }), 400, 'validation_failed', 'wrong types');
    assertProblem(await t.request('POST', '/api/v1/batch', { body: { operations: [{ action: 'drop', collection: 'notes' }] } }), 400, 'validation_failed', 'batch action');
  });
});
