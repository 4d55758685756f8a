// Files on S3 storage (a real s3rver on 127.0.0.1): uploads land in the bucket and are streamed
// back through Galley, or, with presign=true, served by a redirect to a presigned URL; replaced
// files leave the bucket; a resumable upload's parts live in the bucket until it is attached.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { multipartBody, pngImage, waitFor } from '../src/testing/files.ts';
import { startS3Server, type TestS3Server } from '../src/testing/s3-server.ts';
import { createTestApp, type TestApp } from '../src/testing/test-app.ts';

const GALLERY = {
  name: 'gallery',
  fields: [{ name: 'image', type: 'file', mimeTypes: ['image/png'], thumbs: ['32x32'] }],
  rules: { view: '', create: "@request.auth.id != ''", update: "@request.auth.id != ''" },
};

for (const presign of [false, true]) {
  describe(`files on S3 (${presign ? 'presigned redirects' : 'streamed'})`, () => {
    let s3: TestS3Server;
    let t: TestApp;
    before(async () => {
      s3 = await startS3Server({ presign });
      t = await createTestApp('sqlite', s3.env);
      assert.equal((await t.request('POST', '/api/v1/collections', { body: GALLERY })).status, 201);
    });
    after(async () => {
      await t?.close();
      await s3?.close();
    });

    test('an upload is stored in the bucket and served back; a replaced one leaves the bucket', async () => {
      const png = await pngImage(64, 48);
      const { body, contentType } = multipartBody([{ name: 'image', filename: 'pic.png', data: png }]);
      const created = await t.request('POST', '/api/v1/collections/gallery/records', { raw: body, headers: { 'content-type': contentType } });
      assert.equal(created.status, 201, created.text);
      const url = `${t.url}/api/v1/files/gallery/${created.body.id}/${created.body.image}`;
      const key = `gallery/${created.body.image}`;
      assert.deepEqual(await t.app.services.storage.stat(key), { size: png.length });

      const first = await fetch(url, { redirect: 'manual' });
      if (presign) {
        assert.equal(first.status, 302);
        const location = first.headers.get('location')!;
        assert.ok(location.startsWith(s3.endpoint), location);
        assert.match(location, /X-Amz-Signature=/);
        const direct = await fetch(location);
        assert.equal(direct.status, 200);
        assert.equal(direct.headers.get('content-type'), 'image/png');
        assert.match(direct.headers.get('content-disposition')!, /^inline; filename="pic.png"/);
        assert.deepEqual(Buffer.from(await direct.arrayBuffer()), png);
      } else {
        assert.equal(first.status, 200);
        assert.equal(first.headers.get('content-type'), 'image/png');
        assert.deepEqual(Buffer.from(await first.arrayBuffer()), png);
        const range = await fetch(url, { headers: { range: 'bytes=1-3' } });
        assert.equal(range.status, 206);
        assert.deepEqual(Buffer.from(await range.arrayBuffer()), png.subarray(1, 4));
      }
      await waitFor(async () => (await t.app.services.files.find('gallery', created.body.id, created.body.image))!.thumbs['32x32'] === 'ready', 'the thumbnail');

      const next = multipartBody([{ name: 'image', filename: 'next.png', data: await pngImage(10, 10) }]);
      const replaced = await t.request('PATCH', `/api/v1/collections/gallery/records/${created.body.id}`, { raw: next.body, headers: { 'content-type': next.contentType } });
      assert.equal(replaced.status, 200, replaced.text);
      await waitFor(async () => (await t.app.services.storage.stat(key)) === undefined, 'the replaced file to leave the bucket');
      assert.equal(await t.app.services.storage.stat(`gallery/thumbs/32x32/${created.body.image}`), undefined, 'and its thumbnail');
    });

    test('a resumable upload keeps its parts in the bucket, and attaching it removes them', async () => {
      const tusHeaders = { 'tus-resumable': '1.0.0', authorization: `Bearer ${t.adminToken}` };
      const png = await pngImage(40, 30);
      const start = await fetch(`${t.url}/api/v1/uploads`, { method: 'POST', headers: { ...tusHeaders, 'upload-length': String(png.length) } });
      assert.equal(start.status, 201, await start.text());
      const location = start.headers.get('location')!;
      const id = location.split('/').pop()!;
      const half = Math.floor(png.length / 2);
      for (const [offset, bytes] of [[0, png.subarray(0, half)], [half, png.subarray(half)]] as const) {
        const res = await fetch(t.url + location, { method: 'PATCH', headers: { ...tusHeaders, 'upload-offset': String(offset), 'content-type': 'application/offset+octet-stream' }, body: bytes });
        assert.equal(res.status, 204);
      }
      const partKeys = async () => (await t.app.services.db.all<{ key: string }>(`SELECT "key" FROM "_upload_parts" WHERE "upload_id" = ?`, [id])).map((r) => r.key);
      const keys = await partKeys();
      assert.equal(keys.length, 2);
      for (const key of keys) assert.ok(await t.app.services.storage.stat(key), `${key} is in the bucket`);

      const created = await t.request('POST', '/api/v1/collections/gallery/records', { body: { image: { upload: id } } });
      assert.equal(created.status, 201, created.text);
      const served = await fetch(`${t.url}/api/v1/files/gallery/${created.body.id}/${created.body.image}`);
      assert.deepEqual(Buffer.from(await served.arrayBuffer()), png);
      const meta = await t.app.services.files.find('gallery', created.body.id, created.body.image);
      assert.equal(meta!.type, 'image/png', 'sniffed from the first bytes of the parts');
      assert.equal(meta!.sha256, crypto.createHash('sha256').update(png).digest('hex'), 'hashed on its way into the bucket');
      assert.deepEqual(await partKeys(), []);
      for (const key of keys) assert.equal(await t.app.services.storage.stat(key), undefined, `${key} left the bucket`);
    });
  });
}
