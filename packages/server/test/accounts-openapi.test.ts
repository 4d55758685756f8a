// The accounts endpoints and the OpenAPI document agree: every documented /auth (and /audit) path
// and method is a route the server answers, so the document never promises what does not exist.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { HTTPMethods } from 'fastify';
import { createTestApp, type TestApp } from '../src/testing/test-app.ts';

let t: TestApp;
before(async () => {
  t = await createTestApp('sqlite');
});
after(async () => t?.close());

test('every documented accounts operation is served', async () => {
  const doc = (await t.request('GET', '/api/v1/openapi.json')).body as { paths: Record<string, Record<string, unknown>> };
  const documented = Object.entries(doc.paths).filter(([path]) => /^\/api\/v1\/(auth|audit)(\/|$)/.test(path));
  assert.ok(documented.length >= 4);
  for (const [path, item] of documented) {
    for (const method of Object.keys(item).filter((m) => ['get', 'post', 'patch', 'put', 'delete'].includes(m))) {
      const url = path.replace(/\{(\w+)\}/g, ':$1');
      assert.ok(t.app.http.hasRoute({ method: method.toUpperCase() as HTTPMethods, url }), `${method.toUpperCase()} ${path} is documented but not served`);
    }
  }
});
