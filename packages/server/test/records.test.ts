// Records API on every database: CRUD with validation, rules, relations and expansion, lists with
// filter/sort/cursor/fields/count, ETags, If-Match, Idempotency-Key, and the batch endpoint.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { describeEachDialect } from '../src/testing/databases.ts';
import { createSignedInUser, createTestApp, type TestApp } from '../src/testing/test-app.ts';


const POSTS = {
  name: 'posts',
  fields: [
    { name: 'title', type: 'text', required: true, max: 50 },
    { name: 'price', type: 'number', min: 0 },
    { name: 'status', type: 'select', values: ['draft', 'published'] },
    { name: 'tags', type: 'select', values: ['a', 'b', 'c'], multiple: true },
    { name: 'author', type: 'relation', collection: 'users' },
    { name: 'due', type: 'date' },
    { name: 'meta', type: 'json' },
  ],
  indexes: [{ fields: ['status', 'created'] }, { fields: ['title'], unique: true }],
  rules: {
    list: "status = 'published' || author = @request.auth.id",
    view: "status = 'published' || author = @request.auth.id",
    create: "@request.auth.id != '' && author = @request.auth.id",
    update: 'author = @request.auth.id && @request.body.status != "archived"',
    delete: 'author = @request.auth.id',
  },
};


await describeEachDialect('records', (dialect) => {
  let t: TestApp;
  let alice: { id: string; token: string };
  let bob: { id: string; token: string };
  before(async () => {
    t = await createTestApp(dialect);
    const res = await t.request('POST', '/api/v1/collections', { body: POSTS });
    assert.equal(res.status, 201, res.text);
    alice = await createSignedInUser(t, 'alice@example.com');
    bob = await createSignedInUser(t, 'bob@example.com');
  });
  after(async () => t?.close());

  test('create → 201 with Location and ETag; get → 200; If-None-Match → 304', async () => {
    const res = await t.request('POST', '/api/v1/collections/posts/records', {
      token: alice.token,
      body: { title: 'Hello', price: 10, status: 'published', tags: ['a', 'b', 'a'], author: alice.id, due: '2026-01-02', meta: { k: [1, 2] } },
    });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.headers.get('location'), `/api/v1/collections/posts/records/${res.body.id}`);
    assert.match(res.body.id, /^[a-z0-9]{15}$/);
    assert.deepEqual(res.body.tags, ['a', 'b']);
    assert.equal(res.body.due, '2026-01-02T00:00:00.000Z');
    assert.deepEqual(res.body.meta, { k: [1, 2] });
    const got = await t.request('GET', `/api/v1/collections/posts/records/${res.body.id}`, { token: null });
    assert.equal(got.status, 200);
    assert.deepEqual(got.body, res.body);
    const etag = got.headers.get('etag')!;
    assert.ok(etag);
    const again = await t.request('GET', `/api/v1/collections/posts/records/${res.body.id}`, { token: null, headers: { 'if-none-match': etag } });
    assert.equal(again.status, 304);
  });

  test('validation reports every invalid field at once', async () => {
    const res = await t.request('POST', '/api/v1/collections/posts/records', {
      token: alice.token,
      body: { price: -1, status: 'nope', tags: ['z'], author: 'missingid', due: 'yesterday', extra: 1 },
    });
    assert.equal(res.status, 400);
    assert.equal(res.body.code, 'validation_failed');
    const fields = res.body.errors.map((e: { field: string }) => e.field).sort();
    assert.deepEqual(fields, ['author', 'due', 'extra', 'price', 'status', 'tags', 'title']);
  });

  test('dates are checked strictly: no silent rollover of 2024-02-30', async () => {
    for (const due of ['2024-02-30', '2023-02-29', '2024-13-01', '2024-05-01T25:00:00Z', 'tomorrow']) {
      const res = await t.request('POST', '/api/v1/collections/posts/records', { body: { title: `date ${due}`, due } });
      assert.equal(res.status, 400, `${due}: ${res.text}`);
      assert.equal(res.body.errors[0].code, 'invalid_date');
    }
    const ok = await t.request('POST', '/api/v1/collections/posts/records', { body: { title: 'leap day', due: '2024-02-29T12:30:00+02:00' } });
    assert.equal(ok.status, 201, ok.text);
    assert.equal(ok.body.due, '2024-02-29T10:30:00.000Z');
  });

  test('relations must exist', async () => {
    const res = await t.request('POST', '/api/v1/collections/posts/records', { body: { title: 'orphan', author: 'doesnotexist123' } });
    assert.equal(res.status, 400);
    assert.deepEqual(res.body.errors.map((e: { field: string }) => e.field), ['author']);
  });

  test('rules: anonymous create → 401, someone else as author → 403, nothing stored', async () => {
    const anon = await t.request('POST', '/api/v1/collections/posts/records', { token: null, body: { title: 'x1' } });
    assert.equal(anon.status, 401);
    const spoof = await t.request('POST', '/api/v1/collections/posts/records', { token: bob.token, body: { title: 'spoof', author: alice.id } });
    assert.equal(spoof.status, 403);
    const list = await t.request('GET', `/api/v1/collections/posts/records?filter=${encodeURIComponent("title = 'spoof'")}`);
    assert.equal(list.body.items.length, 0, 'a denied create is rolled back');
  });

  test('rules: drafts are visible to their author only; others get 404, never 403', async () => {
    const draft = await t.request('POST', '/api/v1/collections/posts/records', { token: alice.token, body: { title: 'secret', status: 'draft', author: alice.id } });
    assert.equal(draft.status, 201, draft.text);
    assert.equal((await t.request('GET', `/api/v1/collections/posts/records/${draft.body.id}`, { token: bob.token })).status, 404);
    assert.equal((await t.request('GET', `/api/v1/collections/posts/records/${draft.body.id}`, { token: alice.token })).status, 200);
    const bobList = await t.request('GET', '/api/v1/collections/posts/records', { token: bob.token });
    assert.ok(!bobList.body.items.some((p: { id: string }) => p.id === draft.body.id));
    const upd = await t.request('PATCH', `/api/v1/collections/posts/records/${draft.body.id}`, { token: bob.token, body: { title: 'mine' } });
    assert.equal(upd.status, 404);
    const del = await t.request('DELETE', `/api/v1/collections/posts/records/${draft.body.id}`, { token: bob.token });
    assert.equal(del.status, 404);
  });

  test('rules: @request.body is checked on update; a visible record denied is 403', async () => {
    const pub = await t.request('POST', '/api/v1/collections/posts/records', { token: alice.token, body: { title: 'pub', status: 'published', author: alice.id } });
    const byBob = await t.request('PATCH', `/api/v1/collections/posts/records/${pub.body.id}`, { token: bob.token, body: { title: 'hijack' } });
    assert.equal(byBob.status, 403);
    const ok = await t.request('PATCH', `/api/v1/collections/posts/records/${pub.body.id}`, { token: alice.token, body: { price: 3 } });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.body.price, 3);
    assert.equal(ok.body.title, 'pub');
  });

  test('unique index → 409 conflict naming the field', async () => {
    await t.request('POST', '/api/v1/collections/posts/records', { body: { title: 'unique-one' } });
    const dup = await t.request('POST', '/api/v1/collections/posts/records', { body: { title: 'unique-one' } });
    assert.equal(dup.status, 409);
    assert.equal(dup.body.code, 'conflict');
    assert.equal(dup.body.errors[0].field, 'title');
  });

  test('If-Match: stale → 412, current → 200', async () => {
    const rec = await t.request('POST', '/api/v1/collections/posts/records', { body: { title: 'versioned' } });
    const etag = rec.headers.get('etag')!;
    const first = await t.request('PATCH', `/api/v1/collections/posts/records/${rec.body.id}`, { body: { price: 1 }, headers: { 'if-match': etag } });
    assert.equal(first.status, 200, first.text);
    const stale = await t.request('PATCH', `/api/v1/collections/posts/records/${rec.body.id}`, { body: { price: 2 }, headers: { 'if-match': etag } });
    assert.equal(stale.status, 412);
    assert.equal(stale.body.code, 'precondition_failed');
    const fresh = await t.request('PATCH', `/api/v1/collections/posts/records/${rec.body.id}`, { body: { price: 2 }, headers: { 'if-match': first.headers.get('etag')! } });
    assert.equal(fresh.status, 200);
  });

  test('Idempotency-Key replays the first response; another body → 409', async () => {
    const headers = { 'idempotency-key': `key-${dialect}-1` };
    const a = await t.request('POST', '/api/v1/collections/posts/records', { body: { title: 'idem' }, headers });
    const b = await t.request('POST', '/api/v1/collections/posts/records', { body: { title: 'idem' }, headers });
    assert.equal(a.status, 201);
    assert.equal(b.status, 201);
    assert.equal(b.body.id, a.body.id);
    assert.equal(b.headers.get('location'), a.headers.get('location'));
    // First answer and replay carry the record's own validator, as a GET of it does.
    const read = await t.request('GET', `/api/v1/collections/posts/records/${a.body.id}`);
    assert.equal(a.headers.get('etag'), read.headers.get('etag'));
    assert.equal(b.headers.get('etag'), read.headers.get('etag'));
    const c = await t.request('POST', '/api/v1/collections/posts/records', { body: { title: 'other' }, headers });
    assert.equal(c.status, 409);
    assert.equal(c.body.errors[0].code, 'idempotency_key_reused');
    const list = await t.request('GET', `/api/v1/collections/posts/records?filter=${encodeURIComponent("title = 'idem' || title = 'other'")}&count=true`);
    assert.equal(list.body.totalItems, 1);
  });

  test('list: filter, sort, limit, cursor, fields, count', async () => {
    for (let i = 0; i < 25; i++) {
      const r = await t.request('POST', '/api/v1/collections/posts/records', { body: { title: `page-${String(i).padStart(2, '0')}`, price: i % 5, status: 'published' } });
      assert.equal(r.status, 201, r.text);
    }
    const filter = encodeURIComponent("title ~ 'page-' && price >= 1");
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: { status: number; body: { items: Array<{ title: string; price: number }>; nextCursor: string | null; totalItems?: number } } =
        await t.request('GET', `/api/v1/collections/posts/records?filter=${filter}&sort=-price,title&limit=7&fields=title,price&count=true${cursor ? `&cursor=${cursor}` : ''}`);
      assert.equal(res.status, 200);
      assert.equal(res.body.totalItems, 20);
      for (const item of res.body.items) assert.deepEqual(Object.keys(item).sort(), ['price', 'title']);
      seen.push(...res.body.items.map((p) => p.title));
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    assert.equal(seen.length, 20);
    assert.equal(new Set(seen).size, 20);
    assert.equal(seen[0], 'page-04', 'highest price first, then title');
  });

  test('list: a cursor is stable under concurrent inserts', async () => {
    const first = await t.request('GET', `/api/v1/collections/posts/records?sort=-created&limit=5`);
    await t.request('POST', '/api/v1/collections/posts/records', { body: { title: 'late arrival', status: 'published' } });
    const second = await t.request('GET', `/api/v1/collections/posts/records?sort=-created&limit=5&cursor=${first.body.nextCursor}`);
    assert.equal(second.status, 200);
    const ids = new Set(first.body.items.map((r: { id: string }) => r.id));
    assert.ok(second.body.items.every((r: { id: string; title: string }) => !ids.has(r.id) && r.title !== 'late arrival'));
  });

  test('list: bad filter, sort, cursor and parameters are 400 with the right code', async () => {
    const bad = async (query: string, code: string) => {
      const res = await t.request('GET', `/api/v1/collections/posts/records?${query}`);
      assert.equal(res.status, 400, `${query}: ${res.text}`);
      assert.equal(res.body.code, code, query);
      return res;
    };
    const f = await bad(`filter=${encodeURIComponent('title = ')}`, 'invalid_filter');
    assert.equal(typeof f.body.position, 'number');
    await bad(`filter=${encodeURIComponent('nope = 1')}`, 'invalid_filter');
    await bad('sort=nope', 'invalid_filter');
    await bad('cursor=garbage', 'bad_request');
    await bad('limit=0', 'bad_request');
    await bad('limit=201', 'bad_request');
    await bad('limit=abc', 'bad_request');
    await bad('whatever=1', 'bad_request');
    await bad('expand=title', 'bad_request');
  });

  test('expand: relations inline in one query per relation, filtered by the target view rule', async () => {
    const users = await t.request('PATCH', '/api/v1/collections/users', { body: { rules: { view: '', list: "id = @request.auth.id" } } });
    assert.equal(users.status, 200, users.text);
    const p = await t.request('POST', '/api/v1/collections/posts/records', { token: alice.token, body: { title: 'with author', status: 'published', author: alice.id } });
    const res = await t.request('GET', `/api/v1/collections/posts/records/${p.body.id}?expand=author`, { token: bob.token });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.expand.author.id, alice.id);
    assert.equal(res.body.expand.author.email, undefined, 'email is shown only to its owner');
    const own = await t.request('GET', `/api/v1/collections/posts/records/${p.body.id}?expand=author`, { token: alice.token });
    assert.equal(own.body.expand.author.email, 'alice@example.com');
    for (const secret of ['password_hash', 'passwordHash', 'roles', 'verified']) assert.equal(own.body.expand.author[secret], undefined, `${secret} never leaves the server this way`);
    const direct = await t.request('GET', `/api/v1/collections/users/records/${alice.id}`, { token: alice.token });
    assert.equal(direct.status, 200);
    assert.doesNotMatch(direct.text, /argon2|password/);
    await t.request('PATCH', '/api/v1/collections/users', { body: { rules: { view: 'id = @request.auth.id', list: 'id = @request.auth.id' } } });
    const hidden = await t.request('GET', `/api/v1/collections/posts/records/${p.body.id}?expand=author`, { token: bob.token });
    assert.equal(hidden.body.expand, undefined);
  });

  test('expand loads each relation in one query, whatever the number of rows', async () => {
    await t.request('PATCH', '/api/v1/collections/users', { body: { rules: { view: '', list: 'id = @request.auth.id' } } });
    for (let i = 0; i < 12; i++) {
      const author = i % 2 ? alice.id : bob.id;
      await t.request('POST', '/api/v1/collections/posts/records', { body: { title: `expand-${i}`, status: 'published', author } });
    }
    const db = t.app.services.db;
    const original = db.all.bind(db);
    let queries = 0;
    db.all = ((sql: string, params?: readonly unknown[]) => {
      // Only this request's reads of record tables (the change feed tails the log meanwhile).
      if (/FROM "(posts|users)"/.test(sql)) queries++;
      return original(sql, params);
    }) as typeof db.all;
    try {
      const res = await t.request('GET', `/api/v1/collections/posts/records?filter=${encodeURIComponent("title ~ 'expand-'")}&expand=author&limit=12`);
      assert.equal(res.status, 200);
      assert.equal(res.body.items.length, 12);
      assert.ok(res.body.items.every((p: { author: string; expand: { author: { id: string } } }) => p.expand.author.id === p.author));
      assert.equal(queries, 2, 'one query for the page, one for all the authors');
    } finally {
      db.all = original;
      await t.request('PATCH', '/api/v1/collections/users', { body: { rules: { view: 'id = @request.auth.id', list: 'id = @request.auth.id' } } });
    }
  });

  test('batch: all or nothing', async () => {
    const ok = await t.request('POST', '/api/v1/batch', {
      body: { operations: [
        { action: 'create', collection: 'posts', body: { title: 'b1' } },
        { action: 'create', collection: 'posts', body: { title: 'b2' } },
      ] },
    });
    assert.equal(ok.status, 200, ok.text);
    assert.deepEqual(ok.body.results.map((r: { status: number }) => r.status), [201, 201]);
    const id = ok.body.results[0].body.id;
    const failed = await t.request('POST', '/api/v1/batch', {
      body: { operations: [
        { action: 'update', collection: 'posts', id, body: { title: 'b1-changed' } },
        { action: 'delete', collection: 'posts', id: ok.body.results[1].body.id },
        { action: 'create', collection: 'posts', body: { title: 'b1' } },
        { action: 'create', collection: 'posts', body: { price: -5 } },
      ] },
    });
    assert.equal(failed.status, 400);
    assert.equal(failed.body.operation, 3);
    const still = await t.request('GET', `/api/v1/collections/posts/records/${id}`);
    assert.equal(still.body.title, 'b1', 'the update was rolled back');
    assert.equal((await t.request('GET', `/api/v1/collections/posts/records/${ok.body.results[1].body.id}`)).status, 200, 'the delete was rolled back');
    const tooMany = await t.request('POST', '/api/v1/batch', { body: { operations: Array.from({ length: 101 }, () => ({ action: 'delete', collection: 'posts', id: 'x' })) } });
    assert.equal(tooMany.status, 400);
    assert.equal(tooMany.body.code, 'validation_failed');
  });

  test('delete → 204, then 404', async () => {
    const r = await t.request('POST', '/api/v1/collections/posts/records', { body: { title: 'doomed' } });
    assert.equal((await t.request('DELETE', `/api/v1/collections/posts/records/${r.body.id}`)).status, 204);
    assert.equal((await t.request('GET', `/api/v1/collections/posts/records/${r.body.id}`)).status, 404);
  });
});
