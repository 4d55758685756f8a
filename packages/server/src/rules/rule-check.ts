// Checks a rule expression when a collection is saved: it must parse and type-check against the
// collection's fields (compiled once for SQLite with an example caller; nothing is executed).

import { ExprError, parseExpression } from '@galley/expr';
import type { CollectionDef } from '../core/collection-model.ts';
import { SqlParams } from '../db/database.ts';
import { compileFilter } from './filter-compiler.ts';

export function checkRule(
  rule: string,
  collection: CollectionDef,
  resolveCollection: (name: string) => CollectionDef | undefined,
): { message: string; position: number } | undefined {
  try {
    compileFilter(parseExpression(rule), {
      collection,
      resolveCollection,
      dialect: 'sqlite',
      params: new SqlParams('sqlite'),
      alias: 'r',
      request: { auth: null, body: {}, now: new Date().toISOString() },
    });
    return undefined;
  } catch (err) {
    if (err instanceof ExprError) return { message: err.message, position: err.position };
    throw err;
  }
}
