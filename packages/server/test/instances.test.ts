// Two instances on one PostgreSQL database: a collection created, changed or deleted through one is
// served accordingly by the other (definitions are announced with NOTIFY and reloaded on LISTEN).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { createApp, type App } from '../src/app.ts';
import { loadConfig } from '../src/config/config.ts';
import { testDialects } from '../src/testing/databases.ts';
import { createTestApp, type TestApp } from '../src/testing/test-app.ts';

const { dialects, skipReason } = await testDialects();

async function eventually(check: () => Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('a second instance follows collection changes made through the first', { skip: dialects.includes('postgres') ? false : skipReason }, async () => {
  const a: TestApp = await createTestApp('postgres');
  let b: App | undefined;
  try {
    b = await createApp(loadConfig({ DATABASE_URL: a.app.config.databaseUrl! }, ['--port', '0', '--dir', a.app.config.dataDir]), { logger: pino({ level: 'silent' }) });
    const bUrl = (await b.listen()).replace('[::1]', '127.0.0.1');
    const onB = (path: string, init: RequestInit = {}) =>
      fetch(bUrl + path, { ...init, headers: { authorization: `Bearer ${a.adminToken}`, 'content-type': 'application/json', ...init.headers } });

    const created = await a.request('POST', '/api/v1/collections', { body: { name: 'shared', fields: [{ name: 'title', type: 'text' }], rules: { view: '', list: '' } } });
    assert.equal(created.status, 201);
    await eventually(async () => (await onB('/api/v1/collections/shared')).status === 200);
    const rec = await onB('/api/v1/collections/shared/records', { method: 'POST', body: JSON.stringify({ title: 'written on B' }) });
    assert.equal(rec.status, 201);
    const { id } = (await rec.json()) as { id: string };
    // Warm B's prepared statement for this table, then change the table through A.
    assert.equal((await onB(`/api/v1/collections/shared/records/${id}`)).status, 200);

    const renamed = await a.request('PATCH', '/api/v1/collections/shared', { body: { fields: [{ ...created.body.fields[0], name: 'headline' }] } });
    assert.equal(renamed.status, 200, renamed.text);
    await eventually(async () => {
      const res = await onB(`/api/v1/collections/shared/records/${id}`);
      return res.status === 200 && ((await res.json()) as { headline?: string }).headline === 'written on B';
    });

    assert.equal((await a.request('DELETE', '/api/v1/collections/shared')).status, 204);
    await eventually(async () => (await onB('/api/v1/collections/shared')).status === 404);
  } finally {
    await b?.close();
    await a.close();
  }
});
