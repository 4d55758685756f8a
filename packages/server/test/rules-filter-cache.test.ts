// The compiled-filter cache gives exactly what compiling afresh gives — SQL text and parameter
// values, at any placeholder offset — and never serves SQL compiled against an older definition.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseExpression } from '@galley/expr';
import type { CollectionDef } from '../src/core/collection-model.ts';
import { SqlParams, type Dialect } from '../src/db/database.ts';
import { compileFilter } from '../src/rules/filter-compiler.ts';
import { compileFilterCached } from '../src/rules/filter-cache.ts';
import type { RequestContext } from '../src/rules/request-context.ts';
import { NOW, POSTS, resolveCollection, USERS } from './rules-fixtures.ts';

const request: RequestContext = { auth: { id: 'u1' }, body: {}, now: NOW };

function both(text: string, dialect: Dialect, before: unknown[] = [], resolve = resolveCollection, collection: CollectionDef = POSTS) {
  const expr = parseExpression(text);
  const run = (cached: boolean) => {
    const params = new SqlParams(dialect);
    for (const v of before) params.add(v);
    const ctx = { collection, resolveCollection: resolve, dialect, params, alias: 'r' };
    const sql = cached ? compileFilterCached(expr, { ...ctx, request: () => request }) : compileFilter(expr, { ...ctx, request });
    return { sql, values: params.values };
  };
  return { fresh: run(false), first: run(true), again: run(true) };
}

for (const dialect of ['sqlite', 'postgres'] as const) {
  test(`${dialect}: a cached filter has the SQL and values of a fresh compile, at every offset`, () => {
    for (const text of ["status = 'published'", "views > 10 && (title ~ 'x' || author.name = 'ann')", "tags ?= 'a'", "author = @request.auth.id", 'created < @now']) {
      for (const before of [[], ['s'], ['s', 2, 'x']]) {
        const { fresh, first, again } = both(text, dialect, before);
        assert.deepEqual(first, fresh, text);
        assert.deepEqual(again, fresh, text);
      }
    }
  });

  test(`${dialect}: a changed related collection is compiled against its new definition`, () => {
    const text = "author.name = 'ann'";
    const expr = parseExpression(text);
    const compileWith = (users: CollectionDef) => {
      const params = new SqlParams(dialect);
      const resolve = (n: string) => (n === 'users' ? users : resolveCollection(n));
      return compileFilterCached(expr, { collection: POSTS, resolveCollection: resolve, dialect, params, alias: 'r', request: () => request });
    };
    const before = compileWith(USERS);
    // `name` becomes a number: the old SQL (a text comparison) no longer applies, and 'ann' is now a type error.
    const changed: CollectionDef = { ...USERS, fields: USERS.fields.map((f) => (f.name === 'name' ? { ...f, type: 'number' as const } : f)) };
    assert.throws(() => compileWith(changed), /number/);
    assert.equal(compileWith(USERS), before);
  });
}
