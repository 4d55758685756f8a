// HTTP caching on every database: Cache-Control from the rules (public only when every caller gets
// the same answer), 304 revalidation, br/gzip over 1 KB, and the server-side cache of public reads —
// never stale after a write, here or on another instance sharing the database.

import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { request as httpRequest } from 'node:http';
import { after, before, test } from 'node:test';
import { describeEachDialect } from '../src/testing/databases.ts';
import { createTestApp, type TestApp } from '../src/testing/test-app.ts';

const PUBLIC = '/api/v1/collections/notes/records';
const PRIVATE = '/api/v1/collections/drafts/records';

/** Raw GET (fetch would decode the body): status, headers and the bytes as sent. */
function rawGet(url: string, headers: Record<string, string>): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

function lookups(text: string, result: 'hit' | 'miss'): number {
  const match = new RegExp(`^galley_read_cache_lookups_total\\{result="${result}"\\} (\\d+)`, 'm').exec(text);
  return match ? Number(match[1]) : 0;
}

await describeEachDialect('HTTP caching', (dialect) => {
  let t: TestApp;
  let other: TestApp | undefined;
  before(async () => {
    t = await createTestApp(dialect);
    for (const [name, list] of [['notes', ''], ['drafts', "@request.auth.id != ''"]] as const) {
      const res = await t.request('POST', '/api/v1/collections', {
        body: { name, fields: [{ name: 'title', type: 'text' }, { name: 'body', type: 'text' }], rules: { list, view: list, create: '', update: '', delete: '' } },
      });
      assert.equal(res.status, 201, res.text);
    }
  });
  after(async () => {
    await other?.close();
    await t?.close();
  });

  test('Cache-Control: public when the rule is "" and nothing depends on the caller; private otherwise', async () => {
    const note = await t.request('POST', PUBLIC, { body: { title: 'hello' } });
    assert.equal((await t.request('GET', PUBLIC, { token: null })).headers.get('cache-control'), 'public, no-cache');
    assert.equal((await t.request('GET', `${PUBLIC}/${note.body.id}`, { token: null })).headers.get('cache-control'), 'public, no-cache');
    assert.equal((await t.request('GET', PRIVATE)).headers.get('cache-control'), 'private, no-cache');
    assert.equal((await t.request('GET', '/api/v1/collections/users/records')).headers.get('cache-control'), 'private, no-cache');
  });

  test('a matching If-None-Match is a 304 from the cache as from the database', async () => {
    const first = await t.request('GET', PUBLIC, { token: null });
    const etag = first.headers.get('etag')!;
    const again = await t.request('GET', PUBLIC, { token: null, headers: { 'if-none-match': etag } });
    assert.equal(again.status, 304);
    assert.equal(again.headers.get('etag'), etag);
  });

  test('bodies over 1 KB are compressed with br or gzip; small ones are not', async () => {
    for (let i = 0; i < 10; i++) await t.request('POST', PUBLIC, { body: { title: `note ${i}`, body: 'x'.repeat(200) } });
    const br = await rawGet(`${t.url}${PUBLIC}?limit=50`, { 'accept-encoding': 'br, gzip' });
    assert.equal(br.headers['content-encoding'], 'br');
    assert.match(String(br.headers.vary), /accept-encoding/i);
    assert.ok(JSON.parse(zlib.brotliDecompressSync(br.body).toString()).items.length >= 10);
    const gzip = await rawGet(`${t.url}${PUBLIC}?limit=50`, { 'accept-encoding': 'gzip' });
    assert.equal(gzip.headers['content-encoding'], 'gzip');
    assert.ok(JSON.parse(zlib.gunzipSync(gzip.body).toString()).items.length >= 10);
    const small = await rawGet(`${t.url}${PUBLIC}?limit=1&fields=id`, { 'accept-encoding': 'br, gzip' });
    assert.equal(small.headers['content-encoding'], undefined);
    assert.ok(JSON.parse(small.body.toString()).items);
  });

  test('public reads are served from the server cache; every write empties it before answering', async () => {
    const metrics = async () => (await t.request('GET', '/metrics')).text;
    const url = `${PUBLIC}?sort=title&limit=5`;
    const before = await metrics();
    const first = await t.request('GET', url, { token: null });
    const second = await t.request('GET', url, { token: null });
    assert.equal(second.text, first.text);
    const mid = await metrics();
    assert.equal(lookups(mid, 'hit') - lookups(before, 'hit'), 1);
    assert.equal(lookups(mid, 'miss') - lookups(before, 'miss'), 1);

    // Create, update and delete: each read right after sees the write.
    const created = await t.request('POST', PUBLIC, { body: { title: 'aaa first' } });
    assert.equal((await t.request('GET', url, { token: null })).body.items[0].title, 'aaa first');
    await t.request('PATCH', `${PUBLIC}/${created.body.id}`, { body: { title: 'aab renamed' } });
    assert.equal((await t.request('GET', url, { token: null })).body.items[0].title, 'aab renamed');
    const record = await t.request('GET', `${PUBLIC}/${created.body.id}`, { token: null });
    assert.equal(record.body.title, 'aab renamed');
    await t.request('DELETE', `${PUBLIC}/${created.body.id}`);
    assert.notEqual((await t.request('GET', url, { token: null })).body.items[0].title, 'aab renamed');
    assert.equal((await t.request('GET', `${PUBLIC}/${created.body.id}`, { token: null })).status, 404);

    // Private reads never enter the cache.
    const privateBefore = await metrics();
    await t.request('GET', PRIVATE);
    await t.request('GET', PRIVATE);
    const privateAfter = await metrics();
    assert.equal(lookups(privateAfter, 'hit') + lookups(privateAfter, 'miss'), lookups(privateBefore, 'hit') + lookups(privateBefore, 'miss'));
  });

  test('a collection change is never answered from the cache of its old definition', async () => {
    const url = `${PUBLIC}?limit=1&sort=title`;
    await t.request('GET', url, { token: null });
    const res = await t.request('PATCH', '/api/v1/collections/notes', { body: { rules: { list: "@request.auth.id != ''", view: '', create: '', update: '', delete: '' } } });
    assert.equal(res.status, 200, res.text);
    const anonymous = await t.request('GET', url, { token: null });
    assert.deepEqual(anonymous.body.items, []);
    assert.equal(anonymous.headers.get('cache-control'), 'private, no-cache');
    await t.request('PATCH', '/api/v1/collections/notes', { body: { rules: { list: '', view: '', create: '', update: '', delete: '' } } });
  });

  test('another instance on the same database empties its cache when this one writes', { skip: dialect === 'sqlite' && 'SQLite serves one process' }, async () => {
    const url = t.app.config.databaseUrl!;
    other = await createTestApp('postgres', { DATABASE_URL: url });
    const list = `${PUBLIC}?sort=-created&limit=1`;
    await other.request('GET', list, { token: null });
    await other.request('GET', list, { token: null });
    const created = await t.request('POST', PUBLIC, { body: { title: 'from instance one' } });
    assert.equal(created.status, 201);
    let seen = '';
    for (let i = 0; i < 50 && seen !== 'from instance one'; i++) {
      seen = (await other.request('GET', list, { token: null })).body.items[0]?.title;
      if (seen !== 'from instance one') await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(seen, 'from instance one');
  });
});
