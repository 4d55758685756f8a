// Operations on every database: GET /metrics (who may read it, what it holds, gauges other modules
// register), slow statements logged with their plan and without their values, and search insights.

import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, test } from 'node:test';
import { pino } from 'pino';
import { Metrics } from '../src/core/metrics.ts';
import { PostgresDatabase } from '../src/db/postgres.ts';
import { SqliteDatabase } from '../src/db/sqlite.ts';
import { instrumentDatabase } from '../src/db/instrumented.ts';
import { createPostgresDatabase, describeEachDialect } from '../src/testing/databases.ts';
import { createTestApp, type TestApp } from '../src/testing/test-app.ts';

const METRICS_TOKEN = 'scrape-token-0123456789abcdef';

await describeEachDialect('operations', (dialect) => {
  let t: TestApp;
  let userToken: string;
  before(async () => {
    t = await createTestApp(dialect, { GALLEY_METRICS_TOKEN: METRICS_TOKEN });
    const res = await t.request('POST', '/api/v1/collections', {
      body: { name: 'books', fields: [{ name: 'title', type: 'text' }], search: ['title'], rules: { list: '', view: '' } },
    });
    assert.equal(res.status, 201, res.text);
    for (const title of ['The Rose Garden', 'Roses and Thorns', 'Tulips']) await t.request('POST', '/api/v1/collections/books/records', { body: { title } });
    await t.app.services.auth.createUser({ email: 'reader@example.com', password: 'a long enough password' });
    userToken = (await t.request('POST', '/api/v1/auth/login', { body: { email: 'reader@example.com', password: 'a long enough password' }, token: null })).body.token;
  });
  after(async () => t?.close());

  test('GET /metrics: superusers and the metrics token only', async () => {
    assert.equal((await t.request('GET', '/metrics', { token: null })).status, 401);
    assert.equal((await t.request('GET', '/metrics', { token: userToken })).status, 403);
    assert.equal((await t.request('GET', '/metrics', { token: 'not-the-metrics-token-at-all' })).status, 401);
    const scraped = await t.request('GET', '/metrics', { token: METRICS_TOKEN });
    assert.equal(scraped.status, 200);
    assert.match(scraped.headers.get('content-type') ?? '', /^text\/plain/);
    assert.equal((await t.request('GET', '/metrics')).status, 200);
  });

  test('per-route counts and latencies, database timings and registered gauges', async () => {
    await t.request('GET', '/api/v1/collections/books/records', { token: null });
    await t.request('GET', '/api/v1/collections/nope/records', { token: null });
    t.app.services.metrics.gauge('galley_test_queue_depth', 'A gauge registered by a module.', () => 7);
    const text = (await t.request('GET', '/metrics')).text;
    assert.match(text, /^galley_http_requests_total\{method="GET",route="\/api\/v1\/collections\/:name\/records",status="200"\} \d+/m);
    assert.match(text, /^galley_http_requests_total\{method="GET",route="\/api\/v1\/collections\/:name\/records",status="404"\} \d+/m);
    assert.match(text, /^galley_http_request_duration_seconds_bucket\{le="0\.005",method="GET",route="\/api\/v1\/collections\/:name\/records"\} \d+/m);
    assert.match(text, /^galley_db_query_duration_seconds_count\{kind="all"\} [1-9]\d*/m);
    assert.match(text, /^galley_read_cache_lookups_total\{result="(hit|miss)"\} \d+/m);
    assert.match(text, /^galley_test_queue_depth 7$/m);
    assert.match(text, /^galley_jobs_pending \d+$/m);
    assert.match(text, /^galley_realtime_connections 0$/m);
    assert.match(text, /^galley_job_failures_total \d+$/m);
    assert.doesNotMatch(text, /books\/records\/|nope/, 'routes are templates, never concrete URLs');
  });

  test('search insights: terms with their result counts, zero-result searches first to see', async () => {
    const search = (q: string) => t.request('GET', `/api/v1/collections/books/records?search=${encodeURIComponent(q)}`, { token: null });
    await search('roses');
    await search('Roses!');
    await search('orchids');
    await search('orchids');
    const first = await search('rose');
    await t.request('GET', `/api/v1/collections/books/records?search=rose&limit=1&cursor=${encodeURIComponent((await search('rose')).body.nextCursor ?? 'x')}`, { token: null });
    assert.equal(first.status, 200);

    const all = await t.request('GET', '/api/v1/search-insights?collection=books');
    assert.equal(all.status, 200, all.text);
    const byTerm = new Map(all.body.items.map((i: { term: string }) => [i.term, i]));
    assert.deepEqual({ ...(byTerm.get('roses') as object), lastSearched: undefined }, { collection: 'books', term: 'roses', searches: 2, zeroResults: 0, lastResults: 1, lastSearched: undefined });
    assert.equal((byTerm.get('rose') as { searches: number }).searches, 2, 'later pages are not counted as searches');
    const zero = await t.request('GET', '/api/v1/search-insights?zeroResults=true');
    assert.deepEqual(zero.body.items.map((i: { term: string; searches: number }) => [i.term, i.searches]), [['orchids', 2]]);

    assert.equal((await t.request('GET', '/api/v1/search-insights', { token: null })).status, 401);
    assert.equal((await t.request('GET', '/api/v1/search-insights', { token: userToken })).status, 403);
    for (const bad of ['limit=0', 'limit=501', 'limit=x', 'zeroResults=yes', 'other=1', 'limit=1&limit=2']) {
      const res = await t.request('GET', `/api/v1/search-insights?${bad}`);
      assert.equal(res.status, 400, bad);
      assert.equal(res.body.code, 'bad_request', bad);
    }
  });

  test('slow statements are logged with their plan, never with their values', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) }));
    const pgdb = dialect === 'postgres' ? await createPostgresDatabase() : undefined;
    const raw = pgdb ? new PostgresDatabase({ connectionString: pgdb.url, max: 2 }) : new SqliteDatabase({ filename: ':memory:' });
    const metrics = new Metrics();
    // Every statement counts as slow here.
    const db = instrumentDatabase(raw, { metrics, logger, slowQueryMs: Number.MIN_VALUE });
    try {
      await db.exec('CREATE TABLE t (id TEXT PRIMARY KEY, secret TEXT)');
      await db.transaction(async (tx) => {
        await tx.run(`INSERT INTO t (id, secret) VALUES (${db.dialect === 'postgres' ? '$1, $2' : '?, ?'})`, ['a', 'hunter2-value']);
      });
      await db.all(`SELECT * FROM t WHERE id = ${db.dialect === 'postgres' ? '$1' : '?'}`, ['a']);
      for (let i = 0; i < 50 && !lines.some((l) => l.includes('SELECT * FROM t')); i++) await new Promise((r) => setTimeout(r, 10));
      const select = lines.map((l) => JSON.parse(l)).find((l) => l.sql?.startsWith('SELECT * FROM t'));
      assert.ok(select, lines.join('\n'));
      assert.equal(select.msg, 'slow query');
      assert.match(select.plan, dialect === 'postgres' ? /Scan/ : /SEARCH|SCAN/);
      assert.ok(!lines.join('').includes('hunter2-value'), 'values are never logged');
      assert.match(await metrics.registry.metrics(), /^galley_db_slow_queries_total [1-9]/m);
    } finally {
      await db.close();
      await pgdb?.drop();
    }
  });
});
