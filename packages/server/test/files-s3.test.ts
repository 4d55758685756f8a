// Files on S3 storage (a real s3rver on 127.0.0.1): uploads land in the bucket and are streamed
// back through Galley, or, with presign=true, served by a redirect to a presigned URL; replaced
// files leave the bucket.

import assert from 'node:assert/strict';
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
  });
}
