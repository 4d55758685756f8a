// galley.files against a live Galley on every database: the URL builder (thumbnails, file tokens
// for protected fields), tus uploads with the real tus-js-client (progress, pause and resume, an
// upload cut off by the network and resumed from the server's offset, abort), attaching an upload
// with {"field": {"upload": id}}, and the failures: no session, a foreign or unknown upload id.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, test } from 'node:test';
import { describeEachDialect } from '../../server/src/testing/databases.ts';
import { opaqueBytes, pngImage, waitFor } from '../../server/src/testing/files.ts';
import { createSignedInUser, createTestApp, type TestApp } from '../../server/src/testing/test-app.ts';
import { createClient, GalleyError, GalleyNetworkError, type GalleyClient } from '../src/index.ts';
import { createProxy } from './tcp-proxy.ts';

interface Album {
  id: string;
  created: string;
  updated: string;
  title: string | null;
  cover: string | null;
  doc: string | null;
  scan: string | null;
}

const ALBUMS = {
  name: 'albums',
  fields: [
    { name: 'title', type: 'text' as const },
    { name: 'cover', type: 'file' as const, mimeTypes: ['image/png'], thumbs: ['100x100', '0x50'] },
    { name: 'doc', type: 'file' as const, maxSize: 6 * 1024 * 1024 },
    { name: 'scan', type: 'file' as const, protected: true },
  ],
  rules: { list: '', view: '', create: "@request.auth.id != ''", update: "@request.auth.id != ''", delete: "@request.auth.id != ''" },
};

const sha256 = (data: Uint8Array) => crypto.createHash('sha256').update(data).digest('hex');
/** Width and height from a PNG's IHDR chunk. */
const pngSize = (png: Buffer) => ({ width: png.readUInt32BE(16), height: png.readUInt32BE(20) });

await describeEachDialect('sdk files', (dialect) => {
  let t: TestApp;
  let galley: GalleyClient;
  let token: string;
  let albums: ReturnType<GalleyClient['collection']>;
  /** File fields take `{upload}` on write and hold stored names on read. */
  const create = async (body: Record<string, unknown>) => (await albums.create(body)) as unknown as Album;
  let proxy: Awaited<ReturnType<typeof createProxy>>;

  /** The server's offset for an upload, straight from tus (HEAD). */
  const offsetOf = async (url: string) => {
    const res = await fetch(url, { method: 'HEAD', headers: { 'tus-resumable': '1.0.0', authorization: `Bearer ${token}` } });
    return { status: res.status, offset: Number(res.headers.get('upload-offset')) };
  };

  before(async () => {
    t = await createTestApp(dialect);
    const admin = createClient(t.url);
    await admin.auth.setToken(t.adminToken);
    await admin.collections.create(ALBUMS);
    token = (await createSignedInUser(t, 'uploader@example.com')).token;
    galley = createClient(t.url);
    await galley.auth.setToken(token);
    albums = galley.collection('albums');
    proxy = await createProxy(Number(new URL(t.url).port));
  });
  after(async () => {
    await proxy?.close();
    await t?.close();
  });

  test('url(): the stored file, its declared thumbnails once the job made them, every segment encoded', async () => {
    const png = await pngImage(400, 300);
    const album = await create({ title: 'Beach', cover: await albums.upload(png, { filename: 'beach.png' }) });
    assert.match(album.cover!, /^beach_[a-z0-9]{10}\.png$/);

    const url = galley.files.url('albums', album, album.cover!);
    assert.equal(url, `${t.url}/api/v1/files/albums/${album.id}/${album.cover}`);
    assert.equal(albums.fileUrl(album, album.cover!, { thumb: '100x100' }), `${url}?thumb=100x100`);
    assert.equal(galley.files.url('a b', 'x/y', '../z', { thumb: '0x50', token: 't&u' }), `${t.url}/api/v1/files/a%20b/x%2Fy/..%2Fz?thumb=0x50&token=t%26u`);

    const original = Buffer.from(await (await fetch(url)).arrayBuffer());
    assert.equal(sha256(original), sha256(png));
    await waitFor(async () => {
      const meta = await t.app.services.files.find('albums', album.id, album.cover!);
      return meta?.thumbs['100x100'] === 'ready' && meta.thumbs['0x50'] === 'ready';
    }, 'the thumbnails');
    const crop = await fetch(galley.files.url('albums', album, album.cover!, { thumb: '100x100' }));
    assert.equal(crop.status, 200);
    assert.deepEqual(pngSize(Buffer.from(await crop.arrayBuffer())), { width: 100, height: 100 });
    const fit = await fetch(galley.files.url('albums', album, album.cover!, { thumb: '0x50' }));
    assert.deepEqual(pngSize(Buffer.from(await fit.arrayBuffer())), { width: 67, height: 50 });
  });

  test('protected files: refused without a token, served with one from files.token(), refused with a forged one', async () => {
    const data = Buffer.from('a protected scan');
    const album = await create({ scan: await albums.upload(data, { filename: 'scan.txt' }) });
    const bare = await fetch(galley.files.url('albums', album, album.scan!));
    assert.equal(bare.status, 401);
    assert.equal(((await bare.json()) as { code: string }).code, 'unauthenticated');

    const issued = await galley.files.token();
    assert.ok(issued.token.length > 20);
    assert.ok(Date.parse(issued.expires) > Date.now());
    const served = await fetch(galley.files.url('albums', album, album.scan!, { token: issued.token }));
    assert.equal(served.status, 200);
    assert.equal(Buffer.from(await served.arrayBuffer()).toString(), 'a protected scan');

    const forged = await fetch(galley.files.url('albums', album, album.scan!, { token: `${issued.token.split('.')[0]}.AAAA` }));
    assert.equal(forged.status, 401);
  });

  test('upload(): progress up to the whole size, then attached with {"doc": {"upload": id}} and served byte for byte', async () => {
    const data = opaqueBytes(1024 * 1024 + 17);
    const progress: Array<[number, number]> = [];
    const task = galley.files.upload(data, { filename: 'report.bin', chunkSize: 256 * 1024, onProgress: (sent, total) => progress.push([sent, total]) });
    const ref = await task;
    assert.match(ref.upload, /^[0-9a-f]{32}$/);
    assert.equal(task.id, ref.upload);
    assert.ok(progress.length >= 4, `${progress.length} progress reports`);
    assert.ok(progress.every(([sent, total], i) => total === data.length && (i === 0 || sent >= progress[i - 1]![0])), 'progress only grows');
    assert.deepEqual(progress.at(-1), [data.length, data.length]);

    const album = await create({ doc: ref });
    assert.match(album.doc!, /^report_[a-z0-9]{10}\.bin$/);
    const served = Buffer.from(await (await fetch(galley.files.url('albums', album, album.doc!))).arrayBuffer());
    assert.equal(sha256(served), sha256(data));
    assert.equal((await offsetOf(task.url!)).status, 404, 'an attached upload leaves the upload store');

    const again = await create({ doc: ref }).catch((e: unknown) => e);
    assert.ok(again instanceof GalleyError);
    assert.equal(again.code, 'validation_failed');
    assert.deepEqual(again.fieldErrors.map((e) => [e.field, e.code]), [['doc', 'unknown_upload']]);
  });

  test('a connection cut midway fails with GalleyNetworkError; a new upload with its url resumes from the server offset', async () => {
    const data = opaqueBytes(3 * 1024 * 1024);
    const viaProxy = createClient(proxy.url);
    await viaProxy.auth.setToken(token);
    let cut = false;
    const first = viaProxy.files.upload(data, {
      filename: 'big.bin',
      chunkSize: 256 * 1024,
      retryDelays: [],
      onProgress: (sent) => {
        if (!cut && sent >= 1024 * 1024) {
          cut = true;
          // Down, not just cut: the next chunk's request must not find a new connection either.
          proxy.down();
        }
      },
    });
    const failure = await first.then(() => assert.fail('the cut upload cannot succeed'), (e: unknown) => e);
    assert.ok(failure instanceof GalleyNetworkError, `a network error, got ${String(failure)}`);
    assert.ok(first.url, 'the upload was created before the cut');
    const { offset } = await offsetOf(first.url.replace(proxy.url, t.url));
    assert.ok(offset >= 512 * 1024 && offset < data.length, `the server kept ${offset} bytes`);

    proxy.restore();
    const before = proxy.bytesUp;
    const resumed = await viaProxy.files.upload(data, { uploadUrl: first.url, chunkSize: 256 * 1024, retryDelays: [] });
    const sent = proxy.bytesUp - before;
    assert.equal(resumed.upload, first.id, 'the same upload, not a new one');
    assert.ok(sent < data.length - offset + 64 * 1024, `the resume sent ${sent} bytes for the ${data.length - offset} missing`);

    const album = await create({ doc: resumed });
    const served = Buffer.from(await (await fetch(galley.files.url('albums', album, album.doc!))).arrayBuffer());
    assert.equal(sha256(served), sha256(data), 'the file is whole after the resume');
  });

  test('pause() stops at an offset the server keeps; resume() continues from it to the end', async () => {
    const data = opaqueBytes(2 * 1024 * 1024);
    let pausedAt = 0;
    const task = galley.files.upload(data, {
      chunkSize: 128 * 1024,
      onProgress: (sent) => {
        if (pausedAt === 0 && sent >= 512 * 1024) {
          pausedAt = sent;
          void task.pause();
        }
      },
    });
    await waitFor(() => pausedAt > 0, 'the pause');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const held = await offsetOf(task.url!);
    assert.ok(held.offset > 0 && held.offset < data.length, `paused at ${held.offset}`);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal((await offsetOf(task.url!)).offset, held.offset, 'nothing is sent while paused');
    task.resume();
    const album = await create({ doc: await task });
    const served = Buffer.from(await (await fetch(galley.files.url('albums', album, album.doc!))).arrayBuffer());
    assert.equal(sha256(served), sha256(data));
  });

  test('abort() removes the upload from the server; an aborted signal rejects with its reason', async () => {
    const data = opaqueBytes(1024 * 1024);
    let aborted: Promise<void> | undefined;
    const task = galley.files.upload(data, {
      chunkSize: 128 * 1024,
      onProgress: (sent) => {
        if (!aborted && sent >= 256 * 1024) aborted = task.abort();
      },
    });
    const err = await task.then(() => assert.fail('aborted'), (e: unknown) => e);
    assert.equal((err as Error).name, 'AbortError');
    await aborted;
    await waitFor(async () => (await offsetOf(task.url!)).status === 404, 'the terminated upload to be gone');

    const controller = new AbortController();
    const reason = new Error('the user left the page');
    const stopped = galley.files.upload(data, { signal: controller.signal, chunkSize: 128 * 1024, onProgress: () => controller.abort(reason) });
    assert.equal(await stopped.then(() => 'finished', (e: unknown) => e), reason);
  });

  test('failures: no session is 401 unauthenticated; another user can neither attach nor continue my upload', async () => {
    const anonymous = createClient(t.url);
    const refused = await anonymous.files.upload(Buffer.from('x'), { retryDelays: [] }).then(() => 'uploaded', (e: unknown) => e);
    assert.ok(refused instanceof GalleyError, String(refused));
    assert.equal(refused.status, 401);
    assert.equal(refused.code, 'unauthenticated');

    const mine = await galley.files.upload(Buffer.from('mine'));
    const other = createClient(t.url);
    await other.auth.setToken((await createSignedInUser(t, 'someone-else@example.com')).token);
    const attach = await other.collection('albums').create({ doc: mine }).catch((e: unknown) => e);
    assert.ok(attach instanceof GalleyError);
    assert.deepEqual(attach.fieldErrors.map((e) => e.code), ['unknown_upload']);
    // Their client is told 404 for my upload's URL, so tus-js-client starts an upload of their own.
    const theirs = await other.files.upload(Buffer.from('theirs'), { uploadUrl: `${t.url}/api/v1/uploads/${mine.upload}`, retryDelays: [] });
    assert.notEqual(theirs.upload, mine.upload);
    const album = await create({ doc: mine });
    const served = await fetch(galley.files.url('albums', album, album.doc!));
    assert.equal(await served.text(), 'mine', 'my upload is untouched by the other user');
  });
});
