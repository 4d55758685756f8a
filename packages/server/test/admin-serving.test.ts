// /admin: the built dashboard as the server sends it — the single page for every app path, with
// its Content-Security-Policy and no-cache; content-hashed assets cached for a year and sent
// pre-compressed; missing assets 404 (never the page); a server without a build says so.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import Fastify from 'fastify';
import { ADMIN_DIST, ensureAdminBuilt } from '@galley/admin/build';
import { adminRoutes } from '../src/http/routes/admin.ts';
import { registerProblemHandlers } from '../src/http/problem.ts';
import { describeEachDialect, type TestDialect } from '../src/testing/databases.ts';
import { createTestApp, type TestApp } from '../src/testing/test-app.ts';

await ensureAdminBuilt();
const entryScript = /<script type="module" crossorigin src="(\/admin\/assets\/[^"]+\.js)"/.exec(fs.readFileSync(path.join(ADMIN_DIST, 'index.html'), 'utf8'))![1]!;

await describeEachDialect('the dashboard at /admin', (dialect: TestDialect) => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp(dialect);
  });
  after(() => t.close());

  test('/admin and every app path under it are the single page, under a strict CSP and no-cache', async () => {
    for (const p of ['/admin', '/admin/', '/admin/collections/posts?sort=-created&filter=a%20%3D%201', '/admin/collections/new']) {
      const res = await fetch(t.url + p);
      assert.equal(res.status, 200, p);
      assert.match(res.headers.get('content-type')!, /^text\/html/);
      assert.equal(res.headers.get('cache-control'), 'no-cache');
      const csp = res.headers.get('content-security-policy')!;
      assert.match(csp, /script-src 'self'(;|$)/, 'scripts from this server only, nothing inline');
      assert.match(csp, /default-src 'none'/);
      assert.match(csp, /frame-ancestors 'none'/);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
      assert.match(await res.text(), /<div id="root">/);
    }
  });

  test('hashed assets: a year, immutable, brotli or gzip when accepted, the right type', async () => {
    const br = await fetch(t.url + entryScript, { headers: { 'accept-encoding': 'br' } });
    assert.equal(br.status, 200);
    assert.equal(br.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.match(br.headers.get('content-type')!, /javascript/);
    assert.equal(br.headers.get('content-encoding'), 'br');
    assert.match(br.headers.get('vary') ?? '', /accept-encoding/i);
    const plain = await fetch(t.url + entryScript, { headers: { 'accept-encoding': 'identity' } });
    assert.equal(plain.headers.get('content-encoding'), null);
    assert.equal((await plain.arrayBuffer()).byteLength, fs.statSync(path.join(ADMIN_DIST, entryScript.slice('/admin/'.length))).size);
    const etag = plain.headers.get('etag')!;
    // fetch() adds `cache-control: no-cache` to a conditional request unless told otherwise; a
    // browser revalidating sends max-age=0.
    const again = await fetch(t.url + entryScript, { headers: { 'if-none-match': etag, 'accept-encoding': 'identity', 'cache-control': 'max-age=0' } });
    assert.equal(again.status, 304);
  });

  test('a missing asset is a 404 problem, never the page; no way out of the assets folder', async () => {
    for (const p of ['/admin/assets/nope-12345678.js', '/admin/assets/..%2F..%2Fpackage.json', '/admin/assets/..%2Findex.html', '/admin/assets/.source-hash', '/admin/assets/']) {
      const res = await fetch(t.url + p);
      assert.equal(res.status, 404, p);
      assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/, p);
      assert.doesNotMatch(await res.text(), /<div id="root">|"version"/, p);
    }
  });
});

test('a server whose dashboard is not built answers /admin with 503 unavailable and says how to build it', async () => {
  const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'galley-admin-'));
  const app = Fastify();
  registerProblemHandlers(app);
  await app.register(adminRoutes, { dir: empty });
  try {
    const res = await app.inject({ method: 'GET', url: '/admin/collections' });
    assert.equal(res.statusCode, 503);
    assert.equal(res.json().code, 'unavailable');
    assert.match(res.json().detail, /npm run build -w packages\/admin/);
    assert.doesNotMatch(res.body, new RegExp(empty.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')), 'no server path in the body');
  } finally {
    await app.close();
    fs.rmSync(empty, { recursive: true, force: true });
  }
});
