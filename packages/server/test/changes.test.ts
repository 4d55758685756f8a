// The change log on every database: each record write appends one change in its own transaction
// (rolled-back writes none), batches number their changes consecutively, concurrent writers get
// gap-free numbers in commit order, and retention prunes by rows and by age. On PostgreSQL changes
// are numbered just after their commit: a write returns once its change is numbered, and changes
// left unnumbered by a writer that died are numbered by the next run.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ChangeLog, type Change } from '../src/core/changes.ts';
import { describeEachDialect } from '../src/testing/databases.ts';
import { createTestApp, webhookOutboxCaughtUp, type TestApp } from '../src/testing/test-app.ts';

const NOTES = {
  name: 'notes',
  fields: [
    { name: 'title', type: 'text', required: true, max: 50 },
    { name: 'n', type: 'number' },
  ],
  indexes: [{ fields: ['title'], unique: true }],
  rules: { list: '', view: '', create: '', update: '', delete: '' },
};

await describeEachDialect('change log', (dialect) => {
  let t: TestApp;
  let log: ChangeLog;
  const all = async (after = 0): Promise<Change[]> => (await log.read(after, 10_000)).changes;
  const headNow = () => log.head();

  before(async () => {
    t = await createTestApp(dialect);
    log = t.app.services.changes;
    assert.equal((await t.request('POST', '/api/v1/collections', { body: NOTES })).status, 201);
  });
  after(async () => t?.close());

  test('create, update and delete each append one change with the record', async () => {
    const start = await headNow();
    const created = await t.request('POST', '/api/v1/collections/notes/records', { body: { title: 'one', n: 1 } });
    assert.equal(created.status, 201);
    const id = created.body.id;
    assert.equal((await t.request('PATCH', `/api/v1/collections/notes/records/${id}`, { body: { n: 2 } })).status, 200);
    assert.equal((await t.request('DELETE', `/api/v1/collections/notes/records/${id}`)).status, 204);
    const changes = await all(start);
    assert.deepEqual(changes.map((c) => [c.seq, c.action, c.recordId, c.collection]), [
      [start + 1, 'create', id, 'notes'],
      [start + 2, 'update', id, 'notes'],
      [start + 3, 'delete', id, 'notes'],
    ]);
    assert.deepEqual(changes[0]!.record, created.body);
    assert.equal(changes[1]!.record!.n, 2);
    // A delete keeps the record as it was, so rules can still be checked against it.
    assert.equal(changes[2]!.record!.title, 'one');
    assert.ok(!Number.isNaN(Date.parse(changes[0]!.time)));
    assert.equal(await headNow(), start + 3);
  });

  test('a write that fails or is rolled back leaves no change', async () => {
    const start = await headNow();
    assert.equal((await t.request('POST', '/api/v1/collections/notes/records', { body: { title: 'dup' } })).status, 201);
    // Unique violation, validation failure, and a batch whose second operation fails.
    assert.equal((await t.request('POST', '/api/v1/collections/notes/records', { body: { title: 'dup' } })).status, 409);
    assert.equal((await t.request('POST', '/api/v1/collections/notes/records', { body: { n: 'x' } })).status, 400);
    const batch = await t.request('POST', '/api/v1/batch', {
      body: { operations: [{ action: 'create', collection: 'notes', body: { title: 'batched' } }, { action: 'create', collection: 'notes', body: { title: 'dup' } }] },
    });
    assert.equal(batch.status, 409);
    // An error thrown by the caller's own code after the write, inside the transaction.
    await assert.rejects(
      t.app.services.db.transaction(async (tx) => {
        await t.app.services.records.createIn(tx, { user: null, superuser: true }, 'notes', { title: 'thrown' });
        throw new Error('boom');
      }),
      /boom/,
    );
    const changes = await all(start);
    assert.deepEqual(changes.map((c) => c.record!.title), ['dup']);
    assert.equal(await headNow(), start + 1);
  });

  test('a new account appends a users create with the record the API shows a superuser, never its secrets', async () => {
    const start = await headNow();
    const register = (email: string) => t.request('POST', '/api/v1/auth/register', { body: { email, password: 'a long and unusual passphrase', name: 'Rae' }, token: null });
    const created = await register('rae@example.com');
    assert.equal(created.status, 201, created.text);
    assert.equal((await register('RAE@example.com')).status, 409, 'a taken address adds no change');
    const changes = await all(start);
    assert.deepEqual(changes.map((c) => [c.action, c.collection, c.recordId]), [['create', 'users', created.body.user.id]]);
    const shown = await t.request('GET', `/api/v1/collections/users/records/${created.body.user.id}`);
    assert.equal(shown.status, 200);
    // With the email, as for any users record: realtime hides it from all but the owner (visibleRecord).
    assert.deepEqual(changes[0]!.record, shown.body);
    assert.doesNotMatch(JSON.stringify(changes[0]), /password|argon2|"roles"|"verified"/);
  });

  test('a batch appends one change per operation with consecutive numbers', async () => {
    const start = await headNow();
    const batch = await t.request('POST', '/api/v1/batch', {
      body: {
        operations: [
          { action: 'create', collection: 'notes', id: 'batchnote000001', body: { title: 'b1', id: 'batchnote000001' } },
          { action: 'create', collection: 'notes', body: { title: 'b2' } },
          { action: 'update', collection: 'notes', id: 'batchnote000001', body: { n: 5 } },
          { action: 'delete', collection: 'notes', id: 'batchnote000001' },
        ],
      },
    });
    assert.equal(batch.status, 200, batch.text);
    const changes = await all(start);
    assert.deepEqual(changes.map((c) => [c.seq - start, c.action]), [[1, 'create'], [2, 'create'], [3, 'update'], [4, 'delete']]);
  });

  test('concurrent writers get gap-free numbers, and a reader never sees a later number before an earlier one', async () => {
    const start = await headNow();
    const writers = 40;
    let done = false;
    let position = start;
    const gaps: string[] = [];
    // A tailing reader racing the writers: every read must continue exactly where the last stopped.
    const reader = (async () => {
      while (!done || position < start + writers) {
        const { changes } = await log.read(position, 1000);
        for (const c of changes) {
          if (c.seq !== position + 1) gaps.push(`${position} → ${c.seq}`);
          position = c.seq;
        }
        await new Promise((r) => setImmediate(r));
      }
    })();
    const results = await Promise.all(
      Array.from({ length: writers }, (_, i) => t.request('POST', '/api/v1/collections/notes/records', { body: { title: `c${i}`, n: i } })),
    );
    done = true;
    await reader;
    assert.ok(results.every((r) => r.status === 201));
    assert.deepEqual(gaps, []);
    const changes = await all(start);
    assert.deepEqual(changes.map((c) => c.seq), Array.from({ length: writers }, (_, i) => start + i + 1));
    assert.deepEqual(new Set(changes.map((c) => c.recordId)), new Set(results.map((r) => r.body.id)));
  });

  test('a write resolves only once its change is numbered, and nothing stays pending', { skip: dialect === 'sqlite' && 'SQLite numbers inside the write' }, async () => {
    const start = await headNow();
    await Promise.all(Array.from({ length: 10 }, (_, i) => t.request('POST', '/api/v1/collections/notes/records', { body: { title: `p${i}` } })));
    assert.equal(await headNow(), start + 10);
    const pending = await t.app.services.db.get<{ n: number }>(`SELECT COUNT(*) AS n FROM "_changes_pending"`);
    assert.equal(Number(pending!.n), 0);
  });

  test('changes a writer committed but never numbered (it died) are numbered by the next run, in ticket order', { skip: dialect === 'sqlite' && 'SQLite numbers inside the write' }, async () => {
    const start = await headNow();
    const db = t.app.services.db;
    // As a writer leaves them when its process ends between its COMMIT and the numbering.
    for (const title of ['orphan 1', 'orphan 2']) {
      await db.run(`INSERT INTO "_changes_pending" ("collection", "record_id", "action", "record", "time") VALUES ('notes', $1, 'create', $2, $3)`, [
        title.replace(' ', ''), JSON.stringify({ id: title.replace(' ', ''), title }), new Date().toISOString(),
      ]);
    }
    assert.equal(await headNow(), start);
    // The change feed's poll runs exactly this.
    assert.equal(await log.numberCommitted(), start + 2);
    assert.deepEqual((await all(start)).map((c) => [c.seq, c.record!.title]), [[start + 1, 'orphan 1'], [start + 2, 'orphan 2']]);
    // A run with nothing pending changes nothing.
    assert.equal(await log.numberCommitted(), start + 2);
    assert.equal(await headNow(), start + 2);
  });

  test('several instances numbering at once: every change once, gap-free, numbered before its write resolves', { skip: dialect === 'sqlite' && 'SQLite numbers inside the write' }, async () => {
    await webhookOutboxCaughtUp(t);
    const start = await headNow();
    const db = t.app.services.db;
    // Each ChangeLog moves on its own, as the instances sharing a database do (none waits for another's run).
    const failures: unknown[] = [];
    const instances = Array.from({ length: 4 }, () => new ChangeLog(db, { hours: 24, rows: 1_000_000 }, (err) => failures.push(err)));
    const numberedAtReturn: boolean[] = [];
    await Promise.all(
      Array.from({ length: 80 }, async (_, i) => {
        const id = `multi${i}`;
        await db.transaction(async (tx) => {
          instances[i % instances.length]!.append(tx, 'notes', 'create', { id, title: id } as never);
        });
        numberedAtReturn.push(!!(await db.get(`SELECT 1 AS x FROM "_changes" WHERE "record_id" = $1`, [id])));
      }),
    );
    assert.deepEqual(failures, []);
    assert.deepEqual(numberedAtReturn.filter((numbered) => !numbered), []);
    const changes = await all(start);
    assert.deepEqual(changes.map((c) => c.seq), Array.from({ length: 80 }, (_, i) => start + i + 1));
    assert.deepEqual(new Set(changes.map((c) => c.recordId)), new Set(Array.from({ length: 80 }, (_, i) => `multi${i}`)));
    assert.equal(await headNow(), start + 80);
    assert.equal(Number((await db.get<{ n: number }>(`SELECT COUNT(*) AS n FROM "_changes_pending"`))!.n), 0);
  });

  test('retention prunes beyond the row budget and by age; a reader from before the cut is told', async () => {
    await webhookOutboxCaughtUp(t);
    const head = await headNow();
    const byRows = new ChangeLog(t.app.services.db, { hours: 24, rows: 3 });
    assert.equal(await byRows.prune(), head - 3);
    assert.deepEqual((await all(0)).map((c) => c.seq), [head - 2, head - 1, head]);
    assert.equal((await log.read(0, 10)).complete, false);
    assert.equal((await log.read(head - 3, 10)).complete, true);
    // Nothing more to prune by rows; by age, everything is older than a day from "tomorrow".
    assert.equal(await byRows.prune(), 0);
    assert.equal(await log.prune(Date.now() + 25 * 3_600_000), 3);
    assert.deepEqual(await all(0), []);
    assert.equal((await log.read(head - 1, 10)).complete, false);
    const next = await t.request('POST', '/api/v1/collections/notes/records', { body: { title: 'after prune' } });
    assert.equal(next.status, 201);
    // Numbering carries on from the head, never restarting after the log was emptied.
    assert.deepEqual((await log.read(head, 10)).changes.map((c) => c.seq), [head + 1]);
  });

  test('pruning by age keeps what a durable consumer has not read; the row budget does not wait for it', async () => {
    await webhookOutboxCaughtUp(t);
    const position = await headNow();
    await t.app.services.webhookOutbox.stop();
    try {
      for (const title of ['unread 1', 'unread 2']) assert.equal((await t.request('POST', '/api/v1/collections/notes/records', { body: { title } })).status, 201);
      const head = await headNow();
      assert.equal(await t.app.services.webhookOutbox.position(), position, 'the stopped outbox has not read them');
      const pruned = await log.prune(Date.now() + 25 * 3_600_000);
      assert.ok(pruned > 0);
      assert.deepEqual((await all(0)).map((c) => c.seq), [head - 1, head], 'everything older went; the unread two stayed');
      assert.equal((await log.read(position, 10)).complete, true);
      const byRows = new ChangeLog(t.app.services.db, { hours: 24, rows: 1 });
      assert.equal(await byRows.prune(), 1);
      assert.deepEqual((await all(0)).map((c) => c.seq), [head]);
    } finally {
      await t.app.services.webhookOutbox.start();
    }
  });
});
