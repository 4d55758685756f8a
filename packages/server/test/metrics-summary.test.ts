// GET /api/v1/metrics/summary: the dashboard's JSON digest of the same registry /metrics exposes
// (superusers only), on SQLite and PostgreSQL: totals, per-route counts and errors, latency
// estimates, and the gauges of other modules (job queue depth, realtime connections).

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { describeEachDialect } from '../src/testing/databases.ts';
import { createSignedInUser, createTestApp, type TestApp } from '../src/testing/test-app.ts';

await describeEachDialect('metrics summary', (dialect) => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp(dialect);
  });
  after(async () => t?.close());

  test('superusers only', async () => {
    assert.equal((await t.request('GET', '/api/v1/metrics/summary', { token: null })).status, 401);
    const user = await createSignedInUser(t, 'reader@example.com');
    const denied = await t.request('GET', '/api/v1/metrics/summary', { token: user.token });
    assert.equal(denied.status, 403);
    assert.equal(denied.body.code, 'forbidden');
  });

  test('counts answers per route template, with client and server errors, latency and gauges', async () => {
    const before = (await t.request('GET', '/api/v1/metrics/summary')).body;
    for (let i = 0; i < 3; i++) await t.request('GET', '/api/v1/collections/nope/records', { token: null });
    await t.request('GET', '/api/v1/health', { token: null });
    const res = await t.request('GET', '/api/v1/metrics/summary');
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    const s = res.body;
    assert.ok(Date.parse(s.at) > 0);
    assert.ok(s.requests.total >= before.requests.total + 4);
    assert.equal(s.requests.clientErrors - before.requests.clientErrors, 3, 'the three 404s (the summary reads are 200s)');
    const records = s.routes.find((r: { route: string }) => r.route === '/api/v1/collections/:name/records');
    assert.deepEqual([records.method, records.requests, records.clientErrors, records.serverErrors], ['GET', 3, 3, 0]);
    assert.equal(typeof records.p50Ms, 'number');
    assert.ok(records.p95Ms >= records.p50Ms);
    assert.equal(typeof s.gauges.galley_jobs_pending, 'number');
    assert.equal(s.gauges.galley_realtime_connections, 0);
    assert.equal(typeof s.counters.galley_job_failures_total, 'number');
    // The text exposition says the same.
    const text = (await t.request('GET', '/metrics')).text;
    assert.match(text, /galley_http_requests_total\{method="GET",route="\/api\/v1\/collections\/:name\/records",status="404"\} 3/);
  });
});
