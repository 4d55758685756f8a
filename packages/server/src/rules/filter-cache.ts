// Compiled SQL of the filters clients repeat (a list page's `status = 'published'`), kept per parsed
// expression so a list does not plan and compile the same comparisons on every request.

import type { Expr, Operand } from '@galley/expr';
import type { CollectionDef } from '../core/collection-model.ts';
import type { SqlParams } from '../db/database.ts';
import { compileFilter, type CompileContext } from './filter-compiler.ts';

interface Fragment {
  /** The definitions it was compiled against: a changed one is a new object, so the entry no longer applies. */
  root: CollectionDef;
  resolved: Map<string, CollectionDef | undefined>;
  sql: string;
  values: unknown[];
}

/** Entries per expression (one per collection, dialect, alias and placeholder offset); a small bound. */
const MAX_VARIANTS = 8;
const fragments = new WeakMap<Expr, Map<string, Fragment>>();

const isRequestValue = (o: Operand) => o.kind === 'request' || o.kind === 'now';

/** Whether the compiled SQL depends on who asks or when (`@request.*`, `@now`): such filters are compiled every time. */
function usesRequest(expr: Expr): boolean {
  switch (expr.kind) {
    case 'constant':
      return false;
    case 'not':
      return usesRequest(expr.expr);
    case 'and':
    case 'or':
      return usesRequest(expr.left) || usesRequest(expr.right);
    case 'compare':
      return isRequestValue(expr.left) || isRequestValue(expr.right);
  }
}

function stillCurrent(fragment: Fragment, ctx: CachedCompileContext): boolean {
  if (fragment.root !== ctx.collection) return false;
  for (const [name, def] of fragment.resolved) if (ctx.resolveCollection(name) !== def) return false;
  return true;
}

/** A CompileContext whose request values are made only when a filter needs them (reading the clock is not free). */
export type CachedCompileContext = Omit<CompileContext, 'request'> & { request: () => CompileContext['request'] };

/**
 * `compileFilter`, with the result of a request-independent filter reused: the same SQL text, and
 * the same values added to `ctx.params`. Type errors are not kept; they throw every time.
 */
export function compileFilterCached(expr: Expr, ctx: CachedCompileContext): string {
  if (usesRequest(expr)) return compileFilter(expr, { ...ctx, request: ctx.request() });
  const params: SqlParams = ctx.params;
  // PostgreSQL placeholders are numbered: the fragment depends on how many values come before it.
  const key = `${ctx.collection.name}\n${ctx.dialect}\n${ctx.alias}\n${params.values.length}`;
  let byKey = fragments.get(expr);
  const hit = byKey?.get(key);
  if (hit && stillCurrent(hit, ctx)) {
    params.values.push(...hit.values);
    return hit.sql;
  }
  const resolved = new Map<string, CollectionDef | undefined>();
  const resolveCollection = (name: string) => {
    const def = ctx.resolveCollection(name);
    resolved.set(name, def);
    return def;
  };
  const offset = params.values.length;
  // No request value is read: an empty context stands in for one.
  const sql = compileFilter(expr, { ...ctx, resolveCollection, request: { auth: null, now: '' } });
  if (!byKey) fragments.set(expr, (byKey = new Map()));
  if (byKey.size >= MAX_VARIANTS) byKey.clear();
  byKey.set(key, { root: ctx.collection, resolved, sql, values: params.values.slice(offset) });
  return sql;
}
