// Shared by the SQL compiler and the in-memory evaluator, so both give the same answers: how a field
// path resolves against the schema, the kinds values compare as, and how values become those kinds.

import { ExprError, type FieldRef, type NowRef, type RequestRef } from '@galley/expr';
import { findField, isMultiValue, type CollectionDef, type FieldDef } from '../core/collection-model.ts';
import type { RequestContext } from './request-context.ts';
import { toIsoDate } from '../core/dates.ts';

/** The kinds values are compared as. `json` values compare by JSON type and value. */
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

export interface RelationHop {
  field: FieldDef;
  target: CollectionDef;
}

/** A field path resolved against the schema: relations followed, the final field, keys inside a json field. */
export interface FieldPath {
  hops: RelationHop[];
  field: FieldDef;
  /** `meta.a.b` on a json field `meta` → ["a", "b"]; empty for the whole value. */
  jsonKeys: string[];
  /** True when a hop or the final field holds several values: the operand is then a set. */
  multi: boolean;
  kind: ValueKind;
}

export interface SchemaContext {
  collection: CollectionDef;
  resolveCollection(name: string): CollectionDef | undefined;
}

export function resolveFieldPath(operand: FieldRef, schema: SchemaContext): FieldPath {
  const at = operand.start;
  const text = operand.path.join('.');
  let collection = schema.collection;
  const hops: RelationHop[] = [];
  for (let i = 0; i < operand.path.length; i++) {
    const name = operand.path[i]!;
    // findField knows declared fields and id/created/updated only, so hidden account columns stay unreachable.
    const field = findField(collection, name);
    if (!field) throw new ExprError(`unknown field "${operand.path.slice(0, i + 1).join('.')}" at ${at}`, at);
    const rest = operand.path.slice(i + 1);
    if (rest.length === 0 || field.type === 'json') {
      const multi = hops.some((h) => isMultiValue(h.field)) || isMultiValue(field);
      return { hops, field, jsonKeys: rest, multi, kind: kindOf(field) };
    }
    if (field.type !== 'relation') throw new ExprError(`"${name}" is not a relation or json field, so "${text}" cannot go through it (at ${at})`, at);
    if (hops.length >= MAX_HOPS) throw new ExprError(`"${text}" follows more than ${MAX_HOPS} relations (at ${at})`, at);
    const target = field.collection === undefined ? undefined : schema.resolveCollection(field.collection);
    if (!target) throw new ExprError(`the collection "${field.collection}" of "${name}" does not exist (at ${at})`, at);
    hops.push({ field, target });
    collection = target;
  }
  throw new ExprError(`empty field path at ${at}`, at); // unreachable: the parser never yields one
}

/** `@request.*` and `@now`: '' for a missing or null auth field (and when anonymous), null for a missing body field. */
export function requestValue(operand: RequestRef | NowRef, request: RequestContext): unknown {
  if (operand.kind === 'now') return request.now;
  let value: unknown = operand.source === 'auth' ? request.auth : request.body;
  for (const key of operand.path) {
    // Own properties only: `@request.body.__proto__` must not reach Object.prototype.
    if (value === null || typeof value !== 'object' || Array.isArray(value) || !Object.hasOwn(value, key)) {
      value = undefined;
      break;
    }
    value = (value as Record<string, unknown>)[key];
  }
  if (operand.source === 'auth') return value === undefined || value === null ? '' : value;
  return value === undefined ? null : value;
}


/** Marks a request value that cannot become the kind it is compared as: that comparison never matches. */
export const UNCOERCIBLE = Symbol('uncoercible');
export type Scalar = string | number | boolean;
export type Coerced = Scalar | null | typeof UNCOERCIBLE;

const DECIMAL = /^\s*-?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$/;
/** Text a database can hold: well-formed UTF-16, no NUL (stored values never have either). */
const storableText = (s: string) => s.isWellFormed() && !s.includes('\u0000');

/**
 * A scalar value as `kind`. Literals written in the expression (`strict`) must already be of the
 * kind, or they are a type error at their position; request values are converted where that is
 * unambiguous ("10" → 10 for a number, 10 → "10" for text) and otherwise become UNCOERCIBLE.
 * Without a kind (no field on either side) values stay as they are, except objects.
 */
export function coerce(value: unknown, kind: ValueKind | undefined, strict: { at: number } | false): Coerced {
  if (value === null || value === undefined) return null;
  const fail = (what: string): Coerced => {
    if (strict) throw new ExprError(`expected ${what} at ${strict.at}`, strict.at);
    return UNCOERCIBLE;
  };
  const isScalar = typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
  switch (kind) {
    case undefined:
      return isScalar ? value : UNCOERCIBLE;
    case 'text':
      if (typeof value === 'string') return storableText(value) ? value : UNCOERCIBLE;
      if (!strict && (typeof value === 'number' || typeof value === 'boolean')) return String(value);
      return fail('a string');
    case 'number':
      if (typeof value === 'number') return value;
      if (!strict && typeof value === 'string' && DECIMAL.test(value)) return Number.isFinite(Number(value)) ? Number(value) : UNCOERCIBLE;
      return fail('a number');
    case 'boolean':
      if (typeof value === 'boolean') return value;
      if (!strict && (value === 'true' || value === 'false')) return value === 'true';
      return fail('true or false');
    case 'date':
      return (typeof value === 'string' ? toIsoDate(value) : undefined) ?? fail('a date like 2024-05-01 or 2024-05-01T10:00:00Z');
    case 'json':
      if (typeof value === 'string') return storableText(value) ? value : UNCOERCIBLE;
      return isScalar ? value : fail('a string, number, boolean or null');
  }
}

/** Compares text by Unicode code point, as SQLite (BINARY) and PostgreSQL (COLLATE "C") do. */
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

/** The case folding of `~`: what the SQLite adapter's galley_casefold does, and (for all but a few letters) PostgreSQL's lower(). */
export const casefold = (s: string) => s.toLowerCase();
