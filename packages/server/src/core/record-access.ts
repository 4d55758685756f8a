// Applies a collection's rules (contract §4) to a caller: superusers pass everything, `null` lets only
// superusers through, `""` lets anyone through, and an expression becomes a SQL condition.

import { parseExpression, type Expr } from '@galley/expr';
import type { CollectionDef, RuleName } from './collection-model.ts';
import type { Caller } from './caller.ts';
import { compileFilter } from '../rules/filter-compiler.ts';
import type { RequestContext } from '../rules/request-context.ts';
import type { SqlParams } from '../db/database.ts';

const parsed = new Map<string, Expr>();
const MAX_CACHED_EXPRESSIONS = 1000;

/**
 * Parses an expression once: rules and the filters clients repeat (a list page's filter) are hot.
 * Parse errors are not cached; they throw ExprError every time.
 */
export function parseCached(text: string): Expr {
  let expr = parsed.get(text);
  if (!expr) {
    expr = parseExpression(text);
    if (parsed.size >= MAX_CACHED_EXPRESSIONS) parsed.clear();
    parsed.set(text, expr);
  }
  return expr;
}

export type Access = 'all' | 'none' | Expr;

export function ruleAccess(collection: CollectionDef, rule: RuleName, caller: Caller): Access {
  if (caller.superuser) return 'all';
  const text = collection.rules[rule];
  if (text === null || text === undefined) return 'none';
  if (text.trim() === '') return 'all';
  return parseCached(text);
}

export function requestContext(caller: Caller, body?: Record<string, unknown>): RequestContext {
  return { auth: caller.user, body, now: new Date().toISOString() };
}

/** The access as a SQL condition on `alias`, or undefined when everything is allowed. */
export function accessSql(
  access: Access,
  ctx: { collection: CollectionDef; resolveCollection(name: string): CollectionDef | undefined; params: SqlParams; alias: string; caller: Caller; body?: Record<string, unknown> },
): string | undefined {
  if (access === 'all') return undefined;
  // FALSE, not 1 = 0: no digit (no value of any kind) ever enters SQL text.
  if (access === 'none') return 'FALSE';
  const { collection, resolveCollection, params, alias } = ctx;
  // The request context (and its clock read) is built only when a rule actually needs it.
  return compileFilter(access, { collection, resolveCollection, params, alias, dialect: params.dialect, request: requestContext(ctx.caller, ctx.body) });
}
