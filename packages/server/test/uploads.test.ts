// Resumable uploads (tus 1.0) on every database, driven by the real tus-js-client: an upload
// interrupted midway resumes where it stopped, is attached with {"upload": id}, and leaves the
// upload store; termination, expiry, ownership and the field's own limits.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import * as tus from 'tus-js-client';
import { StorageUploadStore } from '../src/core/upload-store.ts';
import { describeEachDialect } from '../src/testing/databases.ts';
import { opaqueBytes, pngImage } from '../src/testing/files.ts';
import { createTestApp, type TestApp } from '../src/testing/test-app.ts';

const DOCS = {
  name: 'papers',
  fields: [
    { name: 'attachment', type: 'file', maxSize: 8 * 1024 * 1024 },
    { name: 'image', type: 'file', mimeTypes: ['image/png'] },
    { name: 'gallery', type: 'file', multiple: true },
  ],
  rules: { view: '', create: "@request.auth.id != ''", update: "@request.auth.id != ''" },
};

interface Sent {
  method: string;
  offset: string | null;
}

/** Runs one tus upload to the end (or until `stopAfter` bytes, then aborts it). */
function runUpload(t: TestApp, data: Buffer, options: { token: string; uploadUrl?: string; stopAfter?: number; filename?: string }): Promise<{ url: string; sent: Sent[]; stopped: boolean }> {
  const sent: Sent[] = [];
  return new Promise((resolve, reject) => {
    const upload: tus.Upload = new tus.Upload(data, {
      endpoint: `${t.url}/api/v1/uploads`,
      uploadUrl: options.uploadUrl,
      headers: { authorization: `Bearer ${options.token}` },
      metadata: { filename: options.filename ?? 'report.bin' },
      chunkSize: 256 * 1024,
      retryDelays: [],
      onBeforeRequest: (req) => void sent.push({ method: req.getMethod(), offset: req.getHeader('Upload-Offset') ?? null }),
      onProgress: (bytes) => {
        if (options.stopAfter !== undefined && bytes >= options.stopAfter) {
          void upload.abort().then(() => resolve({ url: upload.url!, sent, stopped: true }));
        }
      },
      onSuccess: () => resolve({ url: upload.url!, sent, stopped: false }),
      onError: reject,
    });
    upload.start();
  });
}

const idOf = (url: string) => url.split('/').pop()!;

await describeEachDialect('resumable uploads', (dialect) => {
  let t: TestApp;
  let alice: string;
  let bob: string;
  /** The part objects an upload still has in storage. */
  let partsLeft: (id: string) => string[];
  const login = async (email: string) => {
    await t.app.services.auth.createUser({ email, password: 'a long enough password' });
    return (await t.request('POST', '/api/v1/auth/login', { body: { email, password: 'a long enough password' }, token: null })).body.token as string;
  };
  const head = (url: string, token: string) => fetch(new URL(url, t.url), { method: 'HEAD', headers: { 'tus-resumable': '1.0.0', authorization: `Bearer ${token}` } });

  before(async () => {
    t = await createTestApp(dialect);
    assert.equal((await t.request('POST', '/api/v1/collections', { body: DOCS })).status, 201);
    alice = await login('alice-tus@example.com');
    bob = await login('bob-tus@example.com');
    const storage = t.app.config.storage;
    assert.equal(storage.kind, 'local');
    const partsDir = (id: string) => path.join(storage.kind === 'local' ? storage.dir : '', '_uploads', id);
    partsLeft = (id) => (fs.existsSync(partsDir(id)) ? fs.readdirSync(partsDir(id)) : []);
  });
  after(async () => t?.close());

  test('an interrupted upload resumes from its offset, is attached with {"upload": id} and leaves the store', async () => {
    const data = opaqueBytes(3 * 1024 * 1024);
    const first = await runUpload(t, data, { token: alice, stopAfter: 1024 * 1024 });
    assert.ok(first.stopped);
    const midway = await head(first.url, alice);
    const offset = Number(midway.headers.get('upload-offset'));
    assert.ok(offset > 0 && offset < data.length, `the server kept ${offset} bytes`);
    assert.ok(partsLeft(idOf(first.url)).length > 0, 'the bytes are parts in storage');

    const resumed = await runUpload(t, data, { token: alice, uploadUrl: first.url });
    assert.equal(resumed.url, first.url);
    assert.equal(resumed.sent[0]!.method, 'HEAD', 'the client asked where to resume');
    assert.ok(!resumed.sent.some((r) => r.method === 'POST'), 'no new upload was created');
    const firstPatch = resumed.sent.find((r) => r.method === 'PATCH')!;
    assert.ok(Number(firstPatch.offset) >= offset, `resumed at ${firstPatch.offset}, not 0`);

    const id = idOf(first.url);
    const created = await t.request('POST', '/api/v1/collections/papers/records', { token: alice, body: { attachment: { upload: id } } });
    assert.equal(created.status, 201, created.text);
    assert.match(created.body.attachment, /^report_[a-z0-9]{10}\.bin$/);
    const served = await fetch(`${t.url}/api/v1/files/papers/${created.body.id}/${created.body.attachment}`);
    assert.equal(crypto.createHash('sha256').update(Buffer.from(await served.arrayBuffer())).digest('hex'), crypto.createHash('sha256').update(data).digest('hex'));
    const meta = await t.app.services.files.find('papers', created.body.id, created.body.attachment);
    assert.equal(meta!.originalName, 'report.bin');
    assert.equal(meta!.size, data.length);
    assert.equal(meta!.sha256, crypto.createHash('sha256').update(data).digest('hex'), 'the metadata keeps the content\'s SHA-256');

    assert.equal((await head(first.url, alice)).status, 404, 'an attached upload is gone');
    assert.equal(await t.app.services.uploads.find(id), undefined);
    assert.deepEqual(partsLeft(id), []);
    const again = await t.request('POST', '/api/v1/collections/papers/records', { token: alice, body: { attachment: { upload: id } } });
    assert.equal(again.status, 400);
    assert.equal(again.body.errors[0].code, 'unknown_upload');
  });

  test('one PATCH larger than a part is stored as several parts; a cut one keeps what arrived; a stale offset is refused', async () => {
    const staging = fs.mkdtempSync(path.join(os.tmpdir(), 'galley-parts-'));
    const PART = 64 * 1024;
    const store = new StorageUploadStore(t.app.services.db, t.app.services.storage, staging, 3_600_000, PART);
    const data = opaqueBytes(200 * 1024);
    const chunks = function* (bytes: Buffer) {
      for (let at = 0; at < bytes.length; at += 16 * 1024) yield bytes.subarray(at, at + 16 * 1024);
    };
    const stagedFiles: number[] = [];
    /** Counts the staging files while the store reads each chunk: never more than the one part. */
    const watched = (bytes: Buffer, cutAfter?: number) =>
      Readable.from(
        (function* () {
          let sent = 0;
          for (const chunk of chunks(bytes)) {
            if (cutAfter !== undefined && sent >= cutAfter) throw new Error('connection reset');
            stagedFiles.push(fs.readdirSync(staging).length);
            sent += chunk.length;
            yield chunk;
          }
        })(),
      );
    const sha = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');

    await t.app.services.uploads.created('partsone', null, data.length, 'big.bin');
    assert.equal(await store.write(watched(data), 'partsone', 0), data.length);
    assert.deepEqual((await store.getUpload('partsone')).offset, data.length);
    const sizes = (await t.app.services.db.all<{ size: number }>(`SELECT "size" FROM "_upload_parts" WHERE "upload_id" = ${dialect === 'postgres' ? '$1' : '?'} ORDER BY "offset"`, ['partsone'])).map((r) => Number(r.size));
    assert.deepEqual(sizes, [PART, PART, PART, 200 * 1024 - 3 * PART]);
    assert.ok(Math.max(...stagedFiles) <= 1, `staging held ${Math.max(...stagedFiles)} files at once`);
    const back: Buffer[] = [];
    for await (const chunk of store.read('partsone')) back.push(chunk as Buffer);
    assert.equal(sha(Buffer.concat(back)), sha(data));

    await t.app.services.uploads.created('partscut', null, data.length, 'cut.bin');
    const cut = 7 * 16 * 1024; // a whole part, then 48 KiB of the next
    await assert.rejects(store.write(watched(data, cut), 'partscut', 0));
    assert.equal((await store.getUpload('partscut')).offset, cut, 'the whole part and the rest that arrived were kept');
    assert.equal(await store.write(watched(data.subarray(cut)), 'partscut', cut), data.length, 'and the upload resumes there');
    const resumed: Buffer[] = [];
    for await (const chunk of store.read('partscut')) resumed.push(chunk as Buffer);
    assert.equal(sha(Buffer.concat(resumed)), sha(data));

    // Another request already stored offset 0 of this upload: this one is stale, and leaves nothing behind.
    await assert.rejects(store.write(watched(data), 'partsone', 0), (err: { status_code?: number }) => err.status_code === 409);
    assert.deepEqual(fs.readdirSync(staging), [], 'no staging file is left');
    await store.remove('partsone');
    await store.remove('partscut');
    fs.rmSync(staging, { recursive: true, force: true });
  });

  test('uploads join a multiple field and replace a single one, by their ids in the JSON body', async () => {
    const a = await runUpload(t, Buffer.from('first file'), { token: alice, filename: 'a.txt' });
    const b = await runUpload(t, Buffer.from('second file'), { token: alice, filename: 'b.txt' });
    const created = await t.request('POST', '/api/v1/collections/papers/records', { token: alice, body: { gallery: [{ upload: idOf(a.url) }, { upload: idOf(b.url) }] } });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.body.gallery.length, 2);
    const c = await runUpload(t, Buffer.from('third file'), { token: alice, filename: 'c.txt' });
    const updated = await t.request('PATCH', `/api/v1/collections/papers/records/${created.body.id}`, { token: alice, body: { gallery: [created.body.gallery[1], { upload: idOf(c.url) }] } });
    assert.equal(updated.status, 200, updated.text);
    assert.equal(updated.body.gallery.length, 2);
    assert.equal(updated.body.gallery[0], created.body.gallery[1]);
    assert.match(updated.body.gallery[1], /^c_/);
  });

  test('an upload belongs to its owner: others get 404 and cannot attach it; anonymous callers cannot upload', async () => {
    const mine = await runUpload(t, Buffer.from('alice only'), { token: alice });
    assert.equal((await head(mine.url, bob)).status, 404);
    const patch = await fetch(new URL(mine.url, t.url), {
      method: 'PATCH', body: 'x',
      headers: { 'tus-resumable': '1.0.0', authorization: `Bearer ${bob}`, 'upload-offset': '10', 'content-type': 'application/offset+octet-stream' },
    });
    assert.equal(patch.status, 404);
    const stolen = await t.request('POST', '/api/v1/collections/papers/records', { token: bob, body: { attachment: { upload: idOf(mine.url) } } });
    assert.equal(stolen.status, 400);
    assert.equal(stolen.body.errors[0].code, 'unknown_upload');
    const anonymous = await fetch(`${t.url}/api/v1/uploads`, { method: 'POST', headers: { 'tus-resumable': '1.0.0', 'upload-length': '10' } });
    assert.equal(anonymous.status, 401);
    const bobs = await fetch(`${t.url}/api/v1/uploads`, { method: 'POST', headers: { 'tus-resumable': '1.0.0', 'upload-length': '10', authorization: `Bearer ${bob}` } });
    assert.equal(bobs.status, 201);
    const row = await t.app.services.uploads.find(idOf(bobs.headers.get('location')!));
    assert.equal(row!.owner, (await t.app.services.auth.userByEmail('bob-tus@example.com'))!.id);
  });

  test('an unfinished upload cannot be attached; the field\'s type and size still apply', async () => {
    const half = await runUpload(t, opaqueBytes(1024 * 1024), { token: alice, stopAfter: 256 * 1024 });
    const early = await t.request('POST', '/api/v1/collections/papers/records', { token: alice, body: { attachment: { upload: idOf(half.url) } } });
    assert.equal(early.status, 400);
    assert.equal(early.body.errors[0].code, 'upload_incomplete');
    const html = await runUpload(t, Buffer.from('<html><script>alert(1)</script></html>'), { token: alice, filename: 'x.png' });
    const refused = await t.request('POST', '/api/v1/collections/papers/records', { token: alice, body: { image: { upload: idOf(html.url) } } });
    assert.equal(refused.status, 415, refused.text);
    const png = await runUpload(t, await pngImage(20, 20), { token: alice, filename: 'ok.png' });
    const accepted = await t.request('POST', '/api/v1/collections/papers/records', { token: alice, body: { image: { upload: idOf(png.url) } } });
    assert.equal(accepted.status, 201, accepted.text);
    const tooBig = await fetch(`${t.url}/api/v1/uploads`, { method: 'POST', headers: { 'tus-resumable': '1.0.0', 'upload-length': String(9 * 1024 * 1024), authorization: `Bearer ${alice}` } });
    assert.equal(tooBig.status, 413, 'larger than any field takes');
    const malformed = await t.request('POST', '/api/v1/collections/papers/records', { token: alice, body: { attachment: { upload: '../../etc/passwd' } } });
    assert.equal(malformed.status, 400);
  });

  test('attaching sniffs the type across parts; a failed attach stores nothing and keeps the upload', async () => {
    const tusHeaders = { 'tus-resumable': '1.0.0', authorization: `Bearer ${alice}` };
    /** An upload sent as one PATCH per slice, so each slice is a part of its own. */
    const sendInSlices = async (bytes: Buffer, cuts: number[]) => {
      const start = await fetch(`${t.url}/api/v1/uploads`, { method: 'POST', headers: { ...tusHeaders, 'upload-length': String(bytes.length), 'upload-metadata': `filename ${Buffer.from('pic.png').toString('base64')}` } });
      assert.equal(start.status, 201, await start.text());
      const location = start.headers.get('location')!;
      const bounds = [0, ...cuts, bytes.length];
      for (let i = 0; i + 1 < bounds.length; i++) {
        const res = await fetch(new URL(location, t.url), { method: 'PATCH', headers: { ...tusHeaders, 'upload-offset': String(bounds[i]), 'content-type': 'application/offset+octet-stream' }, body: bytes.subarray(bounds[i], bounds[i + 1]) });
        assert.equal(res.status, 204);
      }
      return idOf(location);
    };
    const png = await pngImage(30, 20);
    // The PNG signature itself is split over two parts.
    const split = await sendInSlices(png, [3, 40]);
    const accepted = await t.request('POST', '/api/v1/collections/papers/records', { token: alice, body: { image: { upload: split } } });
    assert.equal(accepted.status, 201, accepted.text);
    const meta = await t.app.services.files.find('papers', accepted.body.id, accepted.body.image);
    assert.equal(meta!.type, 'image/png');
    assert.equal(meta!.sha256, crypto.createHash('sha256').update(png).digest('hex'));

    const storage = t.app.config.storage;
    const stored = () => (storage.kind === 'local' && fs.existsSync(path.join(storage.dir, 'papers')) ? fs.readdirSync(path.join(storage.dir, 'papers'), { recursive: true }).length : 0);
    const files = async () => Number((await t.app.services.db.get<{ n: number }>('SELECT COUNT(*) AS n FROM "_files"'))!.n);
    const [storedBefore, filesBefore] = [stored(), await files()];
    const data = opaqueBytes(600 * 1024);
    const broken = await sendInSlices(data, [256 * 1024]);
    // The last part goes missing from storage: the attach fails midway through the bytes.
    const last = await t.app.services.db.get<{ key: string }>(`SELECT "key" FROM "_upload_parts" WHERE "upload_id" = ${dialect === 'postgres' ? '$1' : '?'} AND "offset" > 0`, [broken]);
    await t.app.services.storage.delete(last!.key);
    const failed = await t.request('POST', '/api/v1/collections/papers/records', { token: alice, body: { attachment: { upload: broken } } });
    assert.ok(failed.status >= 400, `${failed.status} ${failed.text}`);
    assert.equal(stored(), storedBefore, 'no object is left under the collection');
    assert.equal(await files(), filesBefore, 'and no _files row');
    assert.ok(await t.app.services.uploads.find(broken), 'the upload is still there');
  });

  test('termination removes an upload; expiry removes those never attached', async () => {
    const terminated = await runUpload(t, opaqueBytes(600 * 1024), { token: alice, stopAfter: 256 * 1024 });
    await tus.Upload.terminate(terminated.url, { headers: { authorization: `Bearer ${alice}` } });
    const tid = idOf(terminated.url);
    assert.equal((await head(terminated.url, alice)).status, 404);
    assert.deepEqual(partsLeft(tid), []);
    for (let i = 0; i < 50 && (await t.app.services.uploads.find(tid)); i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(await t.app.services.uploads.find(tid), undefined);

    const abandoned = await runUpload(t, opaqueBytes(600 * 1024), { token: alice, stopAfter: 256 * 1024 });
    const aid = idOf(abandoned.url);
    assert.equal(await t.app.services.uploads.expire(Date.now()), 0, 'not before its time');
    assert.ok((await t.app.services.uploads.expire(Date.now() + 25 * 3_600_000)) >= 1);
    assert.equal(await t.app.services.uploads.find(aid), undefined);
    assert.deepEqual(partsLeft(aid), []);
    assert.equal((await head(abandoned.url, alice)).status, 404);
  });
});
