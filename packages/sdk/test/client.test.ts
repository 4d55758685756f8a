// The SDK against a live Galley on every database: auth (memory, storage and cookie sessions),
// collections admin, records CRUD with ETags, lists and iterate, batch, and how failures map to
// GalleyError (with status, code, field errors, request id) or GalleyNetworkError.

import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { describeEachDialect } from '../../server/src/testing/databases.ts';
import { ADMIN, createTestApp, type TestApp } from '../../server/src/testing/test-app.ts';
import { createClient, GalleyError, GalleyNetworkError, type AuthResponse, type GalleyClient, type LoginResponse, type TokenStorage } from '../src/index.ts';

interface Post {
  id: string;
  created: string;
  updated: string;
  title: string;
  price: number | null;
  status: 'draft' | 'published' | null;
  tags: Array<'a' | 'b' | 'c'>;
  author: string | null;
  expand?: { author?: { id: string; name: string | null } };
}

const POSTS = {
  name: 'posts',
  fields: [
    { name: 'title', type: 'text' as const, required: true, max: 100 },
    { name: 'price', type: 'number' as const, min: 0 },
    { name: 'status', type: 'select' as const, values: ['draft', 'published'] },
    { name: 'tags', type: 'select' as const, values: ['a', 'b', 'c'], multiple: true },
    { name: 'author', type: 'relation' as const, collection: 'users' },
  ],
  indexes: [{ fields: ['title'], unique: true }],
  rules: { list: '', view: '', create: "@request.auth.id != ''", update: 'author = @request.auth.id', delete: 'author = @request.auth.id' },
};
const PASSWORD = 'a long enough password';

class MapStorage implements TokenStorage {
  readonly items = new Map<string, string>();
  async getItem(key: string) {
    return this.items.get(key) ?? null;
  }
  async setItem(key: string, value: string) {
    this.items.set(key, value);
  }
  async removeItem(key: string) {
    this.items.delete(key);
  }
}

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function rejectsWith(promise: Promise<unknown>, expected: { status: number; code: string }): Promise<GalleyError> {
  const err = await promise.then(
    () => assert.fail(`expected ${expected.code}`),
    (e: unknown) => e,
  );
  assert.ok(err instanceof GalleyError, `expected a GalleyError, got ${String(err)}`);
  assert.equal(err.status, expected.status, err.message);
  assert.equal(err.code, expected.code, err.message);
  return err;
}

/** A login that opened a session (no MFA step). */
function signedIn(result: LoginResponse): AuthResponse {
  assert.ok('token' in result, 'signed in without an MFA step');
  return result;
}

await describeEachDialect('sdk client', (dialect) => {
  let t: TestApp;
  let admin: GalleyClient;
  let alice: GalleyClient;
  let aliceId: string;
  const ORIGIN = 'https://app.example';

  before(async () => {
    t = await createTestApp(dialect, { GALLEY_ALLOWED_ORIGINS: ORIGIN });
    admin = createClient(t.url);
    await admin.auth.login(ADMIN.email, ADMIN.password);
    await admin.collections.create(POSTS);
    aliceId = (await t.app.services.auth.createUser({ email: 'alice@example.com', password: PASSWORD })).id;
    await t.app.services.auth.createUser({ email: 'bob@example.com', password: PASSWORD });
    alice = createClient(`${t.url}/`);
    await alice.auth.login('alice@example.com', PASSWORD);
  });
  after(async () => t?.close());

  test('login keeps the token in memory; me; logout revokes it on the server and forgets it', async () => {
    const galley = createClient(t.url);
    assert.equal(await galley.auth.token(), null);
    const { user, token } = signedIn(await galley.auth.login('bob@example.com', PASSWORD));
    assert.equal(user.email, 'bob@example.com');
    assert.equal(await galley.auth.token(), token);
    assert.equal((await galley.auth.me()).id, user.id);
    await galley.auth.logout();
    assert.equal(await galley.auth.token(), null);
    await rejectsWith(galley.auth.me(), { status: 401, code: 'unauthenticated' });
    // The old token is dead server-side, not just forgotten here.
    await galley.auth.setToken(token);
    await rejectsWith(galley.auth.me(), { status: 401, code: 'unauthenticated' });
    assert.equal(await galley.auth.token(), null, 'a 401 from me() drops the dead token');
  });

  test('a wrong password is invalid_credentials with the request id of the answer', async () => {
    const galley = createClient(t.url);
    const err = await rejectsWith(galley.auth.login('bob@example.com', 'not the password'), { status: 401, code: 'invalid_credentials' });
    assert.match(err.requestId!, /\S/);
    assert.equal(err.problem.requestId, err.requestId);
    assert.equal(err.fieldErrors.length, 0);
    assert.equal(await galley.auth.token(), null);
  });

  test('storage: the session survives into a new client sharing the storage (async storage works)', async () => {
    const storage = new MapStorage();
    const first = createClient(t.url, { storage });
    const { token } = signedIn(await first.auth.login('bob@example.com', PASSWORD));
    assert.deepEqual([...storage.items.values()], [token]);
    const second = createClient(t.url, { storage });
    assert.equal((await second.auth.me()).email, 'bob@example.com');
    await second.auth.logout();
    assert.equal(storage.items.size, 0);
  });

  test('cookie mode: credentials include, no Authorization header, no token kept; works through a browser-like cookie jar', async () => {
    let cookie = '';
    const seen: RequestInit[] = [];
    // What a browser does for a page on ORIGIN: keep the cookie, send it back, add Origin.
    const browserFetch: typeof fetch = async (input, init = {}) => {
      seen.push(init);
      const headers = new Headers(init.headers);
      if (init.credentials === 'include' && cookie) headers.set('cookie', cookie);
      headers.set('origin', ORIGIN);
      const res = await fetch(input, { ...init, headers });
      const set = res.headers.get('set-cookie');
      if (set) cookie = set.split(';')[0]!;
      return res;
    };
    const galley = createClient(t.url, { fetch: browserFetch, session: 'cookie', storage: new MapStorage() });
    await galley.auth.login('bob@example.com', PASSWORD);
    assert.equal(await galley.auth.token(), null, 'scripts never hold the token in cookie mode');
    assert.match(cookie, /^galley_session=/);
    assert.equal((await galley.auth.me()).email, 'bob@example.com');
    const post = await galley.collection<Post>('posts').create({ title: 'via cookie' });
    assert.equal(post.title, 'via cookie');
    assert.ok(seen.every((init) => init.credentials === 'include' && !new Headers(init.headers).has('authorization')));
    await galley.auth.logout();
    await rejectsWith(galley.auth.me(), { status: 401, code: 'unauthenticated' });
  });

  test('collections: create, get, list, update (migrating), delete; only superusers', async () => {
    const created = await admin.collections.create({ name: 'notes', fields: [{ name: 'text', type: 'text' }] });
    assert.equal(created.name, 'notes');
    assert.deepEqual((await admin.collections.get('notes')).fields.map((f) => f.name), ['text']);
    assert.ok((await admin.collections.list()).some((c) => c.name === 'notes'));
    const updated = await admin.collections.update('notes', { fields: [...created.fields, { name: 'done', type: 'boolean' }] });
    assert.deepEqual(updated.fields.map((f) => f.name), ['text', 'done']);
    await rejectsWith(alice.collections.list(), { status: 403, code: 'forbidden' });
    await rejectsWith(createClient(t.url).collections.get('notes'), { status: 401, code: 'unauthenticated' });
    const invalid = await rejectsWith(admin.collections.create({ name: 'Bad Name' }), { status: 400, code: 'validation_failed' });
    assert.ok(invalid.fieldErrors.some((e) => e.field === 'name'));
    await admin.collections.delete('notes');
    await rejectsWith(admin.collections.get('notes'), { status: 404, code: 'not_found' });
  });

  test('records: create, get, update, delete, typed by the record type', async () => {
    const posts = alice.collection<Post>('posts');
    const post = await posts.create({ title: 'First', price: 5, status: 'draft', tags: ['a', 'b'], author: aliceId });
    assert.match(post.id, /^[a-z0-9]{15}$/);
    assert.deepEqual(post.tags, ['a', 'b']);
    const read = await posts.get(post.id);
    assert.deepEqual(read, post);
    const changed = await posts.update(post.id, { status: 'published' });
    assert.equal(changed.status, 'published');
    assert.equal(changed.title, 'First');
    await posts.delete(post.id);
    await rejectsWith(posts.get(post.id), { status: 404, code: 'not_found' });
    const own = await posts.create({ id: 'chosen-id_1', title: 'Chosen id' });
    assert.equal(own.id, 'chosen-id_1');
  });

  test('ifMatch: the ETag a record came with guards update and delete; a stale one is 412 and changes nothing', async () => {
    const posts = alice.collection<Post>('posts');
    const post = await posts.create({ title: 'Guarded', author: aliceId });
    const etag = posts.etagOf(post)!;
    assert.match(etag, /^"[\w-]+"$/);
    const v2 = await posts.update(post.id, { price: 1 }, { ifMatch: etag });
    await rejectsWith(posts.update(post.id, { price: 2 }, { ifMatch: etag }), { status: 412, code: 'precondition_failed' });
    await rejectsWith(posts.delete(post.id, { ifMatch: etag }), { status: 412, code: 'precondition_failed' });
    assert.equal((await posts.get(post.id)).price, 1);
    await posts.delete(post.id, { ifMatch: posts.etagOf(v2) });
    const expanded = await posts.get((await posts.create({ title: 'Expanded', author: aliceId })).id, { expand: 'author' });
    assert.equal(posts.etagOf(expanded), undefined, 'an expanded body has no record ETag to offer');
  });

  test('list: filter, sort, limit, fields, expand, count; iterate follows every cursor', async () => {
    const posts = alice.collection<Post>('posts');
    const titles = Array.from({ length: 23 }, (_, i) => `page-${String(i).padStart(2, '0')}`);
    for (const title of titles) await posts.create({ title, status: 'published', author: aliceId, tags: ['c'] });
    const page = await posts.list({ filter: alice.filter`title ~ ${'page-'}`, sort: 'title', limit: 5, count: true, expand: ['author'], fields: ['title', 'author'] });
    assert.deepEqual(page.items.map((p) => p.title), titles.slice(0, 5));
    assert.equal(page.totalItems, 23);
    assert.equal(page.items[0]!.expand?.author?.id, aliceId);
    assert.deepEqual(Object.keys(page.items[0]!).sort(), ['author', 'expand', 'title']);
    assert.ok(page.nextCursor);
    const seen: string[] = [];
    for await (const post of posts.iterate({ filter: 'title ~ "page-"', sort: 'title', limit: 4 })) seen.push(post.title);
    assert.deepEqual(seen, titles);
    const none = [];
    for await (const post of posts.iterate({ filter: 'title = "nothing like it"' })) none.push(post);
    assert.equal(none.length, 0);
    const err = await rejectsWith(posts.list({ filter: 'title ~' }), { status: 400, code: 'invalid_filter' });
    assert.equal(typeof err.problem.position, 'number');
    await rejectsWith(posts.list({ limit: 500 }), { status: 400, code: 'bad_request' });
  });

  test('filter: hostile values match literally on the server; arrays mean any of / none of', async () => {
    const posts = alice.collection<Post>('posts');
    const hostile = "x' || title != '";
    await posts.create({ title: hostile, status: 'draft', tags: ['a'] });
    await posts.create({ title: 'filter-b', status: 'published', tags: ['b'] });
    await posts.create({ title: 'filter-ac', status: 'published', tags: ['a', 'c'] });
    const f = alice.filter;
    const titles = async (filter: string) => (await posts.list({ filter, sort: 'title', limit: 200 })).items.map((p) => p.title);
    assert.deepEqual(await titles(f`title = ${hostile}`), [hostile]);
    assert.deepEqual(await titles(f`title = ${"nothing') || (title != '"}`), []);
    assert.deepEqual(await titles(f`title ~ ${'filter-'} && tags ?= ${['a', 'c']}`), ['filter-ac']);
    assert.deepEqual(await titles(f`title ~ ${'filter-'} && tags ?= ${['b', 'c']}`), ['filter-ac', 'filter-b']);
    assert.deepEqual(await titles(f`title ~ ${'filter-'} && tags ?= ${[]}`), []);
    assert.deepEqual(await titles(f`title ~ ${'filter-'} && status != ${['draft', 'published']}`), []);
    assert.deepEqual(await titles(f`title ~ ${'filter-'} && status != ${[]}`), ['filter-ac', 'filter-b']);
    assert.deepEqual(await titles(f`created <= ${new Date(Date.now() + 60_000)} && title = ${'filter-b'} && price = ${null}`), ['filter-b']);
  });

  test('create: validation_failed lists every field; a duplicate is conflict; an idempotency key replays', async () => {
    const posts = alice.collection<Post>('posts');
    const invalid = await rejectsWith(posts.create({ title: '', price: -1 } as never), { status: 400, code: 'validation_failed' });
    assert.deepEqual(invalid.fieldErrors.map((e) => e.field).sort(), ['price', 'title']);
    await posts.create({ title: 'Unique' });
    const dup = await rejectsWith(posts.create({ title: 'Unique' }), { status: 409, code: 'conflict' });
    assert.ok(dup.fieldErrors.some((e) => e.field === 'title'));
    const first = await posts.create({ title: 'Once' }, { idempotencyKey: 'key-1' });
    const again = await posts.create({ title: 'Once' }, { idempotencyKey: 'key-1' });
    assert.equal(again.id, first.id);
    await rejectsWith(createClient(t.url).collection<Post>('posts').create({ title: 'anonymous' }), { status: 401, code: 'unauthenticated' });
    const bob = createClient(t.url);
    await bob.auth.login('bob@example.com', PASSWORD);
    await rejectsWith(bob.collection<Post>('posts').update(first.id, { price: 3 }), { status: 403, code: 'forbidden' });
  });

  test('batch: all operations in one transaction; a failing one names itself and changes nothing', async () => {
    const posts = alice.collection<Post>('posts');
    const target = await posts.create({ title: 'Batch target', author: aliceId });
    const results = await alice.batch([
      { action: 'create', collection: 'posts', body: { title: 'Batch new', author: aliceId } },
      { action: 'update', collection: 'posts', id: target.id, body: { price: 9 }, ifMatch: posts.etagOf(target) },
    ]);
    assert.deepEqual(results.map((r) => r.status), [201, 200]);
    assert.equal((results[1]!.body as Post).price, 9);
    const err = await rejectsWith(
      alice.batch([
        { action: 'create', collection: 'posts', body: { title: 'Batch never' } },
        { action: 'delete', collection: 'posts', id: 'nosuchrecord000' },
      ]),
      { status: 404, code: 'not_found' },
    );
    assert.equal(err.problem.operation, 1);
    assert.equal((await posts.list({ filter: 'title = "Batch never"' })).items.length, 0);
  });

  test('health, and request() for endpoints the SDK does not wrap', async () => {
    assert.deepEqual(await alice.health(), { status: 'ok' });
    const doc = await alice.request<{ openapi: string }>('GET', '/api/v1/openapi.json');
    assert.match(doc.openapi, /^3\.1/);
    await rejectsWith(alice.request('GET', '/api/v1/nothing-here'), { status: 404, code: 'not_found' });
  });

  test('names and ids are path-encoded, never path-changing', async () => {
    await rejectsWith(alice.collection('posts/records/x/../..').list(), { status: 404, code: 'not_found' });
    await rejectsWith(alice.collection<Post>('posts').get('../../collections'), { status: 404, code: 'not_found' });
  });
});

test('no server: GalleyNetworkError with the cause, not a GalleyError', async () => {
  const galley = createClient(`http://127.0.0.1:${await closedPort()}`);
  const err = await galley.health().then(
    () => assert.fail('expected a network error'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof GalleyNetworkError);
  assert.ok(!(err instanceof GalleyError));
  assert.ok(err.cause instanceof Error);
  assert.match(err.message, /GET \/api\/v1\/health: no answer from http:\/\/127\.0\.0\.1:\d+/);
});

test('an aborted call rejects with the signal reason, not a network error', async () => {
  // A fetch that never answers unless aborted, as a hanging server would.
  const hanging: typeof fetch = (_input, init) =>
    new Promise((_resolve, reject) => {
      const fail = () => reject(new DOMException('aborted', 'AbortError'));
      if (init!.signal!.aborted) fail();
      init!.signal!.addEventListener('abort', fail);
    });
  const galley = createClient('http://127.0.0.1:9', { fetch: hanging });
  const controller = new AbortController();
  const call = galley.health({ signal: controller.signal });
  const reason = new Error('user navigated away');
  controller.abort(reason);
  await assert.rejects(call, (e) => e === reason);
});

test('a non-problem error body (a proxy page) still gets the generic code of its status', async () => {
  const html = (status: number) => async () => new Response('<html>Bad gateway</html>', { status, headers: { 'content-type': 'text/html', 'x-request-id': 'proxy-1', 'retry-after': '7' } });
  const gateway = await rejectsWith(createClient('http://galley.invalid', { fetch: html(502) }).health(), { status: 502, code: 'unavailable' });
  assert.equal(gateway.requestId, 'proxy-1');
  assert.equal(gateway.retryAfter, 7);
  assert.equal(gateway.detail, 'the server answered 502');
  await rejectsWith(createClient('http://galley.invalid', { fetch: html(404) }).health(), { status: 404, code: 'not_found' });
  await rejectsWith(createClient('http://galley.invalid', { fetch: html(418) }).health(), { status: 418, code: 'bad_request' });
});
