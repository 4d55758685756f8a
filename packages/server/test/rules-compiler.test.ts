// The filter compiler's output: the SQL of every operator in both dialects, type errors and their
// positions, and a fuzz property that no literal value ever reaches SQL text.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SqliteDriver as Database } from '../src/db/sqlite.ts';
import { ExprError, parseExpression, type Expr, type Operand } from '@galley/expr';
import type { CollectionDef } from '../src/core/collection-model.ts';
import { columnType, timestampColumnType } from '../src/db/column-types.ts';
import { quoteIdent as q, SqlParams, type Dialect } from '../src/db/database.ts';
import { evaluateFilter } from '../src/rules/evaluator.ts';
import { compileFilter } from '../src/rules/filter-compiler.ts';
import { toIsoDate } from '../src/core/dates.ts';
import type { RequestContext } from '../src/rules/request-context.ts';
import { COLLECTIONS, generateFilter, generateRequest, NOW, POSTS, Random, resolveCollection } from './rules-fixtures.ts';

const anonymous: RequestContext = { auth: null, body: {}, now: NOW };

function compile(text: string, dialect: Dialect, request: RequestContext = anonymous, collection: CollectionDef = POSTS) {
  const params = new SqlParams(dialect);
  const sql = compileFilter(parseExpression(text), { collection, resolveCollection: (n) => (n === 'broken' ? BROKEN : resolveCollection(n)), dialect, params, alias: 'r', request });
  return { sql, params: params.values };
}

/** [filter, SQLite SQL, PostgreSQL SQL, params (the same in both unless given per dialect)]. */
const OPERATORS: [string, string, string, unknown[] | { sqlite: unknown[]; postgres: unknown[] }][] = [
  ["title = 'x'", '(r."title" = ? AND r."title" IS NOT NULL)', '(r."title" = $1 AND r."title" IS NOT NULL)', ['x']],
  ["title != 'x'", 'NOT ((r."title" = ? AND r."title" IS NOT NULL))', 'NOT ((r."title" = $1 AND r."title" IS NOT NULL))', ['x']],
  ["title > 'x'", '(r."title" > ? AND r."title" IS NOT NULL)', '(r."title" COLLATE "C" > $1 AND r."title" IS NOT NULL)', ['x']],
  ["title >= 'x'", '(r."title" >= ? AND r."title" IS NOT NULL)', '(r."title" COLLATE "C" >= $1 AND r."title" IS NOT NULL)', ['x']],
  ["'x' < title", '(? < r."title" AND r."title" IS NOT NULL)', '($1 < r."title" COLLATE "C" AND r."title" IS NOT NULL)', ['x']],
  ["title <= 'x'", '(r."title" <= ? AND r."title" IS NOT NULL)', '(r."title" COLLATE "C" <= $1 AND r."title" IS NOT NULL)', ['x']],
  ["title ~ '50%'", '(instr(galley_casefold(r."title"), galley_casefold(?)) > 0 AND r."title" IS NOT NULL)', '(strpos(lower(r."title"), lower($1)) > 0 AND r."title" IS NOT NULL)', ['50%']],
  ["title !~ 'x'", 'NOT ((instr(galley_casefold(r."title"), galley_casefold(?)) > 0 AND r."title" IS NOT NULL))', 'NOT ((strpos(lower(r."title"), lower($1)) > 0 AND r."title" IS NOT NULL))', ['x']],
  ["title ?= 'x'", '(r."title" = ? AND r."title" IS NOT NULL)', '(r."title" = $1 AND r."title" IS NOT NULL)', ['x']],
  ['title = null', 'r."title" IS NULL', 'r."title" IS NULL', []],
  ['null != title', 'NOT (r."title" IS NULL)', 'NOT (r."title" IS NULL)', []],
  ['title > null', 'FALSE', 'FALSE', []],
  ["id = 'p1'", '(r."id" = ?)', '(r."id" = $1)', ['p1']],
  ['views >= -2.5', '(r."views" >= ? AND r."views" IS NOT NULL)', '(r."views" >= $1 AND r."views" IS NOT NULL)', [-2.5]],
  ['published = true', '(r."published" = ? AND r."published" IS NOT NULL)', '(r."published" = $1 AND r."published" IS NOT NULL)', { sqlite: [1], postgres: [true] }],
  ["published_at < '2024-05-01 12:00+02:00'", '(r."published_at" < ? AND r."published_at" IS NOT NULL)', '(r."published_at" < $1 AND r."published_at" IS NOT NULL)', ['2024-05-01T10:00:00.000Z']],
  ['created > @now', '(r."created" > ?)', '(r."created" > $1)', [NOW]],
  ['title = status', '(r."title" IS r."status")', '(r."title" IS NOT DISTINCT FROM r."status")', []],
  [
    "tags ?= 'a'",
    'EXISTS (SELECT * FROM json_each(r."tags") AS r_a WHERE r_a.value IS NOT NULL AND (r_a.value = ?))',
    'EXISTS (SELECT * FROM jsonb_array_elements_text(r."tags") AS r_a(value) WHERE r_a.value IS NOT NULL AND (r_a.value = $1))',
    ['a'],
  ],
  [
    "tags != 'a'",
    'NOT (EXISTS (SELECT * FROM json_each(r."tags") AS r_a WHERE r_a.value IS NOT NULL AND (r_a.value = ?)))',
    'NOT (EXISTS (SELECT * FROM jsonb_array_elements_text(r."tags") AS r_a(value) WHERE r_a.value IS NOT NULL AND (r_a.value = $1)))',
    ['a'],
  ],
  [
    "tags ?!= 'a'",
    'EXISTS (SELECT * FROM json_each(r."tags") AS r_a WHERE r_a.value IS NOT NULL AND NOT ((r_a.value = ?)))',
    'EXISTS (SELECT * FROM jsonb_array_elements_text(r."tags") AS r_a(value) WHERE r_a.value IS NOT NULL AND NOT ((r_a.value = $1)))',
    ['a'],
  ],
  [
    'tags = null',
    'NOT EXISTS (SELECT * FROM json_each(r."tags") AS r_a WHERE r_a.value IS NOT NULL)',
    'NOT EXISTS (SELECT * FROM jsonb_array_elements_text(r."tags") AS r_a(value) WHERE r_a.value IS NOT NULL)',
    [],
  ],
  [
    "author.name = 'x'",
    'COALESCE((SELECT r_a."name" FROM "users" r_a WHERE r_a."id" = r."author") = ?, FALSE)',
    'COALESCE((SELECT r_a."name" FROM "users" r_a WHERE r_a."id" = r."author") = $1, FALSE)',
    ['x'],
  ],
  [
    "editors.mentor.name ?~ 'x'",
    'EXISTS (SELECT * FROM json_each(r."editors") AS r_b, "users" r_a, "users" r_c WHERE r_a."id" = r_b.value AND r_c."id" = r_a."mentor" AND r_c."name" IS NOT NULL AND (instr(galley_casefold(r_c."name"), galley_casefold(?)) > 0))',
    'EXISTS (SELECT * FROM jsonb_array_elements_text(r."editors") AS r_b(value), "users" r_a, "users" r_c WHERE r_a."id" = r_b.value AND r_c."id" = r_a."mentor" AND r_c."name" IS NOT NULL AND (strpos(lower(r_c."name"), lower($1)) > 0))',
    ['x'],
  ],
  [
    'meta.a.b = 5',
    'COALESCE(json_type(r."meta", ?) IN (?, ?) AND json_extract(r."meta", ?) = ?, FALSE)',
    'COALESCE((r."meta" #> CAST($1 AS TEXT[])) = CAST($2 AS JSONB), FALSE)',
    { sqlite: ['$.a.b', 'integer', 'real', '$.a.b', 5], postgres: [['a', 'b'], '5'] },
  ],
  [
    'meta.flag = true',
    'COALESCE(json_type(r."meta", ?) = ?, FALSE)',
    'COALESCE((r."meta" #> CAST($1 AS TEXT[])) = CAST($2 AS JSONB), FALSE)',
    { sqlite: ['$.flag', 'true'], postgres: [['flag'], 'true'] },
  ],
  ['meta.a = null', 'json_extract(r."meta", ?) IS NULL', '(r."meta" #>> CAST($1 AS TEXT[])) IS NULL', { sqlite: ['$.a'], postgres: [['a']] }],
  [
    "meta.a ~ 'x'",
    'COALESCE(json_type(r."meta", ?) = ? AND instr(galley_casefold(json_extract(r."meta", ?)), galley_casefold(?)) > 0, FALSE)',
    'COALESCE(jsonb_typeof(r."meta" #> CAST($1 AS TEXT[])) = $2 AND strpos(lower((r."meta" #>> CAST($3 AS TEXT[]))), lower($4)) > 0, FALSE)',
    { sqlite: ['$.a', 'text', '$.a', 'x'], postgres: [['a'], 'string', ['a'], 'x'] },
  ],
  ['meta.a ~ 5', 'FALSE', 'FALSE', []],
  ["@request.auth.id != ''", 'FALSE', 'FALSE', []],
  ["@now > '2024-01-01' && !false", '(TRUE AND NOT (FALSE))', '(TRUE AND NOT (FALSE))', []],
  [
    "title = 'a' || (views > 1 && !(status = 'b'))",
    '((r."title" = ? AND r."title" IS NOT NULL) OR ((r."views" > ? AND r."views" IS NOT NULL) AND NOT ((r."status" = ? AND r."status" IS NOT NULL))))',
    '((r."title" = $1 AND r."title" IS NOT NULL) OR ((r."views" > $2 AND r."views" IS NOT NULL) AND NOT ((r."status" = $3 AND r."status" IS NOT NULL))))',
    ['a', 1, 'b'],
  ],
];

describe('compiled SQL per operator', () => {
  for (const [filter, sqliteSql, postgresSql, params] of OPERATORS) {
    test(filter, () => {
      const expected = Array.isArray(params) ? { sqlite: params, postgres: params } : params;
      assert.deepEqual(compile(filter, 'sqlite'), { sql: sqliteSql, params: expected.sqlite });
      assert.deepEqual(compile(filter, 'postgres'), { sql: postgresSql, params: expected.postgres });
    });
  }
});

describe('request values become parameters of the field kind', () => {
  const body = (b: Record<string, unknown>): RequestContext => ({ ...anonymous, body: b });
  const cases: [string, Record<string, unknown>, string, unknown[]][] = [
    ['views = @request.body.v', { v: '10' }, '(r."views" = ? AND r."views" IS NOT NULL)', [10]],
    ['views = @request.body.v', { v: 'abc' }, 'FALSE', []],
    ['views != @request.body.v', { v: 'abc' }, 'TRUE', []],
    ['views = @request.body.v', {}, 'r."views" IS NULL', []],
    ['title = @request.body.v', { v: 10 }, '(r."title" = ? AND r."title" IS NOT NULL)', ['10']],
    ['title = @request.body.v', { v: { a: 1 } }, 'FALSE', []],
    ['title = @request.body.v', { v: 'nul\u0000' }, 'FALSE', []],
    ['published = @request.body.v', { v: 'true' }, '(r."published" = ? AND r."published" IS NOT NULL)', [1]],
    ['published_at = @request.body.v', { v: '2024-05-01' }, '(r."published_at" = ? AND r."published_at" IS NOT NULL)', ['2024-05-01T00:00:00.000Z']],
    ['status = @request.body.v', { v: ['a', null, 'b'] }, '((r."status" = ? AND r."status" IS NOT NULL) OR (r."status" = ? AND r."status" IS NOT NULL))', ['a', 'b']],
    ['status = @request.body.v', { v: [] }, 'FALSE', []],
    ['status = @request.body.__proto__', {}, 'r."status" IS NULL', []],
    ['title = @request.auth.name', {}, '(r."title" = ? AND r."title" IS NOT NULL)', ['']],
  ];
  for (const [filter, b, sql, params] of cases) {
    test(`${filter} with ${JSON.stringify(b)}`, () => assert.deepEqual(compile(filter, 'sqlite', body(b)), { sql, params }));
  }
  test('a request list longer than 100 values is an error at the request value', () => {
    const list = Array.from({ length: 101 }, (_, i) => `t${i}`);
    assert.throws(() => compile('tags ?= @request.body.list', 'sqlite', body({ list })), { name: 'ExprError', position: 8 });
  });
});

describe('date literals are strict and read as UTC unless an offset is written', () => {
  const cases: [string, string | undefined][] = [
    ['2024-05-01', '2024-05-01T00:00:00.000Z'],
    ['2024-05-01T10:00', '2024-05-01T10:00:00.000Z'],
    ['2024-05-01 10:00:30.5', '2024-05-01T10:00:30.500Z'],
    ['2024-05-01T10:00:00.123456789Z', '2024-05-01T10:00:00.123Z'],
    ['2024-05-01T10:00:00+02:00', '2024-05-01T08:00:00.000Z'],
    ['2024-05-01T01:00:00-0230', '2024-05-01T03:30:00.000Z'],
    ['2024-02-29', '2024-02-29T00:00:00.000Z'],
    ['9999-12-31T23:59:59.999Z', '9999-12-31T23:59:59.999Z'],
    ['2023-02-29', undefined],
    ['2024-04-31', undefined],
    ['2024-13-01', undefined],
    ['2024-05-01T24:00:00Z', undefined],
    ['2024-05-01T10:60', undefined],
    ['2024-05-01T10:00+24:00', undefined],
    ['0000-01-01', undefined],
    ['0001-01-01T00:00:00+01:00', undefined],
    ['9999-12-31T23:00:00-02:00', undefined],
    ['2024-5-1', undefined],
    ['20240501', undefined],
    ['yesterday', undefined],
  ];
  for (const [text, iso] of cases) test(text, () => assert.equal(toIsoDate(text), iso));
});

const BROKEN: CollectionDef = { name: 'broken', fields: [{ name: 'ref', type: 'relation', collection: 'nowhere' }], indexes: [], search: [], rules: {} };

describe('type errors point at the offending node', () => {
  const cases: [string, number, RegExp][] = [
    ['nope = 1', 0, /unknown field "nope" at 0/],
    ["views > 1 && author.nope = 'x'", 13, /unknown field "author.nope" at 13/],
    ['title = 5', 8, /expected a string at 8/],
    ["views = 'abc'", 8, /expected a number at 8/],
    ["published_at > 'soon'", 15, /expected a date .* at 15/],
    ["published_at > '2024-02-30'", 15, /expected a date/],
    ["published = 'true'", 12, /expected true or false at 12/],
    ['published > true', 10, /cannot be ordered with > \(at 10\)/],
    ['meta.a >= 1', 7, /json values cannot be ordered/],
    ['views ~ 1', 6, /~ needs text, not a number \(at 6\)/],
    ['published_at !~ @now', 13, /!~ needs text/],
    ['title = views', 6, /cannot compare text field with a number field \(at 6\)/],
    ['meta = meta.a', 5, /two json fields cannot be compared/],
    ['views > @now', 8, /@now is a date, but "views" is a number/],
    ["@now > 'soon'", 7, /expected a date/],
    ["title.x = 'a'", 0, /"title" is not a relation or json field/],
    ["author.mentor.mentor.mentor.name = 'x'", 0, /follows more than 3 relations/],
    ['meta = [1]', 7, /unexpected character "\[" at 7/],
  ];
  for (const [filter, position, message] of cases) {
    test(filter, () => {
      for (const dialect of ['sqlite', 'postgres'] as const) {
        assert.throws(() => compile(filter, dialect), (err: unknown) => err instanceof ExprError && err.position === position && message.test(err.message));
      }
      // The evaluator reports the same error (when the expression parses).
      const expr = tryParse(filter);
      if (expr) {
        const ctx = { collection: POSTS, resolveCollection, request: anonymous, lookup: () => undefined };
        assert.throws(() => evaluateFilter(expr, { id: 'p' }, ctx), (err: unknown) => err instanceof ExprError && err.position === position);
      }
    });
  }
  test('a relation to a collection that does not exist', () => {
    assert.throws(() => compile("ref.name = 'x'", 'sqlite', anonymous, BROKEN), { name: 'ExprError', position: 0, message: /"nowhere" of "ref" does not exist/ });
  });
  test('a select value outside `values` is no error: it matches nothing', () => {
    assert.deepEqual(compile("status = 'nope'", 'sqlite').params, ['nope']);
  });
});

function tryParse(text: string): Expr | undefined {
  try {
    return parseExpression(text);
  } catch {
    return undefined;
  }
}

// ---- The fuzz property: SQL text is made of identifiers, keywords, operators and placeholders only.

const WORDS = new Set([
  'SELECT', 'FROM', 'WHERE', 'AND', 'OR', 'NOT', 'EXISTS', 'IS', 'NULL', 'DISTINCT', 'TRUE', 'FALSE', 'COALESCE', 'CAST', 'AS', 'TEXT', 'JSONB', 'IN', 'COLLATE',
  'json_each', 'json_extract', 'json_type', 'instr', 'galley_casefold', 'jsonb_array_elements_text', 'jsonb_typeof', 'strpos', 'lower', 'value', 'r',
]);
const IDENTIFIERS = new Set(['"C"', '"id"', '"created"', '"updated"', ...COLLECTIONS.flatMap((c) => [q(c.name), ...c.fields.map((f) => q(f.name))])]);
const TOKEN = /\s+|"(?:[^"]|"")*"|\$[1-9][0-9]*|\?|[A-Za-z_]+|#>>|#>|<=|>=|<|>|=|\(|\)|,|\.|\[\]|\*|0/y;

/** Throws unless `sql` is whitelisted tokens only; returns its placeholders in order. */
function checkSqlText(sql: string): string[] {
  const placeholders: string[] = [];
  let previous = '';
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < sql.length) {
    const at = TOKEN.lastIndex;
    const match = TOKEN.exec(sql);
    if (!match) throw new Error(`unexpected SQL text at ${at}: ${JSON.stringify(sql.slice(at, at + 20))}`);
    const token = match[0];
    if (token.startsWith('"') && !IDENTIFIERS.has(token)) throw new Error(`unknown identifier ${token}`);
    if (/^[A-Za-z_]/.test(token) && !WORDS.has(token) && !/^r_[a-z]+$/.test(token)) throw new Error(`unexpected word ${token}`);
    // The one constant the compiler writes: `instr(…) > 0` / `strpos(…) > 0`.
    if (token === '0' && previous !== '>') throw new Error(`unexpected digit at ${at}`);
    if (token === '?' || token.startsWith('$')) placeholders.push(token);
    if (token.trim()) previous = token;
  }
  return placeholders;
}

/** The same expression with every literal's content changed (strings that are dates stay dates). */
function withOtherLiterals(expr: Expr): Expr {
  const operand = (o: Operand): Operand => {
    if (o.kind !== 'literal') return o;
    if (typeof o.value === 'number') return { ...o, value: o.value === 0 ? 987.5 : -o.value * 3 };
    if (typeof o.value === 'string') return { ...o, value: toIsoDate(o.value) ? '2001-02-03T04:05:06Z' : `AND "value" r ? $1 '; DROP TABLE x; --${o.value}` };
    return o;
  };
  switch (expr.kind) {
    case 'compare':
      return { ...expr, left: operand(expr.left), right: operand(expr.right) };
    case 'not':
      return { ...expr, expr: withOtherLiterals(expr.expr) };
    case 'and':
    case 'or':
      return { ...expr, left: withOtherLiterals(expr.left), right: withOtherLiterals(expr.right) };
    case 'constant':
      return expr;
  }
}

test('fuzz: 10,000 random valid filters compile to whitelisted SQL that runs, in both dialects', () => {
  const seed = Number(process.env.GALLEY_FUZZ_SEED ?? 7_654_321);
  const rng = new Random(seed);
  const db = new Database(':memory:');
  db.function('galley_casefold', { deterministic: true }, (x: unknown) => (x == null ? null : String(x).toLowerCase()));
  for (const c of COLLECTIONS) {
    const columns = [`"id" TEXT PRIMARY KEY`, ...['created', 'updated'].map((n) => `"${n}" ${timestampColumnType('sqlite')}`), ...c.fields.map((f) => `${q(f.name)} ${columnType(f, 'sqlite')}`)];
    db.exec(`CREATE TABLE ${q(c.name)} (${columns.join(', ')})`);
  }
  for (let i = 0; i < 10_000; i++) {
    const text = generateFilter(rng);
    const request = generateRequest(rng);
    const context = `filter #${i} (GALLEY_FUZZ_SEED=${seed}): ${text}`;
    const expr = parseExpression(text);
    for (const dialect of ['sqlite', 'postgres'] as const) {
      const params = new SqlParams(dialect);
      const ctx = { collection: POSTS, resolveCollection, dialect, params, alias: 'r', request };
      const sql = compileFilter(expr, ctx);
      const placeholders = checkSqlText(sql);
      assert.equal(placeholders.length, params.values.length, `${context}\n${sql}`);
      if (dialect === 'postgres') assert.deepEqual(placeholders, params.values.map((_, n) => `$${n + 1}`), context);
      // The SQL text depends on the expression's shape only, never on the literal values in it.
      // (Comparisons without a field fold to TRUE or FALSE, and may fold the other way.)
      const other = compileFilter(withOtherLiterals(expr), { ...ctx, params: new SqlParams(dialect) });
      const shape = (s: string) => s.replace(/\b(TRUE|FALSE)\b/g, 'CONSTANT');
      assert.equal(shape(other), shape(sql), `${context}\nliteral values changed the SQL text`);
      if (dialect === 'sqlite') db.prepare(`SELECT r."id" FROM "posts" r WHERE ${sql}`).all(...params.values);
    }
  }
  db.close();
});
