// GET /api/v1/health: 200 while the database answers; 503 unavailable (with Retry-After) when it
// does not — shown on a real PostgreSQL whose connections are cut and refused; so is any request
// that needs the database meanwhile.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import pg from 'pg';
import { POSTGRES_ADMIN_URL, testDialects } from '../src/testing/databases.ts';
import { createTestApp } from '../src/testing/test-app.ts';

test('health is 200 on SQLite', async () => {
  const t = await createTestApp('sqlite');
  try {
    const res = await t.request('GET', '/api/v1/health', { token: null });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { status: 'ok' });
  } finally {
    await t.close();
  }
});

const { dialects, skipReason } = await testDialects();
test('health turns 503 when PostgreSQL stops answering, and 200 again when it is back', { skip: dialects.includes('postgres') ? false : skipReason }, async () => {
  const t = await createTestApp('postgres');
  const name = new URL(t.app.config.databaseUrl!).pathname.slice(1);
  const admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await admin.connect();
  try {
    assert.equal((await t.request('GET', '/api/v1/health', { token: null })).status, 200);
    await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`);
    await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [name]);
    const down = await t.request('GET', '/api/v1/health', { token: null });
    assert.equal(down.status, 503, down.text);
    assert.equal(down.body.code, 'unavailable');
    assert.ok(Number(down.headers.get('retry-after')) > 0);
    assert.doesNotMatch(down.text, /terminat|postgres|pg_|ECONN/i, 'no internals in the body');
    const read = await t.request('GET', '/api/v1/collections/users/records', { token: null });
    assert.equal(read.status, 503, `any request needing the database is 503 too: ${read.text}`);
    assert.equal(read.body.code, 'unavailable');
    assert.doesNotMatch(read.text, /terminat|postgres|pg_|ECONN/i);
    await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`);
    assert.equal((await t.request('GET', '/api/v1/health', { token: null })).status, 200);
  } finally {
    await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`).catch(() => {});
    await admin.end();
    await t.close();
  }
});
