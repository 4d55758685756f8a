// The dashboard's endpoints (first run, rule tester and check, metrics summary) are in the OpenAPI
// document, and every method documented there is a route the server answers.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { HTTPMethods } from 'fastify';
import { createTestApp, type TestApp } from '../src/testing/test-app.ts';

const PATHS = ['/api/v1/setup', '/api/v1/auth/users', '/api/v1/auth/users/{id}/sessions', '/api/v1/collections/{name}/rules/test', '/api/v1/collections/{name}/rules/check', '/api/v1/metrics/summary'];

let t: TestApp;
before(async () => {
  t = await createTestApp('sqlite');
});
after(async () => t?.close());

test('documented and served', async () => {
  const doc = (await t.request('GET', '/api/v1/openapi.json')).body as { paths: Record<string, Record<string, unknown>> };
  for (const path of PATHS) {
    const item = doc.paths[path];
    assert.ok(item, `${path} is documented`);
    const methods = Object.keys(item).filter((m) => ['get', 'post', 'patch', 'put', 'delete'].includes(m));
    assert.ok(methods.length > 0, path);
    for (const method of methods) {
      assert.ok(t.app.http.hasRoute({ method: method.toUpperCase() as HTTPMethods, url: path.replace(/\{(\w+)\}/g, ':$1') }), `${method} ${path} is served`);
    }
  }
});
