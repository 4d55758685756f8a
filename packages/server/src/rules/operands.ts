// Shared by the SQL compiler and the in-memory evaluator, so both give the same answers: how an
// operand is resolved against the schema, the value kinds, and how request values are coerced.

import { ExprError, type Operand } from '@galley/expr';
import { findField, isMultiValue, type CollectionDef, type FieldDef } from '../core/collection-model.ts';
import type { RequestContext } from './request-context.ts';

/** The kinds values are compared as. */
export type ValueKind = 'text' | 'number' | 'boolean' | 'date' | 'json';

export function kindOf(field: FieldDef): ValueKind {
  switch (field.type) {
    case 'number':
    case 'boolean':
    case 'date':
    case 'json':
      return field.type;
    default:
      return 'text';
  }
}

export const MAX_HOPS = 3;

/** A field path resolved against the schema: the relation fields followed, then the final field. */
export interface FieldPath {
  hops: FieldDef[];
  /** Collections entered by each hop (same length as hops). */
  targets: CollectionDef[];
  field: FieldDef;
  /** True when any hop or the final field holds several values. */
  multi: boolean;
  kind: ValueKind;
}

export function resolveFieldPath(operand: Operand & { kind: 'field' }, root: CollectionDef, resolve: (name: string) => CollectionDef | undefined): FieldPath {
  let collection = root;
  const hops: FieldDef[] = [];
  const targets: CollectionDef[] = [];
  let multi = false;
  operand.path.forEach((name, i) => {
    const field = findField(collection, name);
    if (!field) throw new ExprError(`unknown field "${operand.path.slice(0, i + 1).join('.')}" at ${operand.start}`, operand.start);
    if (i === operand.path.length - 1) return;
    if (field.type === 'json') throw new ExprError(`json paths are not supported in filters yet ("${operand.path.join('.')}" at ${operand.start})`, operand.start);
    if (field.type !== 'relation') throw new ExprError(`"${name}" is not a relation, so "${operand.path.join('.')}" cannot follow it (at ${operand.start})`, operand.start);
    if (hops.length >= MAX_HOPS) throw new ExprError(`a path may follow at most ${MAX_HOPS} relations (at ${operand.start})`, operand.start);
    const target = resolve(field.collection!);
    if (!target) throw new ExprError(`the collection "${field.collection}" of "${name}" does not exist (at ${operand.start})`, operand.start);
    hops.push(field);
    targets.push(target);
    if (isMultiValue(field)) multi = true;
    collection = target;
  });
  const field = findField(collection, operand.path[operand.path.length - 1]!)!;
  // The hidden account columns of users are not fields: findField knows only declared ones.
  return { hops, targets, field, multi: multi || isMultiValue(field), kind: kindOf(field) };
}

/** The value of `@request.*` or `@now`: '' for an anonymous caller's auth fields, null for absent body fields. */
export function requestValue(operand: Operand & { kind: 'request' | 'now' }, request: RequestContext): unknown {
  if (operand.kind === 'now') return request.now;
  let value: unknown = operand.source === 'auth' ? request.auth : request.body;
  for (const key of operand.path) {
    if (value === null || typeof value !== 'object' || Array.isArray(value) || !Object.prototype.hasOwnProperty.call(value, key)) {
      value = undefined;
      break;
    }
    value = (value as Record<string, unknown>)[key];
  }
  if (value === undefined || (operand.source === 'auth' && value === null)) return operand.source === 'auth' ? '' : null;
  return value;
}

const DATE_LIKE = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

export function toIsoDate(value: string): string | undefined {
  if (!DATE_LIKE.test(value)) return undefined;
  const t = Date.parse(value.length === 10 ? `${value}T00:00:00Z` : value.replace(' ', 'T'));
  return Number.isNaN(t) ? undefined : new Date(t).toISOString();
}

/** Sentinel for a request value that cannot become the field's kind: such comparisons never match. */
export const UNCOERCIBLE = Symbol('uncoercible');

/**
 * Coerces a scalar value to the kind of the field it is compared with. `strict` (literals written in
 * the expression) reports a type error instead of returning UNCOERCIBLE.
 */
export function coerce(value: unknown, kind: ValueKind, strict: { at: number } | false): unknown {
  if (value === null || value === undefined) return null;
  const fail = (what: string) => {
    if (strict) throw new ExprError(`expected ${what} at ${strict.at}`, strict.at);
    return UNCOERCIBLE;
  };
  switch (kind) {
    case 'text':
      if (typeof value === 'string') return value.includes('\u0000') || !value.isWellFormed() ? fail('text without NUL characters') : value;
      if (!strict && (typeof value === 'number' || typeof value === 'boolean')) return String(value);
      return fail('a string');
    case 'number':
      if (typeof value === 'number' && Number.isFinite(value)) return value;
      if (!strict && typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
      return fail('a number');
    case 'boolean':
      if (typeof value === 'boolean') return value;
      if (!strict && (value === 'true' || value === 'false')) return value === 'true';
      return fail('true or false');
    case 'date': {
      const iso = typeof value === 'string' ? toIsoDate(value) : undefined;
      return iso ?? fail('a date like 2024-05-01 or 2024-05-01T10:00:00Z');
    }
    case 'json':
      return fail('null (json fields can only be compared with null)');
  }
}

/** Compares text by Unicode code point, as SQLite (BINARY) and PostgreSQL (C collation) do. */
export function compareText(a: string, b: string): number {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done || y.done) return x.done && y.done ? 0 : x.done ? -1 : 1;
    const d = x.value.codePointAt(0)! - y.value.codePointAt(0)!;
    if (d !== 0) return d;
  }
}
