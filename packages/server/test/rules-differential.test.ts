// Differential test of the expression semantics: random seeded filters run as SQL on a real SQLite,
// as SQL on a real PostgreSQL, and in memory over the same random records; all three must agree.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, test } from 'node:test';
import type BetterSqlite3 from 'better-sqlite3';
import { SqliteDriver as Database } from '../src/db/sqlite.ts';
import pg from 'pg';
import { parseExpression } from '@galley/expr';
import type { CollectionDef } from '../src/core/collection-model.ts';
import { columnType, decodeValue, encodeValue, timestampColumnType } from '../src/db/column-types.ts';
import { quoteIdent as q, SqlParams, type Dialect } from '../src/db/database.ts';
import { evaluateFilter, prepareTrace } from '../src/rules/evaluator.ts';
import { compileFilter } from '../src/rules/filter-compiler.ts';
import type { RequestContext } from '../src/rules/request-context.ts';
import { POSTGRES_ADMIN_URL, postgresReachable } from '../src/testing/databases.ts';
import { COLLECTIONS, generateData, NOW, generateFilter, generateRequest, POSTS, Random, resolveCollection, type ApiRecord } from './rules-fixtures.ts';

const SEED = Number(process.env.GALLEY_FUZZ_SEED ?? 20_241_122);
const FILTERS = 2_500;
const SYSTEM = ['id', 'created', 'updated'];

const data = generateData(new Random(SEED));
const recordsOf = (c: CollectionDef) => (c.name === 'users' ? data.users : data.posts);
const usersById = new Map(data.users.map((u) => [u.id as string, u]));

interface Case {
  text: string;
  request: RequestContext;
}
const cases: Case[] = (() => {
  const rng = new Random(SEED + 1);
  return Array.from({ length: FILTERS }, () => ({ text: generateFilter(rng), request: generateRequest(rng) }));
})();

/**
 * `textCollation`: PostgreSQL databases often default to a linguistic collation (en_US.UTF-8, ICU);
 * text columns created with one prove that ordering still goes by code point.
 */
function createTableSql(c: CollectionDef, dialect: Dialect, textCollation?: string): string {
  const ts = timestampColumnType(dialect);
  const collate = (type: string) => (textCollation && type === 'TEXT' ? `${type} COLLATE ${q(textCollation)}` : type);
  const columns = [
    `"id" ${collate('TEXT')} PRIMARY KEY`, `"created" ${ts} NOT NULL`, `"updated" ${ts} NOT NULL`,
    ...c.fields.map((f) => `${q(f.name)} ${collate(columnType(f, dialect))}`),
  ];
  return `CREATE TABLE ${q(c.name)} (${columns.join(', ')})`;
}

function insertRows(c: CollectionDef, dialect: Dialect): { sql: string; rows: unknown[][] } {
  const names = [...SYSTEM, ...c.fields.map((f) => f.name)];
  const params = new SqlParams(dialect);
  const placeholders = names.map(() => params.add(null));
  const rows = recordsOf(c).map((r) => [r.id, r.created, r.updated, ...c.fields.map((f) => encodeValue(f, r[f.name], dialect))]);
  return { sql: `INSERT INTO ${q(c.name)} (${names.map(q).join(', ')}) VALUES (${placeholders.join(', ')})`, rows };
}

/** Rows read back through decodeValue must equal the records, or a mismatch could be the fixture's fault. */
function decodeRow(c: CollectionDef, row: Record<string, unknown>, dialect: Dialect): ApiRecord {
  const out: ApiRecord = { id: row.id, created: decodeValue({ name: 'created', type: 'date' }, row.created, dialect), updated: decodeValue({ name: 'updated', type: 'date' }, row.updated, dialect) };
  for (const f of c.fields) out[f.name] = decodeValue(f, row[f.name], dialect);
  return out;
}

interface Engine {
  dialect: Dialect;
  ids(sql: string, values: unknown[]): Promise<string[]>;
  rows(table: string): Promise<Record<string, unknown>[]>;
}

let sqlite: BetterSqlite3.Database;
let pgClient: pg.Client | undefined;
let pgSchema: string | undefined;
let pgUnavailable: string | undefined;
let pgTextCollation: string | undefined;

before(async () => {
  sqlite = new Database(':memory:');
  sqlite.function('galley_casefold', { deterministic: true }, (x: unknown) => (x == null ? null : String(x).toLowerCase()));
  for (const c of COLLECTIONS) {
    sqlite.exec(createTableSql(c, 'sqlite'));
    const { sql, rows } = insertRows(c, 'sqlite');
    const insert = sqlite.prepare(sql);
    for (const row of rows) insert.run(...row);
  }

  if (!(await postgresReachable())) {
    pgUnavailable = `PostgreSQL not reachable at ${POSTGRES_ADMIN_URL.replace(/\/\/[^@]*@/, '//')}`;
    return;
  }
  pgClient = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await pgClient.connect();
  pgSchema = `rules_diff_${crypto.randomBytes(5).toString('hex')}`;
  await pgClient.query(`CREATE SCHEMA ${q(pgSchema)}`);
  await pgClient.query(`SET search_path TO ${q(pgSchema)}`);
  const icu = await pgClient.query(`SELECT 1 FROM pg_collation WHERE collname = 'und-x-icu'`);
  pgTextCollation = icu.rowCount ? 'und-x-icu' : undefined;
  for (const c of COLLECTIONS) {
    await pgClient.query(createTableSql(c, 'postgres', pgTextCollation));
    const { sql, rows } = insertRows(c, 'postgres');
    for (const row of rows) await pgClient.query(sql, row);
  }
});

after(async () => {
  sqlite?.close();
  if (pgClient) {
    if (pgSchema) await pgClient.query(`DROP SCHEMA ${q(pgSchema)} CASCADE`);
    await pgClient.end();
  }
});

/** By code point, whatever the database's collation. */
const sortIds = (ids: string[]) => ids.sort((a, b) => (a < b ? -1 : 1));

const sqliteEngine = (): Engine => ({
  dialect: 'sqlite',
  ids: async (sql, values) => sortIds((sqlite.prepare(sql).all(...values) as { id: string }[]).map((r) => r.id)),
  rows: async (table) => sqlite.prepare(`SELECT * FROM ${q(table)}`).all() as Record<string, unknown>[],
});

const postgresEngine = (client: pg.Client): Engine => ({
  dialect: 'postgres',
  ids: async (sql, values) => sortIds((await client.query<{ id: string }>(sql, values)).rows.map((r) => r.id)),
  rows: async (table) => (await client.query(`SELECT * FROM ${q(table)}`)).rows,
});

function memoryIds(c: Case): string[] {
  const expr = parseExpression(c.text);
  const ctx = { collection: POSTS, resolveCollection, request: c.request, lookup: (name: string, id: string) => (name === 'users' ? usersById.get(id) : undefined) };
  // The rule tester's tracing mode must give the same verdict as the plain evaluator on every record.
  const trace = prepareTrace(expr, ctx, c.text);
  return data.posts.filter((p) => {
    const allowed = evaluateFilter(expr, p, ctx);
    assert.equal(trace(p).value, allowed, `the trace of ${c.text} on ${String(p.id)} agrees with the evaluator`);
    return allowed;
  }).map((p) => p.id as string);
}

async function databaseIds(engine: Engine, c: Case): Promise<{ sql: string; values: unknown[]; ids: string[] }> {
  const params = new SqlParams(engine.dialect);
  const fragment = compileFilter(parseExpression(c.text), { collection: POSTS, resolveCollection, dialect: engine.dialect, params, alias: 'r', request: c.request });
  const sql = `SELECT r."id" FROM "posts" r WHERE ${fragment}`;
  return { sql, values: params.values, ids: await engine.ids(sql, params.values) };
}

function describeMismatch(c: Case, index: number, sql: string, values: unknown[], got: string[], expected: string[]): string {
  const differing = [...new Set([...got, ...expected])].filter((id) => got.includes(id) !== expected.includes(id));
  const records = differing.slice(0, 3).map((id) => {
    const post = data.posts.find((p) => p.id === id)!;
    const related = [post.author, ...(post.editors as string[])].flatMap((u) => (typeof u === 'string' && usersById.has(u) ? [usersById.get(u)] : []));
    return `  ${JSON.stringify(post)}\n    related users: ${JSON.stringify(related)}`;
  });
  return [
    `filter #${index} (GALLEY_FUZZ_SEED=${SEED}): ${c.text}`,
    `request: ${JSON.stringify(c.request)}`,
    `sql: ${sql}`,
    `params: ${JSON.stringify(values)}`,
    `database only: ${JSON.stringify(got.filter((id) => !expected.includes(id)))}; memory only: ${JSON.stringify(expected.filter((id) => !got.includes(id)))}`,
    ...records,
  ].join('\n');
}

async function runDifferential(engine: Engine): Promise<number> {
  for (const c of COLLECTIONS) {
    const rows = (await engine.rows(c.name)).map((row) => decodeRow(c, row, engine.dialect)).sort((a, b) => (String(a.id) < String(b.id) ? -1 : 1));
    assert.deepEqual(rows, recordsOf(c), `${engine.dialect} holds the records as generated (${c.name})`);
  }
  const failures: string[] = [];
  let matchedSomething = 0;
  for (const [index, c] of cases.entries()) {
    const { sql, values, ids: got } = await databaseIds(engine, c);
    const expected = memoryIds(c);
    if (expected.length > 0 && expected.length < data.posts.length) matchedSomething++;
    if (JSON.stringify(got) !== JSON.stringify(expected)) failures.push(describeMismatch(c, index, sql, values, got, expected));
    if (failures.length >= 5) break;
  }
  assert.equal(failures.length, 0, `${failures.length} filters disagree between ${engine.dialect} and memory:\n\n${failures.join('\n\n')}`);
  return matchedSomething;
}

test(`random filters agree between SQLite and memory (${FILTERS} filters)`, async (t) => {
  t.diagnostic(`seed ${SEED} (set GALLEY_FUZZ_SEED to replay another)`);
  const selective = await runDifferential(sqliteEngine());
  // A generator whose filters all match everything or nothing would prove little.
  assert.ok(selective > FILTERS / 4, `only ${selective} filters select some but not all records`);
});

test(`random filters agree between PostgreSQL and memory (${FILTERS} filters)`, async (t) => {
  if (!pgClient) {
    if (process.env.CI === 'true') assert.fail(`${pgUnavailable} — CI=true requires PostgreSQL`);
    t.skip(`${pgUnavailable}: the PostgreSQL half of the differential test did not run`);
    return;
  }
  t.diagnostic(`seed ${SEED}, schema ${pgSchema}, text columns collated ${pgTextCollation ?? 'by the database default'}`);
  await runDifferential(postgresEngine(pgClient));
});

const anonymous: RequestContext = { auth: null, body: {}, now: NOW };
const hanna: RequestContext = { auth: { id: 'hu1', email: 'hanna@example.com', verified: true, roles: ['editor'], name: 'Hanna' }, body: {}, now: NOW };
const withBody = (body: Record<string, unknown>): RequestContext => ({ ...anonymous, body });

/** The documented semantics (filter-compiler.ts), on the hand-written records h1–h4 of rules-fixtures.ts. */
const SEMANTICS: [filter: string, expected: string[], request?: RequestContext][] = [
  ["title = 'müller'", []],
  ["title ~ 'müller'", ['h1']],
  ["title ~ 'éCo'", ['h2']],
  ["title ~ '%'", ['h4']],
  ["title !~ 'x'", ['h1', 'h2', 'h3', 'h4']],
  ['title = null', ['h3']],
  ['title != null', ['h1', 'h2', 'h4']],
  ["title > 'Z'", ['h2']],
  ["title < 'a'", ['h1', 'h4']],
  ['views > -3', ['h1', 'h2', 'h4']],
  ['views < 1', ['h2', 'h4']],
  ['!(views > 0)', ['h2', 'h3', 'h4']],
  ['published = false', ['h2']],
  ['published != true', ['h2', 'h3']],
  ["tags = 'a'", ['h1', 'h4']],
  ["tags ?= 'a'", ['h1', 'h4']],
  ["tags != 'a'", ['h2', 'h3']],
  ["tags ?!= 'a'", ['h1', 'h3']],
  ['tags = null', ['h2']],
  ['tags != null', ['h1', 'h3', 'h4']],
  ["tags ?~ 'AL'", ['h1']],
  ["published_at > '2024-05-01'", ['h1', 'h4']],
  ["published_at = '2024-05-01T12:00:00+02:00'", ['h1']],
  ["published_at = '2024-05-01 10:00'", ['h1']],
  ['published_at < @now', ['h1', 'h3']],
  ["author.name = 'Hanna'", ['h1']],
  ['author.name = null', ['h2', 'h3', 'h4']],
  ['author.mentor.karma = null', ['h1', 'h2', 'h3', 'h4']],
  ["author.mentor = 'hu2'", ['h1']],
  ["editors.name ?= 'Hanna'", ['h1']],
  ["editors.name != 'Hanna'", ['h2', 'h3', 'h4']],
  ['editors.name = null', ['h2', 'h3', 'h4']],
  ['meta.n = 5', ['h1']],
  ["meta.n = '5'", ['h4']],
  ["meta = '5'", ['h3']],
  ['meta.flag = true', ['h1']],
  ['meta.flag = 1', []],
  ['meta.nil = null', ['h1', 'h2', 'h3', 'h4']],
  ['meta.a != null', ['h1', 'h4']],
  ["meta.a ~ 'MÜL'", ['h1']],
  ["meta.nested.k = 'x'", ['h1']],
  ['views > @request.body.n', ['h1'], withBody({ n: '1' })],
  ['views > @request.body.n', [], withBody({ n: 'abc' })],
  ['views != @request.body.n', ['h1', 'h2', 'h3', 'h4'], withBody({ n: 'abc' })],
  ['views = @request.body.n', ['h3'], withBody({})],
  ["published = @request.body.b", ['h1', 'h4'], withBody({ b: 'true' })],
  ['tags ?= @request.body.list', ['h1', 'h3'], withBody({ list: ['sale', 'b'] })],
  ['tags != @request.body.list', ['h2', 'h4'], withBody({ list: ['sale', 'b'] })],
  ['status = @request.body.list', ['h1', 'h2'], withBody({ list: ['draft', 'published', null] })],
  ['author = @request.auth.id', []],
  ['author = @request.auth.id', ['h1'], hanna],
  ["@request.auth.id = ''", ['h1', 'h2', 'h3', 'h4']],
  ["@request.auth.roles ?= 'editor' && author != null", ['h1', 'h3', 'h4'], hanna],
  ['@request.auth.name = author.name', ['h1'], hanna],
];

test('the documented semantics hold on SQLite, PostgreSQL and memory', async (t) => {
  const engines = [sqliteEngine(), ...(pgClient ? [postgresEngine(pgClient)] : [])];
  if (!pgClient) t.diagnostic(`${pgUnavailable}: checked on SQLite and memory only`);
  for (const [text, expected, request = anonymous] of SEMANTICS) {
    const c = { text, request };
    const hand = (ids: string[]) => ids.filter((id) => id.startsWith('h'));
    assert.deepEqual(hand(memoryIds(c)), expected, `memory: ${text}`);
    for (const engine of engines) assert.deepEqual(hand((await databaseIds(engine, c)).ids), expected, `${engine.dialect}: ${text}`);
  }
});
