// Collections API on every database: definitions are validated, and changes migrate the table in
// place (add, rename, drop, retype) while keeping every other value.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { describeEachDialect } from '../src/testing/databases.ts';
import { createTestApp, type TestApp } from '../src/testing/test-app.ts';

await describeEachDialect('collections', (dialect) => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp(dialect);
  });
  after(async () => t?.close());

  test('users is built in and cannot be deleted', async () => {
    const list = await t.request('GET', '/api/v1/collections');
    assert.equal(list.status, 200);
    assert.ok(list.body.items.some((c: { name: string }) => c.name === 'users'));
    const del = await t.request('DELETE', '/api/v1/collections/users');
    assert.equal(del.status, 403);
    assert.equal(del.body.code, 'forbidden');
  });

  test('only superusers manage collections', async () => {
    const anon = await t.request('GET', '/api/v1/collections', { token: null });
    assert.equal(anon.status, 401);
    assert.equal(anon.body.code, 'unauthenticated');
    assert.match(anon.headers.get('content-type') ?? '', /^application\/problem\+json(;|$)/);
  });

  test('every field type, indexes and rules are accepted; the definition round-trips', async () => {
    const res = await t.request('POST', '/api/v1/collections', {
      body: {
        name: 'things',
        fields: [
          { name: 'title', type: 'text', required: true, max: 200, min: 1, pattern: '^[^<>]*$' },
          { name: 'price', type: 'number', min: 0, max: 1e6 },
          { name: 'qty', type: 'number', integer: true },
          { name: 'active', type: 'boolean' },
          { name: 'due', type: 'date' },
          { name: 'contact', type: 'email' },
          { name: 'site', type: 'url' },
          { name: 'status', type: 'select', values: ['draft', 'published'] },
          { name: 'tags', type: 'select', values: ['a', 'b', 'c'], multiple: true },
          { name: 'meta', type: 'json' },
          { name: 'owner', type: 'relation', collection: 'users' },
          { name: 'cover', type: 'file', maxSize: 5242880, mimeTypes: ['image/png'], thumbs: ['100x100', '0x300'] },
        ],
        indexes: [{ fields: ['status', 'created'] }, { fields: ['title'], unique: true }],
        search: ['title'],
        rules: { list: "status = 'published' || owner = @request.auth.id", view: '', create: "@request.auth.id != ''", update: 'owner = @request.auth.id', delete: null },
      },
    });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.headers.get('location'), '/api/v1/collections/things');
    assert.equal(res.body.fields.length, 12);
    assert.ok(res.body.fields.every((f: { id?: string }) => typeof f.id === 'string'));
    const got = await t.request('GET', '/api/v1/collections/things');
    assert.deepEqual(got.body.fields, res.body.fields);
  });

  test('invalid definitions report every problem at once and create nothing', async () => {
    const res = await t.request('POST', '/api/v1/collections', {
      body: {
        name: 'Bad Name',
        fields: [
          { name: 'id', type: 'text' },
          { name: 'x', type: 'nope' },
          { name: 'n', type: 'number', min: 5, max: 1 },
          { name: 's', type: 'select' },
          { name: 'r', type: 'relation', collection: 'missing' },
          { name: 'p', type: 'text', pattern: '(' },
        ],
      },
    });
    assert.equal(res.status, 400);
    assert.equal(res.body.code, 'validation_failed');
    const fields = res.body.errors.map((e: { field: string }) => e.field);
    for (const f of ['name', 'fields[0].name', 'fields[1].type', 'fields[2].min', 'fields[3].values', 'fields[4].collection', 'fields[5].pattern']) {
      assert.ok(fields.includes(f), `expected an error for ${f}: ${JSON.stringify(res.body.errors)}`);
    }
    const reserved = await t.request('POST', '/api/v1/collections', { body: { name: 'sqlite_master', fields: [] } });
    assert.equal(reserved.status, 400);
  });

  test('a rule that does not compile is refused with its position', async () => {
    const res = await t.request('POST', '/api/v1/collections', {
      body: { name: 'ruled', fields: [{ name: 'a', type: 'text' }], rules: { list: 'a = ', view: 'nope = 1' } },
    });
    assert.equal(res.status, 400);
    const fields = res.body.errors.map((e: { field: string }) => e.field).sort();
    assert.deepEqual(fields, ['rules.list', 'rules.view']);
    assert.match(res.body.errors[0].message, /at \d+/);
  });

  test('a taken name is refused', async () => {
    const body = { name: 'dupe', fields: [] };
    assert.equal((await t.request('POST', '/api/v1/collections', { body })).status, 201);
    const again = await t.request('POST', '/api/v1/collections', { body });
    assert.equal(again.status, 400);
    assert.equal(again.body.errors[0].code, 'taken');
  });

  test('migration: add, rename, drop and retype keep every other value', async () => {
    const created = await t.request('POST', '/api/v1/collections', {
      body: {
        name: 'mig',
        fields: [
          { name: 'title', type: 'text' },
          { name: 'count', type: 'number' },
          { name: 'flag', type: 'boolean' },
          { name: 'gone', type: 'text' },
          { name: 'tag', type: 'select', values: ['x', 'y'] },
        ],
        rules: { list: '', view: '' },
      },
    });
    assert.equal(created.status, 201, created.text);
    const rec = await t.request('POST', '/api/v1/collections/mig/records', { body: { title: 'hello', count: 42, flag: true, gone: 'bye', tag: 'x' } });
    assert.equal(rec.status, 201, rec.text);
    const [title, count, flag, , tag] = created.body.fields;
    const patched = await t.request('PATCH', '/api/v1/collections/mig', {
      body: {
        fields: [
          { ...title, name: 'headline' }, // rename by id
          { ...count, type: 'text' }, // number → text
          flag,
          { ...tag, multiple: true }, // single → multiple
          { name: 'added', type: 'number' },
        ],
      },
    });
    assert.equal(patched.status, 200, patched.text);
    const after = await t.request('GET', `/api/v1/collections/mig/records/${rec.body.id}`);
    assert.equal(after.status, 200, after.text);
    assert.equal(after.body.headline, 'hello');
    assert.equal(after.body.count, '42');
    assert.equal(after.body.flag, true);
    assert.deepEqual(after.body.tag, ['x']);
    assert.equal(after.body.added, null);
    assert.equal('gone' in after.body, false);
    assert.equal('title' in after.body, false);
  });

  test('fields that swap names keep their values, and their indexes follow the columns', async () => {
    const created = await t.request('POST', '/api/v1/collections', {
      body: { name: 'swap', fields: [{ name: 'a', type: 'text' }, { name: 'b', type: 'number' }], indexes: [{ fields: ['a'], unique: true }], rules: { list: '', view: '', create: '' } },
    });
    assert.equal(created.status, 201, created.text);
    const [a, b] = created.body.fields;
    const rec = await t.request('POST', '/api/v1/collections/swap/records', { body: { a: 'x', b: 1 } });
    assert.equal(rec.status, 201, rec.text);
    const swapped = await t.request('PATCH', '/api/v1/collections/swap', {
      body: { fields: [{ ...a, name: 'b' }, { ...b, name: 'a' }], indexes: [{ fields: ['b'], unique: true }] },
    });
    assert.equal(swapped.status, 200, swapped.text);
    const read = await t.request('GET', `/api/v1/collections/swap/records/${rec.body.id}`);
    assert.equal(read.body.b, 'x');
    assert.equal(read.body.a, 1);
    // The unique index is on the text column (now "b"), not on the number column that took its old name.
    const sameNumber = await t.request('POST', '/api/v1/collections/swap/records', { body: { b: 'y', a: 1 } });
    assert.equal(sameNumber.status, 201, sameNumber.text);
    const sameText = await t.request('POST', '/api/v1/collections/swap/records', { body: { b: 'x', a: 2 } });
    assert.equal(sameText.status, 409, sameText.text);
  });

  test('a retype that would lose values is refused and changes nothing', async () => {
    const c = await t.request('POST', '/api/v1/collections', { body: { name: 'lossy', fields: [{ name: 'v', type: 'text' }], rules: { view: '' } } });
    const r = await t.request('POST', '/api/v1/collections/lossy/records', { body: { v: 'not a number' } });
    const res = await t.request('PATCH', '/api/v1/collections/lossy', { body: { fields: [{ ...c.body.fields[0], type: 'number' }, { name: 'extra', type: 'text' }] } });
    assert.equal(res.status, 400);
    assert.equal(res.body.errors[0].code, 'cannot_convert');
    const def = await t.request('GET', '/api/v1/collections/lossy');
    assert.equal(def.body.fields.length, 1);
    assert.equal(def.body.fields[0].type, 'text');
    const still = await t.request('GET', `/api/v1/collections/lossy/records/${r.body.id}`);
    assert.equal(still.body.v, 'not a number');
  });

  test('a unique index over duplicate values is refused with 409', async () => {
    await t.request('POST', '/api/v1/collections', { body: { name: 'uniq', fields: [{ name: 'k', type: 'text' }] } });
    await t.request('POST', '/api/v1/collections/uniq/records', { body: { k: 'same' } });
    await t.request('POST', '/api/v1/collections/uniq/records', { body: { k: 'same' } });
    const res = await t.request('PATCH', '/api/v1/collections/uniq', { body: { indexes: [{ fields: ['k'], unique: true }] } });
    assert.equal(res.status, 409);
    assert.equal(res.body.code, 'conflict');
  });

  test('a plain index ends with id, so a sorted list and its cursor pages need no sort step', async () => {
    await t.request('POST', '/api/v1/collections', { body: { name: 'ix', fields: [{ name: 's', type: 'text' }, { name: 'u', type: 'text' }], indexes: [{ fields: ['s', 'created'] }, { fields: ['u'], unique: true }] } });
    const db = t.app.services.db;
    const columns =
      dialect === 'sqlite'
        ? await db.all<{ index: string; name: string }>(`SELECT il.name AS "index", ii.name FROM pragma_index_list('ix') il, pragma_index_info(il.name) ii WHERE il.origin = 'c' ORDER BY il.name, ii.seqno`)
        : await db.all<{ index: string; name: string }>(
            `SELECT i.relname AS "index", a.attname AS name FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
             CROSS JOIN LATERAL unnest(x.indkey) WITH ORDINALITY k(attnum, n) JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
             WHERE t.relname = 'ix' AND NOT x.indisprimary ORDER BY i.relname, k.n`,
          );
    const byIndex = new Map<string, string[]>();
    for (const c of columns) byIndex.set(c.index, [...(byIndex.get(c.index) ?? []), c.name]);
    const sets = [...byIndex.values()].map((cols) => cols.join(','));
    assert.ok(sets.includes('s,created,id'), sets.join(' | '));
    assert.ok(sets.includes('created,id'), sets.join(' | '));
    assert.ok(sets.includes('u'), 'a unique index keeps exactly its fields: ' + sets.join(' | '));
  });

  test('renaming a collection carries its records and the relations that point at it', async () => {
    await t.request('POST', '/api/v1/collections', { body: { name: 'authors', fields: [{ name: 'name', type: 'text' }], rules: { view: '' } } });
    await t.request('POST', '/api/v1/collections', { body: { name: 'books', fields: [{ name: 'author', type: 'relation', collection: 'authors' }], rules: { view: '' } } });
    const a = await t.request('POST', '/api/v1/collections/authors/records', { body: { name: 'Ann' } });
    const b = await t.request('POST', '/api/v1/collections/books/records', { body: { author: a.body.id } });
    const renamed = await t.request('PATCH', '/api/v1/collections/authors', { body: { name: 'writers' } });
    assert.equal(renamed.status, 200, renamed.text);
    assert.equal((await t.request('GET', '/api/v1/collections/authors')).status, 404);
    const books = await t.request('GET', '/api/v1/collections/books');
    assert.equal(books.body.fields[0].collection, 'writers');
    const expanded = await t.request('GET', `/api/v1/collections/books/records/${b.body.id}?expand=author`);
    assert.equal(expanded.body.expand.author.name, 'Ann');
    const del = await t.request('DELETE', '/api/v1/collections/writers');
    assert.equal(del.status, 409, 'a collection others relate to cannot be deleted');
  });

  test('the OpenAPI document follows the collections, and passes a standard validator', async () => {
    const before = await t.request('GET', '/api/v1/openapi.json', { token: null });
    assert.equal(before.status, 200);
    assert.equal(before.body.openapi.startsWith('3.1'), true);
    assert.equal(before.body.paths['/api/v1/collections/openapi_probe/records'], undefined);
    await t.request('POST', '/api/v1/collections', { body: { name: 'openapi_probe', fields: [{ name: 'title', type: 'text', required: true }] } });
    const after = await t.request('GET', '/api/v1/openapi.json', { token: null });
    assert.ok(after.body.paths['/api/v1/collections/openapi_probe/records']);
    assert.ok(Object.keys(after.body.components.schemas).some((n) => n.startsWith('OpenapiProbe')));
    const { default: SwaggerParser } = await import('@apidevtools/swagger-parser');
    await SwaggerParser.validate(structuredClone(after.body));
    const docs = await t.request('GET', '/docs', { token: null });
    assert.equal(docs.status, 200);
    assert.doesNotMatch(docs.text, /https?:\/\/(?!127\.0\.0\.1)[^"']*\.(js|css)/, 'no CDN assets');
  });

  test('delete drops the collection', async () => {
    await t.request('POST', '/api/v1/collections', { body: { name: 'temp', fields: [] } });
    assert.equal((await t.request('DELETE', '/api/v1/collections/temp')).status, 204);
    assert.equal((await t.request('GET', '/api/v1/collections/temp')).status, 404);
    assert.equal((await t.request('GET', '/api/v1/collections/temp/records')).status, 404);
  });
});
