// The Database port's transactions on each adapter: all or nothing, including the statement given
// to commitWith (on PostgreSQL it travels with COMMIT, and the first statement with BEGIN, so a
// failure in either must still roll everything back and leave the connection usable).

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { UniqueViolationError, type Database } from '../src/db/database.ts';
import { PostgresDatabase, toIso } from '../src/db/postgres.ts';
import { SqliteDatabase } from '../src/db/sqlite.ts';
import { createPostgresDatabase, describeEachDialect } from '../src/testing/databases.ts';

await describeEachDialect('database transactions', (dialect) => {
  let db: Database;
  let drop: (() => Promise<void>) | undefined;
  const p = (n: number) => (dialect === 'postgres' ? `$${n}` : '?');
  const insert = (id: string) => ({ sql: `INSERT INTO t (id) VALUES (${p(1)})`, params: [id] });
  const ids = async () => (await db.all<{ id: string }>('SELECT id FROM t ORDER BY id')).map((r) => r.id);

  before(async () => {
    if (dialect === 'postgres') {
      const pg = await createPostgresDatabase();
      drop = pg.drop;
      // One connection: every transaction below reuses the one before it.
      db = new PostgresDatabase({ connectionString: pg.url, max: 1 });
    } else {
      db = new SqliteDatabase({ filename: ':memory:' });
    }
    await db.exec('CREATE TABLE t (id TEXT PRIMARY KEY)');
  });
  after(async () => {
    await db?.close();
    await drop?.();
  });

  test('the body and the commitWith statement commit together, then afterCommit runs', async () => {
    const order: string[] = [];
    await db.transaction(async (tx) => {
      await tx.run(insert('a').sql, insert('a').params);
      tx.commitWith(() => (order.push('built'), insert('b')));
      tx.beforeCommit(async () => void order.push('before'));
      tx.afterCommit(() => void order.push('after'));
    });
    assert.deepEqual(await ids(), ['a', 'b']);
    assert.deepEqual(order, ['before', 'built', 'after']);
  });

  test('a failing commitWith statement rolls the body back, throws its error and skips afterCommit', async () => {
    let committed = false;
    await assert.rejects(
      db.transaction(async (tx) => {
        await tx.run(insert('c').sql, insert('c').params);
        tx.commitWith(() => insert('a'));
        tx.afterCommit(() => void (committed = true));
      }),
      UniqueViolationError,
    );
    assert.equal(committed, false);
    assert.deepEqual(await ids(), ['a', 'b']);
  });

  test('a failing first statement rolls back and the connection serves the next transaction', async () => {
    await assert.rejects(db.transaction((tx) => tx.run(insert('a').sql, insert('a').params)), UniqueViolationError);
    await assert.rejects(
      db.transaction(async (tx) => {
        await tx.run(insert('d').sql, insert('d').params);
        throw new Error('the body changed its mind');
      }),
      /changed its mind/,
    );
    assert.deepEqual(await ids(), ['a', 'b']);
    await db.transaction(async (tx) => void (await tx.run(insert('e').sql, insert('e').params)));
    assert.deepEqual(await ids(), ['a', 'b', 'e']);
  });

  test('a transaction with only a commitWith statement, or with nothing at all, commits', async () => {
    await db.transaction(async (tx) => tx.commitWith(() => insert('f')));
    assert.equal(await db.transaction(async () => 'nothing to do'), 'nothing to do');
    assert.deepEqual(await ids(), ['a', 'b', 'e', 'f']);
  });

  test('a second commitWith in one transaction is refused, and nothing is written', async () => {
    await assert.rejects(
      db.transaction(async (tx) => {
        await tx.run(insert('g').sql, insert('g').params);
        tx.commitWith(() => insert('h'));
        tx.commitWith(() => insert('i'));
      }),
      /at most one commitWith/,
    );
    assert.deepEqual(await ids(), ['a', 'b', 'e', 'f']);
  });

  test('deferred statements commit with the commitWith statement, or with the next statement', async () => {
    await db.transaction(async (tx) => {
      tx.runDeferred(insert('j').sql, insert('j').params);
      tx.commitWith(() => insert('k'));
    });
    await db.transaction(async (tx) => {
      tx.runDeferred(insert('l').sql, insert('l').params);
      assert.deepEqual((await tx.all<{ id: string }>(`SELECT id FROM t WHERE id = ${p(1)}`, ['l'])).map((r) => r.id), ['l']);
    });
    await db.transaction(async (tx) => tx.runDeferred(insert('m').sql, insert('m').params));
    assert.deepEqual(await ids(), ['a', 'b', 'e', 'f', 'j', 'k', 'l', 'm']);
  });

  test('a failing deferred statement throws its mapped error where it surfaces, and nothing is committed', async () => {
    const mapped = (err: unknown) => new Error(`mapped: ${(err as Error).name}`);
    let committed = false;
    await assert.rejects(
      db.transaction(async (tx) => {
        tx.runDeferred(insert('n').sql, insert('n').params);
        tx.runDeferred(insert('a').sql, insert('a').params, mapped);
        tx.commitWith(() => insert('o'));
        tx.afterCommit(() => void (committed = true));
      }),
      /mapped: UniqueViolationError/,
    );
    // Surfacing at the body's next statement (which the server refuses once the transaction failed).
    await assert.rejects(
      db.transaction(async (tx) => {
        tx.runDeferred(insert('a').sql, insert('a').params, mapped);
        await tx.run(insert('p').sql, insert('p').params);
      }),
      /mapped: UniqueViolationError/,
    );
    assert.equal(committed, false);
    assert.deepEqual(await ids(), ['a', 'b', 'e', 'f', 'j', 'k', 'l', 'm']);
    await db.transaction(async (tx) => void (await tx.run(insert('q').sql, insert('q').params)));
    assert.deepEqual(await ids(), ['a', 'b', 'e', 'f', 'j', 'k', 'l', 'm', 'q']);
  });

  if (dialect === 'postgres') {
    test('timestamps read back as what Date makes of the text PostgreSQL sends, whatever their fraction, zone or year', async () => {
      const given = ['2026-12-03T17:59:52Z', '2026-12-03T17:59:52.5Z', '2026-12-03T17:59:52.05Z', '2026-12-03T17:59:52.123Z',
        '2026-12-03 17:59:52.123456+00', '1999-12-31 23:59:59.9999995+00', '1970-01-01T00:00:00Z', '1000-01-01T00:00:00.001Z',
        '9999-12-31 23:59:59.999999+00', '0999-06-01T12:00:00Z', '0099-03-04T05:06:07Z', '2026-07-01 12:00:00+02'];
      const rows = await db.all<{ at: string; text: string }>(`SELECT v::timestamptz AS at, v::timestamptz::text AS text FROM unnest(${p(1)}::text[]) AS v`, [given]);
      assert.deepEqual(rows.map((r) => r.at), rows.map((r) => new Date(r.text).toISOString()));
      // Another session time zone (the text carries its offset) and a timestamp without one: Date reads them.
      for (const text of ['2026-12-03 18:59:52.23+01', '2026-12-03 12:29:52+05:30', '2026-12-03 17:59:52.23']) {
        assert.equal(toIso(text), new Date(text).toISOString(), text);
      }
    });
  }
});
