// Sorting and keyset pagination for record lists: parses `sort`, encodes opaque cursors, and
// builds the "comes after this row" condition that makes page 10,000 as cheap as page 1.

import { ApiError } from './api-error.ts';
import { findField, isMultiValue, type CollectionDef, type FieldDef } from './collection-model.ts';
import { encodeValue } from '../db/column-types.ts';
import { quoteIdent as q, type SqlParams } from '../db/database.ts';

export interface SortKey {
  field: FieldDef;
  desc: boolean;
  /** System timestamps and ids are NOT NULL: no NULLS clause, so PostgreSQL can use plain indexes. */
  nullable: boolean;
}

const NOT_NULL = new Set(['id', 'created', 'updated']);
const MAX_SORT_KEYS = 8;

const parsedSorts = new WeakMap<CollectionDef, Map<string, SortKey[]>>();
const MAX_CACHED_SORTS = 100;

/** Parses `-created,title` into sort keys, always ending with `id` so the order is total. Cached per definition. */
export function parseSort(collection: CollectionDef, sort: string | undefined): SortKey[] {
  let cache = parsedSorts.get(collection);
  if (!cache) parsedSorts.set(collection, (cache = new Map()));
  const key = sort ?? '';
  let keys = cache.get(key);
  if (!keys) {
    keys = parseSortUncached(collection, sort);
    if (cache.size >= MAX_CACHED_SORTS) cache.clear();
    cache.set(key, keys);
  }
  return keys;
}

function parseSortUncached(collection: CollectionDef, sort: string | undefined): SortKey[] {
  const text = sort === undefined || sort.trim() === '' ? '-created' : sort;
  const keys: SortKey[] = [];
  let offset = 0;
  for (const part of text.split(',')) {
    const trimmed = part.trim();
    const desc = trimmed.startsWith('-');
    const name = trimmed.replace(/^[-+]/, '');
    const field = findField(collection, name);
    const position = offset + part.indexOf(name);
    offset += part.length + 1;
    if (!field) throw new ApiError('invalid_filter', `sort: unknown field "${name}" at ${position}`, undefined, { position });
    if (field.type === 'json' || isMultiValue(field)) {
      throw new ApiError('invalid_filter', `sort: "${name}" holds several values and cannot be sorted on (at ${position})`, undefined, { position });
    }
    if (keys.some((k) => k.field.name === name)) throw new ApiError('invalid_filter', `sort: "${name}" appears twice (at ${position})`, undefined, { position });
    keys.push({ field, desc, nullable: !NOT_NULL.has(name) });
  }
  if (keys.length > MAX_SORT_KEYS) throw new ApiError('invalid_filter', `sort: at most ${MAX_SORT_KEYS} fields`);
  if (!keys.some((k) => k.field.name === 'id')) {
    keys.push({ field: findField(collection, 'id')!, desc: keys[keys.length - 1]!.desc, nullable: false });
  }
  return keys;
}

export function sortSignature(keys: SortKey[]): string {
  return keys.map((k) => (k.desc ? '-' : '') + k.field.name).join(',');
}

export function orderBySql(keys: SortKey[], alias: string): string {
  return keys
    .map((k) => {
      const col = `${alias}.${q(k.field.name)}`;
      // Nulls sort as the smallest value on both databases (SQLite's default; PostgreSQL's is the opposite).
      const nulls = k.nullable ? (k.desc ? ' NULLS LAST' : ' NULLS FIRST') : '';
      return `${col} ${k.desc ? 'DESC' : 'ASC'}${nulls}`;
    })
    .join(', ');
}

export function encodeCursor(keys: SortKey[], record: Record<string, unknown>): string {
  return packCursor(sortSignature(keys), keys.map((k) => record[k.field.name] ?? null));
}

/** The one answer to any cursor that this list did not hand out. */
export const badCursor = () => new ApiError('bad_request', 'cursor is not valid for this list (it must come from a nextCursor of the same sort)');

/** A cursor: the order it belongs to and the values of the last row, as opaque base64url JSON. */
export function packCursor(signature: string, values: unknown[]): string {
  return Buffer.from(JSON.stringify([signature, values])).toString('base64url');
}

/** The values of a cursor made by `packCursor` for the same order; 400 bad_request for anything else. */
export function unpackCursor(signature: string, cursor: string, count: number): unknown[] {
  if (cursor.length > 4096 || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw badCursor();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw badCursor();
  }
  if (!Array.isArray(parsed) || parsed.length !== 2 || parsed[0] !== signature) throw badCursor();
  const values = parsed[1];
  if (!Array.isArray(values) || values.length !== count) throw badCursor();
  return values;
}

export function decodeCursor(keys: SortKey[], cursor: string): unknown[] {
  const values = unpackCursor(sortSignature(keys), cursor, keys.length);
  keys.forEach((k, i) => {
    const v = values[i];
    const expected = k.field.type === 'number' ? 'number' : k.field.type === 'boolean' ? 'boolean' : 'string';
    if (v === null ? !k.nullable : typeof v !== expected) throw badCursor();
  });
  return values;
}

/** The condition "this row comes after the cursor row" in the given order. */
export function keysetSql(keys: SortKey[], values: unknown[], alias: string, params: SqlParams): string {
  const col = (k: SortKey) => `${alias}.${q(k.field.name)}`;
  const param = (k: SortKey, v: unknown) => params.add(encodeValue(k.field, v, params.dialect));
  // The common case — every key NOT NULL and one direction — as a row-value comparison, which both
  // databases turn into a single index range scan.
  if (keys.every((k) => !k.nullable && k.desc === keys[0]!.desc)) {
    const cols = keys.map(col).join(', ');
    const ph = keys.map((k, i) => param(k, values[i])).join(', ');
    return `(${cols}) ${keys[0]!.desc ? '<' : '>'} (${ph})`;
  }
  const equal = (k: SortKey, v: unknown) => (v === null ? `${col(k)} IS NULL` : `${col(k)} = ${param(k, v)}`);
  const after = (k: SortKey, v: unknown) => {
    if (!k.nullable) return `${col(k)} ${k.desc ? '<' : '>'} ${param(k, v)}`;
    if (!k.desc) return v === null ? `${col(k)} IS NOT NULL` : `${col(k)} > ${param(k, v)}`;
    return v === null ? '1 = 0' : `(${col(k)} < ${param(k, v)} OR ${col(k)} IS NULL)`;
  };
  const alternatives = keys.map((k, i) => {
    const prefix = keys.slice(0, i).map((p, j) => equal(p, values[j]));
    return `(${[...prefix, after(k, values[i])].join(' AND ')})`;
  });
  return `(${alternatives.join(' OR ')})`;
}
