// Files on every database: multipart uploads (size enforced while streaming, type by content),
// metadata, serving (type, nosniff, disposition, ETag, Range, caching), protected files behind
// tokens and the view rule, thumbnails made by the job, and cleanup of replaced and deleted files.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { describeEachDialect } from '../src/testing/databases.ts';
import { multipartBody, pngBomb, pngImage, waitFor, type RawPart } from '../src/testing/files.ts';
import { createTestApp, type TestApp } from '../src/testing/test-app.ts';

const POSTS = {
  name: 'posts',
  fields: [
    { name: 'title', type: 'text', max: 50 },
    { name: 'cover', type: 'file', maxSize: 300_000, mimeTypes: ['image/png', 'image/jpeg', 'image/gif'], thumbs: ['100x100', '0x50', '64x64f'] },
    { name: 'docs', type: 'file', multiple: true, maxSize: 100_000 },
    { name: 'secret', type: 'file', protected: true },
  ],
  rules: { list: '', view: '', create: "@request.auth.id != ''", update: "@request.auth.id != ''", delete: "@request.auth.id != ''" },
};

/** Every file under `dir`, relative, sorted. */
function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  // Entries, not stat calls: jobs may remove a file between listing and looking at it.
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)))
    .sort();
}

await describeEachDialect('files', (dialect) => {
  let t: TestApp;
  let storageDir: string;
  let stagingDir: string;
  let png: Buffer;

  const upload = (method: string, p: string, parts: RawPart[], token: string | null = t.adminToken) => {
    const { body, contentType } = multipartBody(parts);
    return t.request(method, p, { raw: body, headers: { 'content-type': contentType }, token });
  };
  const fileUrl = (id: string, name: string) => `/api/v1/files/posts/${id}/${name}`;
  const get = (url: string, headers: Record<string, string> = {}) => fetch(t.url + url, { headers, redirect: 'manual' });
  const storedObjects = () => filesUnder(storageDir).filter((f) => !f.startsWith('.partial'));
  const noLeftovers = async () => {
    // Thumbnail jobs work in the staging folder too: let those that are running finish.
    await waitFor(() => filesUnder(stagingDir).length === 0, () => `no staged file is left behind: ${filesUnder(stagingDir)}`);
    assert.deepEqual(filesUnder(path.join(storageDir, '.partial')), [], 'no partial object is left behind');
  };

  before(async () => {
    t = await createTestApp(dialect);
    const created = await t.request('POST', '/api/v1/collections', { body: POSTS });
    assert.equal(created.status, 201, created.text);
    const storage = t.app.config.storage;
    assert.equal(storage.kind, 'local');
    storageDir = storage.kind === 'local' ? storage.dir : '';
    stagingDir = t.app.services.files.stagingDir;
    png = await pngImage(300, 200);
  });
  after(async () => t?.close());

  test('a multipart create stores the file, keeps its metadata and serves it with safe headers', async () => {
    const res = await upload('POST', '/api/v1/collections/posts/records', [
      { name: 'title', data: 'with a cover' },
      { name: 'cover', filename: '../../etc/My Photo (1).PNG', contentType: 'application/octet-stream', data: png },
    ]);
    assert.equal(res.status, 201, res.text);
    assert.equal(res.body.title, 'with a cover');
    assert.match(res.body.cover, /^my_photo_1_[a-z0-9]{10}\.png$/, 'sanitised, unique, extension from the content');
    assert.deepEqual(res.body.docs, []);
    const meta = await t.app.services.files.find('posts', res.body.id, res.body.cover);
    assert.equal(meta!.originalName, 'My Photo (1).PNG', 'the path is gone from the original name');
    assert.equal(meta!.size, png.length);
    assert.equal(meta!.sha256, crypto.createHash('sha256').update(png).digest('hex'));
    assert.equal(meta!.type, 'image/png');
    assert.equal(meta!.uploader, (await t.app.services.auth.userByEmail('admin@example.com'))!.id);

    const served = await get(fileUrl(res.body.id, res.body.cover));
    assert.equal(served.status, 200);
    assert.deepEqual(Buffer.from(await served.arrayBuffer()), png);
    assert.equal(served.headers.get('content-type'), 'image/png');
    assert.equal(served.headers.get('x-content-type-options'), 'nosniff');
    assert.match(served.headers.get('content-disposition')!, /^inline; filename="My Photo \(1\)\.PNG"/);
    assert.equal(served.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.match(served.headers.get('content-security-policy')!, /sandbox/);
    const etag = served.headers.get('etag')!;
    assert.match(etag, /^"[0-9a-f]{32}"$/);
    assert.equal((await get(fileUrl(res.body.id, res.body.cover), { 'if-none-match': etag })).status, 304);

    const part = await get(fileUrl(res.body.id, res.body.cover), { range: 'bytes=0-7' });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get('content-range'), `bytes 0-7/${png.length}`);
    assert.deepEqual(Buffer.from(await part.arrayBuffer()), png.subarray(0, 8));
    const tail = await get(fileUrl(res.body.id, res.body.cover), { range: 'bytes=-4' });
    assert.deepEqual(Buffer.from(await tail.arrayBuffer()), png.subarray(png.length - 4));
    const beyond = await get(fileUrl(res.body.id, res.body.cover), { range: `bytes=${png.length}-` });
    assert.equal(beyond.status, 416);
    assert.equal(((await beyond.json()) as { code: string }).code, 'range_not_satisfiable');
    assert.equal(beyond.headers.get('content-range'), `bytes */${png.length}`);
    await noLeftovers();
  });

  test('thumbnails: the declared sizes are made by the job; undeclared sizes serve the original and are never made', async () => {
    const res = await upload('POST', '/api/v1/collections/posts/records', [{ name: 'cover', filename: 'wide.png', data: png }]);
    assert.equal(res.status, 201, res.text);
    await waitFor(async () => Object.keys((await t.app.services.files.find('posts', res.body.id, res.body.cover))!.thumbs).length === 3, 'the thumbnails');
    const size = async (query: string) => {
      const r = await get(`${fileUrl(res.body.id, res.body.cover)}?thumb=${query}`);
      assert.equal(r.status, 200);
      return sharp(Buffer.from(await r.arrayBuffer())).metadata();
    };
    assert.deepEqual(await size('100x100').then((m) => [m.width, m.height]), [100, 100], 'crop to fill');
    assert.deepEqual(await size('0x50').then((m) => [m.width, m.height]), [75, 50], 'height fixed, aspect kept');
    assert.deepEqual(await size('64x64f').then((m) => [m.width, m.height]), [64, 43], 'fit inside');
    assert.deepEqual(await size('33x33').then((m) => [m.width, m.height]), [300, 200], 'undeclared: the original');
    assert.ok(!storedObjects().some((f) => f.includes('33x33')), 'an undeclared size is never made');
    const bad = await get(`${fileUrl(res.body.id, res.body.cover)}?thumb=huge`);
    assert.equal(bad.status, 400);
  });

  test('a decompression bomb is refused by the pixel limit: no thumbnail, the original still serves', async () => {
    const bomb = pngBomb(50_000, 50_000);
    const res = await upload('POST', '/api/v1/collections/posts/records', [{ name: 'cover', filename: 'bomb.png', data: bomb }]);
    assert.equal(res.status, 201, res.text);
    await waitFor(async () => Object.keys((await t.app.services.files.find('posts', res.body.id, res.body.cover))!.thumbs).length === 3, 'the thumbnail job');
    const meta = await t.app.services.files.find('posts', res.body.id, res.body.cover);
    assert.deepEqual(meta!.thumbs, { '100x100': 'failed', '0x50': 'failed', '64x64f': 'failed' });
    const served = await get(`${fileUrl(res.body.id, res.body.cover)}?thumb=100x100`);
    assert.deepEqual(Buffer.from(await served.arrayBuffer()), bomb);
    assert.equal((await t.request('GET', '/api/v1/health', { token: null })).status, 200);
  });

  test('the type is decided by the content: HTML named .png is 415 and leaves nothing behind', async () => {
    const before = storedObjects();
    const res = await upload('POST', '/api/v1/collections/posts/records', [
      { name: 'title', data: 'sneaky' },
      { name: 'cover', filename: 'cat.png', contentType: 'image/png', data: '<!DOCTYPE html><html><script>alert(1)</script></html>' },
    ]);
    assert.equal(res.status, 415, res.text);
    assert.equal(res.body.code, 'unsupported_media_type');
    assert.equal(res.body.errors[0].field, 'cover');
    assert.deepEqual(storedObjects(), before);
    const list = await t.request('GET', `/api/v1/collections/posts/records?filter=${encodeURIComponent("title = 'sneaky'")}`);
    assert.equal(list.body.items.length, 0);
    await noLeftovers();
  });

  test('HTML, SVG and polyglots are served so a browser never runs them', async () => {
    const gifJs = Buffer.from('GIF89a/*\x00\x00\x00\x00*/=alert(document.domain);//', 'latin1');
    const res = await upload('POST', '/api/v1/collections/posts/records', [
      { name: 'docs', filename: 'page.html', contentType: 'text/plain', data: '<html><body><script>alert(1)</script></body></html>' },
      { name: 'docs', filename: 'logo.svg', contentType: 'image/png', data: '<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>' },
      { name: 'docs', filename: 'notes.txt', data: 'just text, <b>with</b> a tag later on' },
      { name: 'docs', filename: 'pic.gif', contentType: 'image/gif', data: gifJs },
    ]);
    assert.equal(res.status, 201, res.text);
    const [html, svg, text, gif] = res.body.docs as string[];
    assert.match(html!, /\.html$/);
    assert.match(svg!, /\.svg$/);
    const headers = async (name: string) => (await get(fileUrl(res.body.id, name))).headers;
    const h = await headers(html!);
    assert.equal(h.get('content-type'), 'text/html; charset=utf-8');
    assert.match(h.get('content-disposition')!, /^attachment;/);
    assert.equal(h.get('x-content-type-options'), 'nosniff');
    const s = await headers(svg!);
    assert.equal(s.get('content-type'), 'image/svg+xml');
    assert.match(s.get('content-disposition')!, /^attachment;/);
    const txt = await headers(text!);
    assert.equal(txt.get('content-type'), 'text/plain; charset=utf-8');
    assert.match(txt.get('content-disposition')!, /^inline;/);
    const g = await headers(gif!);
    assert.equal(g.get('content-type'), 'image/gif', 'a GIF that is also JavaScript is served as a GIF, nosniff');
    assert.equal(g.get('x-content-type-options'), 'nosniff');
    // The polyglot is an image as far as its content says: an image field accepts it, as a GIF.
    const cover = await upload('POST', '/api/v1/collections/posts/records', [{ name: 'cover', filename: 'x.gif', data: gifJs }]);
    assert.equal(cover.status, 201, cover.text);
  });

  test('hostile names: NUL, control characters and traversal never reach storage', async () => {
    const res = await upload('POST', '/api/v1/collections/posts/records', [
      { name: 'docs', filename: '..\\..\\win.ini', data: 'a' },
      { name: 'docs', filename: 'nul\u0000byte\u0007.txt', data: 'b' },
      { name: 'docs', filename: '..', data: 'c' },
      { name: 'docs', filename: '', data: 'd' },
    ]);
    assert.equal(res.status, 201, res.text);
    const names = res.body.docs as string[];
    assert.equal(names.length, 4);
    for (const name of names) assert.match(name, /^[a-z0-9][a-z0-9_-]*_[a-z0-9]{10}\.txt$/);
    const originals = await Promise.all(names.map(async (n) => (await t.app.services.files.find('posts', res.body.id, n))!.originalName));
    assert.deepEqual(originals, ['win.ini', 'nulbyte.txt', 'file', 'file']);
    for (const evil of ['..%2F..%2Fetc%2Fpasswd', '%2e%2e', 'x%00.png', 'A.PNG']) {
      assert.equal((await get(`/api/v1/files/posts/${res.body.id}/${evil}`)).status, 404, evil);
    }
  });

  test('bad input is refused with its documented code, and nothing is stored', async () => {
    const before = storedObjects();
    const cases: Array<[RawPart[], number, string, string?]> = [
      [[{ name: 'nope', filename: 'a.txt', data: 'x' }], 400, 'validation_failed', 'unknown_field'],
      [[{ name: 'title', filename: 'a.txt', data: 'x' }], 400, 'validation_failed', 'invalid_type'],
      [[{ name: 'cover', filename: 'a.png', data: png }, { name: 'cover', filename: 'b.png', data: png }], 400, 'validation_failed', 'too_many'],
      [[{ name: 'docs', filename: 'empty.txt', data: '' }], 400, 'validation_failed', 'empty_file'],
      [[{ name: 'docs', filename: 'big.bin', data: Buffer.alloc(100_001, 1) }], 413, 'payload_too_large', 'too_large'],
      [[{ name: '@jsonPayload', data: '{"title": ' }], 400, 'bad_request'],
      [[{ name: 'cover', filename: 'a.png', data: png }, { name: 'title', data: 'x'.repeat(51) }], 400, 'validation_failed', 'too_long'],
    ];
    for (const [parts, status, code, fieldCode] of cases) {
      const res = await upload('POST', '/api/v1/collections/posts/records', parts);
      assert.equal(res.status, status, `${JSON.stringify(parts.map((p) => p.name))}: ${res.text}`);
      assert.equal(res.body.code, code);
      if (fieldCode) assert.equal(res.body.errors[0].code, fieldCode, res.text);
    }
    const tooMany = await upload('POST', '/api/v1/collections/posts/records', Array.from({ length: 21 }, (_, i) => ({ name: 'docs', filename: `${i}.txt`, data: 'x' })));
    assert.equal(tooMany.status, 413, tooMany.text);
    const anonymous = await upload('POST', '/api/v1/collections/posts/records', [{ name: 'docs', filename: 'a.txt', data: 'x' }], null);
    assert.equal(anonymous.status, 401);
    const truncated = multipartBody([{ name: 'docs', filename: 'a.txt', data: 'hello' }]);
    const cut = await t.request('POST', '/api/v1/collections/posts/records', { raw: truncated.body.subarray(0, truncated.body.length - 20), headers: { 'content-type': truncated.contentType } });
    assert.equal(cut.status, 400, cut.text);
    assert.equal(cut.body.code, 'bad_request');
    const noBoundary = await t.request('POST', '/api/v1/collections/posts/records', { raw: 'x', headers: { 'content-type': 'multipart/form-data' } });
    assert.equal(noBoundary.status, 400, noBoundary.text);
    const wrongType = await t.request('POST', '/api/v1/collections/posts/records', { raw: png, headers: { 'content-type': 'image/png' } });
    assert.equal(wrongType.status, 415, wrongType.text);
    await waitFor(() => filesUnder(stagingDir).length === 0, 'staging to empty');
    assert.deepEqual(storedObjects(), before);
    await noLeftovers();
    assert.equal((await t.request('GET', '/api/v1/health', { token: null })).status, 200);
  });

  test('an oversized file is refused with 413 before the whole body is sent', async () => {
    const { port } = new URL(t.url);
    const head = multipartBody([{ name: 'docs', filename: 'huge.bin', data: '' }]).body;
    const preamble = head.subarray(0, head.indexOf('\r\n\r\n') + 4);
    const total = 50 * 1024 * 1024;
    let sent = 0;
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/api/v1/collections/posts/records', headers: {
        authorization: `Bearer ${t.adminToken}`, 'content-type': multipartBody([]).contentType, 'content-length': String(preamble.length + total),
      } });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode!);
        req.destroy();
      });
      req.on('error', (err) => (sent > 0 ? undefined : reject(err)));
      req.write(preamble);
      const chunk = Buffer.alloc(64 * 1024, 7);
      const pump = () => {
        while (sent < total) {
          sent += chunk.length;
          if (!req.write(chunk)) return void req.once('drain', pump);
        }
      };
      pump();
    });
    assert.equal(status, 413);
    assert.ok(sent < total / 2, `answered after ${sent} of ${total} bytes`);
    await waitFor(() => filesUnder(stagingDir).length === 0, 'staging to empty');
  });

  test('a client that stops mid-upload leaves nothing behind, and the server keeps serving', async () => {
    const { port } = new URL(t.url);
    const { body, contentType } = multipartBody([{ name: 'docs', filename: 'half.bin', data: Buffer.alloc(80_000, 3) }]);
    await new Promise<void>((resolve) => {
      const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/api/v1/collections/posts/records', headers: {
        authorization: `Bearer ${t.adminToken}`, 'content-type': contentType, 'content-length': String(body.length),
      } });
      req.on('error', () => resolve());
      req.write(body.subarray(0, 40_000), () => setTimeout(() => {
        req.destroy();
        resolve();
      }, 100));
    });
    await waitFor(() => filesUnder(stagingDir).length === 0, 'staging to empty');
    await noLeftovers();
    assert.equal((await t.request('GET', '/api/v1/health', { token: null })).status, 200);
  });

  test('replacing and removing files: the old objects are removed after the commit', async () => {
    const created = await upload('POST', '/api/v1/collections/posts/records', [
      { name: 'cover', filename: 'one.png', data: png },
      { name: 'docs', filename: 'a.txt', data: 'a' },
      { name: 'docs', filename: 'b.txt', data: 'b' },
    ]);
    assert.equal(created.status, 201, created.text);
    const { id, cover: first } = created.body;
    const [a, b] = created.body.docs as string[];
    await waitFor(async () => Object.keys((await t.app.services.files.find('posts', id, first))!.thumbs).length === 3, 'the thumbnails');
    const thumbsBefore = storedObjects().filter((f) => f.includes(first));
    assert.equal(thumbsBefore.length, 4, 'the original and three thumbnails');

    const replaced = await upload('PATCH', `/api/v1/collections/posts/records/${id}`, [
      { name: 'cover', filename: 'two.png', data: await pngImage(50, 50, '#00ff00') },
      { name: 'docs', filename: 'c.txt', data: 'c' },
    ]);
    assert.equal(replaced.status, 200, replaced.text);
    assert.notEqual(replaced.body.cover, first);
    assert.deepEqual((replaced.body.docs as string[]).slice(0, 2), [a, b], 'multiple fields gain uploads');
    assert.equal(replaced.body.docs.length, 3);
    await waitFor(() => !storedObjects().some((f) => f.includes(first)), 'the replaced cover and its thumbnails to go');
    assert.equal((await get(fileUrl(id, first))).status, 404);

    const kept = await t.request('PATCH', `/api/v1/collections/posts/records/${id}`, { body: { docs: [b], cover: null } });
    assert.equal(kept.status, 200, kept.text);
    assert.deepEqual(kept.body.docs, [b]);
    assert.equal(kept.body.cover, null);
    const refused = await t.request('PATCH', `/api/v1/collections/posts/records/${id}`, { body: { docs: ['someone-elses_aaaaaaaaaa.txt'] } });
    assert.equal(refused.status, 400);
    assert.equal(refused.body.errors[0].code, 'unknown_file');
    const json = await t.request('PATCH', `/api/v1/collections/posts/records/${id}`, { body: { cover: 'made_up_aaaaaaaaaa.png' } });
    assert.equal(json.status, 400);
    const dropped = [a!, replaced.body.docs[2] as string, replaced.body.cover as string];
    await waitFor(() => !storedObjects().some((f) => dropped.some((n) => f.endsWith(n))), () => `the removed files to go: ${storedObjects().filter((f) => dropped.some((n) => f.endsWith(n)))}`);
    assert.equal((await get(fileUrl(id, b))).status, 200);

    const deleted = await t.request('DELETE', `/api/v1/collections/posts/records/${id}`);
    assert.equal(deleted.status, 204);
    await waitFor(() => !storedObjects().some((f) => f.endsWith(b)), 'the deleted record\'s files to go');
    assert.equal((await get(fileUrl(id, b))).status, 404);
  });

  test('files follow a renamed collection and field; a dropped field\'s and a deleted collection\'s files go', async () => {
    const created = await t.request('POST', '/api/v1/collections', {
      body: {
        name: 'albums',
        fields: [{ name: 'front', type: 'file' }, { name: 'back', type: 'file' }, { name: 'extra', type: 'file', multiple: true }],
        rules: { list: '', view: '', create: "@request.auth.id != ''", update: "@request.auth.id != ''" },
      },
    });
    assert.equal(created.status, 201, created.text);
    const [front, back, extra] = created.body.fields;
    const record = await upload('POST', '/api/v1/collections/albums/records', [
      { name: 'front', filename: 'front.txt', data: 'front' },
      { name: 'back', filename: 'back.txt', data: 'back' },
      { name: 'extra', filename: 'x.txt', data: 'x' },
      { name: 'extra', filename: 'y.txt', data: 'y' },
    ]);
    assert.equal(record.status, 201, record.text);
    const { id } = record.body;
    const names = { front: record.body.front as string, back: record.body.back as string, extra: record.body.extra as string[] };
    const body = async (url: string) => {
      const res = await get(url);
      return res.status === 200 ? res.text() : res.status;
    };

    // The collection is renamed and front/back swap names: each file stays with its own field.
    const renamed = await t.request('PATCH', '/api/v1/collections/albums', {
      body: { name: 'covers', fields: [{ ...front, name: 'back' }, { ...back, name: 'front' }, extra] },
    });
    assert.equal(renamed.status, 200, renamed.text);
    const moved = await t.request('GET', `/api/v1/collections/covers/records/${id}`);
    assert.equal(moved.body.back, names.front);
    assert.equal(moved.body.front, names.back);
    assert.equal(await body(`/api/v1/files/covers/${id}/${names.front}`), 'front');
    assert.equal(await body(`/api/v1/files/covers/${id}/${names.back}`), 'back');
    assert.equal(await body(`/api/v1/files/albums/${id}/${names.front}`), 404);
    assert.equal((await t.app.services.files.find('covers', id, names.front))?.field, 'back');

    // A migration that fails rolls the file rows back with it.
    const refused = await t.request('PATCH', '/api/v1/collections/covers', { body: { name: 'covers2', fields: [{ ...front, name: 'back' }, { ...back, name: 'front' }, extra, { name: 'bad', type: 'nope' }] } });
    assert.equal(refused.status, 400);
    assert.equal((await t.app.services.files.find('covers', id, names.front))?.field, 'back');

    // Dropping a file field removes its files; the others stay.
    const dropped = await t.request('PATCH', '/api/v1/collections/covers', { body: { fields: [{ ...front, name: 'back' }, { ...back, name: 'front' }] } });
    assert.equal(dropped.status, 200, dropped.text);
    await waitFor(() => !storedObjects().some((f) => names.extra.some((n) => f.endsWith(n))), 'the dropped field\'s files to go');
    assert.equal(await body(`/api/v1/files/covers/${id}/${names.front}`), 'front');
    assert.equal(await t.app.services.files.find('covers', id, names.extra[0]!), undefined);

    // Deleting the collection removes every file it held.
    const deleted = await t.request('DELETE', '/api/v1/collections/covers');
    assert.equal(deleted.status, 204, deleted.text);
    await waitFor(() => !storedObjects().some((f) => f.endsWith(names.front) || f.endsWith(names.back)), 'the deleted collection\'s files to go');
    assert.equal(await t.app.services.files.find('covers', id, names.front), undefined);
  });

  test('protected files need a short-lived token and the view rule', async () => {
    await t.request('POST', '/api/v1/collections', {
      body: { name: 'vault', fields: [{ name: 'owner', type: 'relation', collection: 'users' }, { name: 'doc', type: 'file', protected: true }], rules: { view: 'owner = @request.auth.id', create: "@request.auth.id != ''" } },
    });
    const alice = await t.app.services.auth.createUser({ email: 'alice-files@example.com', password: 'a long enough password' });
    const aliceToken = (await t.request('POST', '/api/v1/auth/login', { body: { email: 'alice-files@example.com', password: 'a long enough password' }, token: null })).body.token;
    await t.app.services.auth.createUser({ email: 'bob-files@example.com', password: 'a long enough password' });
    const bobToken = (await t.request('POST', '/api/v1/auth/login', { body: { email: 'bob-files@example.com', password: 'a long enough password' }, token: null })).body.token;
    const created = await upload('POST', '/api/v1/collections/vault/records', [{ name: 'owner', data: alice.id }, { name: 'doc', filename: 'secret.txt', data: 'top secret' }], aliceToken);
    assert.equal(created.status, 201, created.text);
    const url = `/api/v1/files/vault/${created.body.id}/${created.body.doc}`;

    const bare = await fetch(t.url + url, { headers: { authorization: `Bearer ${aliceToken}` } });
    assert.equal(bare.status, 401, 'even the owner needs a file token');
    const issued = await t.request('POST', '/api/v1/files/token', { token: aliceToken });
    assert.equal(issued.status, 200);
    const ok = await fetch(`${t.url}${url}?token=${issued.body.token}`);
    assert.equal(ok.status, 200);
    assert.equal(await ok.text(), 'top secret');
    assert.equal(ok.headers.get('cache-control'), 'private, no-cache');
    const bobs = (await t.request('POST', '/api/v1/files/token', { token: bobToken })).body.token;
    assert.equal((await fetch(`${t.url}${url}?token=${bobs}`)).status, 404, 'a token does not bypass the view rule');
    const forged = issued.body.token.slice(0, -2) + (issued.body.token.endsWith('AA') ? 'BB' : 'AA');
    assert.equal((await fetch(`${t.url}${url}?token=${forged}`)).status, 401);
    const expired = t.app.services.fileTokens.issue({ userId: alice.id }, Date.now() - 10 * 60 * 1000).token;
    assert.equal((await fetch(`${t.url}${url}?token=${expired}`)).status, 401);

    // A script with an API key renders a page with the file too; a revoked key's tokens die with it.
    const key = await t.request('POST', '/api/v1/auth/api-keys', { body: { name: 'renderer', roles: ['admin'] } });
    const plain = await t.request('POST', '/api/v1/auth/api-keys', { body: { name: 'no role', roles: [] } });
    const keyToken = (await t.request('POST', '/api/v1/files/token', { token: key.body.secret })).body.token;
    const plainToken = (await t.request('POST', '/api/v1/files/token', { token: plain.body.secret })).body.token;
    assert.equal((await fetch(`${t.url}${url}?token=${keyToken}`)).status, 200, 'an admin key passes the view rule');
    assert.equal((await fetch(`${t.url}${url}?token=${plainToken}`)).status, 404, 'a key without the role does not');
    assert.equal((await t.request('DELETE', `/api/v1/auth/api-keys/${key.body.id}`)).status, 204);
    assert.equal((await fetch(`${t.url}${url}?token=${keyToken}`)).status, 401);
  });
});
