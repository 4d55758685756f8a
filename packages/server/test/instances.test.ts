// Two instances on one PostgreSQL database: a collection created, changed or deleted through one is
// served accordingly by the other (definitions are announced with NOTIFY and reloaded on LISTEN), and
// a resumable upload may move between them.

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

test('a resumable upload started on one instance continues on another, and its file serves from both', { skip: dialects.includes('postgres') ? false : skipReason }, async () => {
  const a: TestApp = await createTestApp('postgres');
  let b: App | undefined;
  try {
    b = await createApp(loadConfig({ DATABASE_URL: a.app.config.databaseUrl! }, ['--port', '0', '--dir', a.app.config.dataDir]), { logger: pino({ level: 'silent' }) });
    const bUrl = (await b.listen()).replace('[::1]', '127.0.0.1');
    const created = await a.request('POST', '/api/v1/collections', { body: { name: 'papers', fields: [{ name: 'file', type: 'file' }], rules: { view: '', create: "@request.auth.id != ''" } } });
    assert.equal(created.status, 201, created.text);
    const tusHeaders = { 'tus-resumable': '1.0.0', authorization: `Bearer ${a.adminToken}` };
    const data = Buffer.from('a plain text file, sent in two halves to two instances\n'.repeat(2000));
    const half = Math.floor(data.length / 2);

    const start = await fetch(`${a.url}/api/v1/uploads`, { method: 'POST', headers: { ...tusHeaders, 'upload-length': String(data.length), 'upload-metadata': `filename ${Buffer.from('notes.txt').toString('base64')}` } });
    assert.equal(start.status, 201, await start.text());
    const location = start.headers.get('location')!;
    const patch = (base: string, offset: number, bytes: Buffer) =>
      fetch(base + location, { method: 'PATCH', headers: { ...tusHeaders, 'upload-offset': String(offset), 'content-type': 'application/offset+octet-stream' }, body: bytes });
    assert.equal((await patch(a.url, 0, data.subarray(0, half))).status, 204);

    const onB = await fetch(bUrl + location, { method: 'HEAD', headers: tusHeaders });
    assert.equal(onB.headers.get('upload-offset'), String(half), 'the other instance knows how far the upload got');
    assert.equal((await patch(bUrl, 0, data.subarray(0, half))).status, 409, 'a stale offset is refused there too');
    assert.equal((await patch(bUrl, half, data.subarray(half))).status, 204);

    const attached = await fetch(`${bUrl}/api/v1/collections/papers/records`, {
      method: 'POST',
      headers: { authorization: `Bearer ${a.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ file: { upload: location.split('/').pop() } }),
    });
    assert.equal(attached.status, 201, await attached.clone().text());
    const record = (await attached.json()) as { id: string; file: string };
    const served = await fetch(`${a.url}/api/v1/files/papers/${record.id}/${record.file}`);
    assert.equal(served.status, 200);
    assert.ok(Buffer.from(await served.arrayBuffer()).equals(data), 'the whole file, in order');
  } finally {
    await b?.close();
    await a.close();
  }
});
