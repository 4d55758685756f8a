// The webhook endpoints and the OpenAPI document agree: each of the eight operations is documented
// and served, and the document passes the standard validator with them (openapi.test.ts validates
// the whole document; here the webhook part is checked against the running routes).

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { HTTPMethods } from 'fastify';
import { createTestApp, type TestApp } from '../src/testing/test-app.ts';

let t: TestApp;
before(async () => {
  t = await createTestApp('sqlite');
});
after(async () => t?.close());

const OPERATIONS = [
  'GET /api/v1/webhooks',
  'POST /api/v1/webhooks',
  'GET /api/v1/webhooks/{id}',
  'PATCH /api/v1/webhooks/{id}',
  'DELETE /api/v1/webhooks/{id}',
  'POST /api/v1/webhooks/{id}/rotate-secret',
  'GET /api/v1/webhooks/{id}/deliveries',
  'POST /api/v1/webhooks/{id}/deliveries/{deliveryId}/redeliver',
];

test('every webhook operation is documented and served', async () => {
  const doc = (await t.request('GET', '/api/v1/openapi.json')).body as { paths: Record<string, Record<string, { tags?: string[]; security?: unknown[] }>> };
  const documented = Object.entries(doc.paths)
    .filter(([path]) => path.startsWith('/api/v1/webhooks'))
    .flatMap(([path, item]) => Object.keys(item).filter((m) => ['get', 'post', 'patch', 'put', 'delete'].includes(m)).map((m) => `${m.toUpperCase()} ${path}`));
  assert.deepEqual(documented.sort(), [...OPERATIONS].sort());
  for (const operation of OPERATIONS) {
    const [method, path] = operation.split(' ') as [string, string];
    assert.ok(t.app.http.hasRoute({ method: method as HTTPMethods, url: path.replace(/\{(\w+)\}/g, ':$1') }), `${operation} is documented but not served`);
    const op = doc.paths[path]![method.toLowerCase()]!;
    assert.deepEqual(op.tags, ['Webhooks']);
    assert.ok(op.security && op.security.length > 0, `${operation} says it needs credentials`);
  }
});
