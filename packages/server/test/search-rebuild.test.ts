// The full-text index rebuilt in the background when `search` changes, on every database: the
// collection update answers at once, writes during the build end up indexed exactly as in an index
// built from scratch (and, on SQLite, FTS5's own integrity check agrees), a restart resumes, a
// second change replaces the build, dropping the collection ends it, and (PostgreSQL) a leftover
// INVALID GIN index from a crashed attempt is made again, and two instances share a build.

import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { pino } from 'pino';
import { createApp } from '../src/app.ts';
import { loadConfig } from '../src/config/config.ts';
import { ftsTableName, ginIndexName } from '../src/db/search-ddl.ts';
import { describeEachDialect } from '../src/testing/databases.ts';
import { createTestApp, type TestApp } from '../src/testing/test-app.ts';

/** Rows per build step here: a few thousand rows make a build of many steps. */
const CHUNK = 100;
const ROWS = 2000;
const WORDS = ['apple', 'apricot', 'banana', 'cherry', 'damson', 'elder', 'fig', 'grape', 'hazel', 'kiwi', 'lemon', 'lime', 'mango', 'melon', 'olive', 'peach', 'pear', 'plum', 'quince', 'rowan'];
const word = (n: number) => WORDS[n % WORDS.length]!;
/** A word only row `i` holds, that no other row's word starts with (the last search word is a prefix). */
const token = (i: number) => `t${String(i).padStart(5, '0')}x`;

const FIELDS = [
  { name: 'key', type: 'text' },
  { name: 'title', type: 'text' },
  { name: 'body', type: 'text' },
];

interface Row {
  key: string;
  title: string;
  body: string;
}

function row(i: number): Row {
  return { key: `r${i}`, title: `${word(i)} ${word(i * 7 + 3)}`, body: `${word(i * 3 + 1)} ${word(i * 11 + 5)} ${token(i)}` };
}

await describeEachDialect('search rebuild', (dialect) => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp(dialect, { GALLEY_SEARCH_BUILD_CHUNK: String(CHUNK) });
  });
  after(async () => t?.close());

  const records = (name: string) => `/api/v1/collections/${name}/records`;

  async function insert(name: string, rows: Row[]): Promise<void> {
    for (let i = 0; i < rows.length; i += 100) {
      const operations = rows.slice(i, i + 100).map((body) => ({ action: 'create', collection: name, body }));
      const res = await t.request('POST', '/api/v1/batch', { body: { operations } });
      assert.equal(res.status, 200, res.text);
    }
  }

  async function createCollection(name: string, search: string[], rows: Row[]): Promise<void> {
    const res = await t.request('POST', '/api/v1/collections', { body: { name, fields: FIELDS, search, rules: { list: '', view: '' } } });
    assert.equal(res.status, 201, res.text);
    await insert(name, rows);
  }

  async function searchIndex(name: string): Promise<{ state: string; indexed?: number; total?: number }> {
    const res = await t.request('GET', `/api/v1/collections/${name}`);
    assert.equal(res.status, 200, res.text);
    return res.body.searchIndex;
  }

  async function untilReady(name: string): Promise<void> {
    const deadline = Date.now() + 30_000;
    while ((await searchIndex(name)).state !== 'ready') {
      if (Date.now() > deadline) throw new Error(`the search index of ${name} was not ready in time: ${JSON.stringify(await searchIndex(name))}`);
      await sleep(20);
    }
  }

  /** The keys of every record a search finds, page after page. */
  async function found(name: string, query: string): Promise<string[]> {
    const keys: string[] = [];
    let cursor = '';
    for (;;) {
      const res = await t.request('GET', `${records(name)}?search=${encodeURIComponent(query)}&limit=200&fields=key${cursor ? `&cursor=${cursor}` : ''}`);
      assert.equal(res.status, 200, res.text);
      keys.push(...res.body.items.map((r: { key: string }) => r.key));
      if (!res.body.nextCursor) return keys.sort();
      cursor = res.body.nextCursor;
    }
  }

  async function allRows(name: string): Promise<Row[]> {
    const rows: Row[] = [];
    let cursor = '';
    for (;;) {
      const res = await t.request('GET', `${records(name)}?limit=200&fields=key,title,body${cursor ? `&cursor=${cursor}` : ''}`);
      assert.equal(res.status, 200, res.text);
      rows.push(...res.body.items);
      if (!res.body.nextCursor) return rows;
      cursor = res.body.nextCursor;
    }
  }

  async function buildJobs(): Promise<number> {
    const row = await t.app.services.db.get<{ n: number }>(`SELECT COUNT(*) AS "n" FROM "_jobs" WHERE "kind" = 'search.build'`);
    return Number(row?.n);
  }

  /**
   * The index of `name` is whole and exact: the database's own check passes, and every query finds
   * the same records as in a collection holding the same rows whose index was built from scratch.
   */
  async function assertIndexedLikeFresh(name: string, search: string[], queries: string[]): Promise<void> {
    const db = t.app.services.db;
    if (dialect === 'sqlite') {
      // rank = 1: also compare the index with the content table (a missing or extra row fails it).
      const fts = `"${ftsTableName(name)}"`;
      await db.exec(`INSERT INTO ${fts} (${fts}, rank) VALUES ('integrity-check', 1)`);
    } else {
      assert.equal(Number((await db.get<{ n: number }>(`SELECT COUNT(*) AS "n" FROM "${name}" WHERE "_search" IS NULL`))?.n), 0, 'every row has its document');
      const index = await db.get<{ valid: boolean; method: string }>(
        `SELECT i."indisvalid" AS "valid", am."amname" AS "method" FROM pg_index i JOIN pg_class c ON c.oid = i."indexrelid" JOIN pg_am am ON am.oid = c."relam"
         WHERE i."indexrelid" = to_regclass($1)`,
        [`"${ginIndexName(name)}"`],
      );
      assert.deepEqual(index, { valid: true, method: 'gin' });
    }
    const fresh = `${name}_fresh`;
    await createCollection(fresh, search, await allRows(name));
    for (const query of queries) assert.deepEqual(await found(name, query), await found(fresh, query), `search=${query}`);
    assert.equal((await t.request('DELETE', `/api/v1/collections/${fresh}`)).status, 204);
    assert.equal(await buildJobs(), 0, 'no build job is left');
    assert.deepEqual((await t.app.services.jobs.dead()).filter((j) => j.kind === 'search.build'), [], 'no build job failed');
  }

  const QUERIES = ['apple', 'cherry', 'kiwi mango', 'pea', 'zebra', 'zebra apple', token(3), token(ROWS - 3), token(ROWS + 5), token(1), token(ROWS - 1)];

  test('changing search answers at once; writes during the build end up indexed as from scratch', async () => {
    const rows = Array.from({ length: ROWS }, (_, i) => row(i));
    await createCollection('articles', ['title'], rows);
    assert.deepEqual(await searchIndex('articles'), { state: 'ready' }, 'a new collection is indexed as it fills');
    await t.app.services.jobs.stop();

    const patched = await t.request('PATCH', '/api/v1/collections/articles', { body: { search: ['body', 'title'] } });
    assert.equal(patched.status, 200, patched.text);
    // The migration indexed the first chunk itself; the rest waits for the (held) worker.
    assert.deepEqual(patched.body.searchIndex, { state: 'building', indexed: CHUNK, total: ROWS });
    assert.deepEqual(await searchIndex('articles'), { state: 'building', indexed: CHUNK, total: ROWS });
    const listed = await t.request('GET', '/api/v1/collections');
    assert.deepEqual(listed.body.items.find((c: { name: string }) => c.name === 'articles').searchIndex.state, 'building');
    assert.equal(listed.body.items.find((c: { name: string }) => c.name === 'users').searchIndex, undefined, 'no search fields: no index state');

    // Searches answer meanwhile, from what is indexed so far: the first chunk's rows and no others
    // (every row's token starts with "t0").
    const indexed = new Set((await found('articles', 't0')).map((key) => Number(key.slice(1))));
    assert.equal(indexed.size, CHUNK);
    const missing = [...Array(ROWS).keys()].filter((i) => !indexed.has(i));
    const some = (list: number[], from: number) => list.slice(from, from + 3);

    // Writes to rows already indexed and to rows not yet indexed, while the build waits.
    const ids = new Map((await allRowsWithIds('articles')).map((r) => [r.key, r.id]));
    const update = async (i: number, body: Partial<Row>) => {
      const res = await t.request('PATCH', `${records('articles')}/${ids.get(`r${i}`)}`, { body });
      assert.equal(res.status, 200, res.text);
    };
    for (const i of [...some([...indexed], 0), ...some(missing, 0)]) await update(i, { body: `zebra ${word(i)} ${token(i)}` });
    for (const i of [...some([...indexed], 3), ...some(missing, 3)]) await update(i, { title: `zebra ${token(i)}` });
    for (const i of [...some([...indexed], 6), ...some(missing, 6)]) await update(i, { key: `r${i}` });
    for (const i of [...some([...indexed], 9), ...some(missing, 9), 1, ROWS - 1]) {
      assert.equal((await t.request('DELETE', `${records('articles')}/${ids.get(`r${i}`)}`)).status, 204);
    }
    await insert('articles', Array.from({ length: 10 }, (_, k) => ({ ...row(ROWS + k), title: `zebra ${word(k)}` })));
    assert.equal((await searchIndex('articles')).state, 'building', 'the writes happened during the build');

    // A definition read back (with its read-only searchIndex) is accepted as a change, and changes nothing in the index.
    const roundTrip = await t.request('PATCH', '/api/v1/collections/articles', { body: (await t.request('GET', '/api/v1/collections/articles')).body });
    assert.equal(roundTrip.status, 200, roundTrip.text);
    assert.equal(roundTrip.body.searchIndex.state, 'building');

    await t.app.services.jobs.start();
    await untilReady('articles');
    await assertIndexedLikeFresh('articles', ['body', 'title'], QUERIES);
  });

  test('a restart mid-build resumes from the progress kept in the database', async () => {
    await createCollection('notes', [], Array.from({ length: ROWS }, (_, i) => row(i)));
    await t.app.services.jobs.stop();
    const patched = await t.request('PATCH', '/api/v1/collections/notes', { body: { search: ['title', 'body'] } });
    assert.equal(patched.status, 200, patched.text);
    assert.equal(patched.body.searchIndex.state, 'building');
    await t.restart();
    await untilReady('notes');
    await assertIndexedLikeFresh('notes', ['title', 'body'], QUERIES);
  });

  test('a second change mid-build replaces the build; the first one stops', async () => {
    await createCollection('pages', ['title'], Array.from({ length: ROWS }, (_, i) => row(i)));
    await t.app.services.jobs.stop();
    assert.equal((await t.request('PATCH', '/api/v1/collections/pages', { body: { search: ['body'] } })).status, 200);
    assert.equal(await buildJobs(), 1);
    const second = await t.request('PATCH', '/api/v1/collections/pages', { body: { search: ['title', 'body'] } });
    assert.equal(second.status, 200, second.text);
    assert.deepEqual(second.body.searchIndex, { state: 'building', indexed: CHUNK, total: ROWS }, 'the second build starts over');
    assert.equal(await buildJobs(), 2, "the first build's job is still queued");
    await t.app.services.jobs.start();
    await untilReady('pages');
    await assertIndexedLikeFresh('pages', ['title', 'body'], QUERIES);
  });

  test('dropping the collection mid-build: its job finds nothing and ends', async () => {
    await createCollection('drafts', ['title'], Array.from({ length: ROWS }, (_, i) => row(i)));
    await t.app.services.jobs.stop();
    assert.equal((await t.request('PATCH', '/api/v1/collections/drafts', { body: { search: ['body'] } })).status, 200);
    assert.equal((await t.request('DELETE', '/api/v1/collections/drafts')).status, 204);
    await t.app.services.jobs.start();
    for (let i = 0; i < 500 && (await buildJobs()) > 0; i++) await sleep(10);
    assert.equal(await buildJobs(), 0);
    assert.deepEqual((await t.app.services.jobs.dead()).filter((j) => j.kind === 'search.build'), []);
    // The name is free again, with an index of its own.
    await createCollection('drafts', ['body'], [row(1)]);
    assert.deepEqual(await found('drafts', token(1)), ['r1']);
  });

  if (dialect === 'postgres') {
    test('an INVALID GIN index left by a crashed attempt is dropped and made again', async () => {
      await createCollection('crashed', ['title'], Array.from({ length: ROWS }, (_, i) => row(i)));
      await t.app.services.jobs.stop();
      assert.equal((await t.request('PATCH', '/api/v1/collections/crashed', { body: { search: ['body'] } })).status, 200);
      // A CREATE INDEX CONCURRENTLY that fails (here: a unique index over equal values) leaves its index behind, INVALID.
      const db = t.app.services.db;
      await assert.rejects(db.exec(`CREATE UNIQUE INDEX CONCURRENTLY "${ginIndexName('crashed')}" ON "crashed" ((1))`));
      const left = await db.get<{ valid: boolean }>(`SELECT "indisvalid" AS "valid" FROM pg_index WHERE "indexrelid" = to_regclass($1)`, [`"${ginIndexName('crashed')}"`]);
      assert.deepEqual(left, { valid: false });
      await t.app.services.jobs.start();
      await untilReady('crashed');
      await assertIndexedLikeFresh('crashed', ['body'], QUERIES);
    });
  }

  if (dialect === 'postgres') {
    test('two instances on one database: the build completes once, with writes through the other instance indexed', async () => {
      await createCollection('shared', ['title'], Array.from({ length: ROWS }, (_, i) => row(i)));
      const env = { DATABASE_URL: t.app.config.databaseUrl!, GALLEY_SEARCH_BUILD_CHUNK: String(CHUNK) };
      const b = await createApp(loadConfig(env, ['--port', '0', '--dir', t.app.config.dataDir]), { logger: pino({ level: 'silent' }) });
      try {
        const bUrl = (await b.listen()).replace('[::1]', '127.0.0.1');
        const onB = (method: string, path: string, body: unknown) =>
          fetch(bUrl + path, { method, headers: { authorization: `Bearer ${t.adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
        const patched = await t.request('PATCH', '/api/v1/collections/shared', { body: { search: ['body', 'title'] } });
        assert.equal(patched.status, 200, patched.text);
        // Both workers take steps as they come; records are written through the other instance meanwhile.
        for (let k = 0; k < 20; k++) {
          const res = await onB('POST', records('shared'), { ...row(ROWS + k), title: `zebra ${word(k)}` });
          assert.equal(res.status, 201, await res.text());
        }
        await untilReady('shared');
        await assertIndexedLikeFresh('shared', ['body', 'title'], QUERIES);
      } finally {
        await b.close();
      }
    });
  }

  async function allRowsWithIds(name: string): Promise<Array<{ id: string; key: string }>> {
    const rows: Array<{ id: string; key: string }> = [];
    let cursor = '';
    for (;;) {
      const res = await t.request('GET', `${records(name)}?limit=200&fields=id,key${cursor ? `&cursor=${cursor}` : ''}`);
      assert.equal(res.status, 200, res.text);
      rows.push(...res.body.items);
      if (!res.body.nextCursor) return rows;
      cursor = res.body.nextCursor;
    }
  }
});
