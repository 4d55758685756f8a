// Reading and writing collection rows: the column list of a SELECT, and the translation between
// database rows and API records (per dialect), including what of a `users` row a caller may see.

import crypto from 'node:crypto';
import { isMultiValue, type CollectionDef, type FieldDef } from './collection-model.ts';
import type { Caller } from './caller.ts';
import { decodeTimestamp, decodeValue } from '../db/column-types.ts';
import { quoteIdent as q, type Dialect } from '../db/database.ts';

export type ApiRecord = Record<string, unknown> & { id: string; created: string; updated: string };

const columnLists = new WeakMap<CollectionDef, Map<string, string>>();

/**
 * `SELECT` columns for a collection under an alias (the users table adds its email). Memoised per
 * definition object: a changed collection is a new object, so the cache never goes stale.
 */
export function selectColumns(collection: CollectionDef, alias: string): string {
  let byAlias = columnLists.get(collection);
  if (!byAlias) columnLists.set(collection, (byAlias = new Map()));
  let list = byAlias.get(alias);
  if (list === undefined) {
    const names = ['id', 'created', 'updated', ...(collection.system ? ['email'] : []), ...collection.fields.map((f) => f.name)];
    list = names.map((n) => `${alias}.${q(n)}`).join(', ');
    byAlias.set(alias, list);
  }
  return list;
}

/** Whether a column's driver value already is its API value (no JSON to parse, no 0/1 to turn into a boolean). */
function passesThrough(field: FieldDef, dialect: Dialect): boolean {
  if (isMultiValue(field)) return false; // NULL must read as []
  // pg's type parsers already give API values: parsed jsonb, booleans, ISO timestamps.
  if (dialect === 'postgres') return true;
  return field.type !== 'json' && field.type !== 'boolean';
}

const toDecode = new WeakMap<CollectionDef, Partial<Record<Dialect, FieldDef[]>>>();

/** The fields whose driver values are not yet API values (SQLite's 0/1 booleans, JSON text …). */
function fieldsToDecode(collection: CollectionDef, dialect: Dialect): FieldDef[] {
  let byDialect = toDecode.get(collection);
  if (!byDialect) toDecode.set(collection, (byDialect = {}));
  return (byDialect[dialect] ??= collection.fields.filter((f) => !passesThrough(f, dialect)));
}

/**
 * A record from a row of exactly `SELECT ${selectColumns(collection)}` (nothing more: the row becomes
 * the record). Its columns come in the record's order (id, created, updated, [email], fields), so the
 * few values that need decoding are decoded in place: a new object per row would only add garbage.
 */
export function recordFromSelect(collection: CollectionDef, row: Record<string, unknown>, dialect: Dialect): ApiRecord {
  for (const field of fieldsToDecode(collection, dialect)) row[field.name] = decodeValue(field, row[field.name], dialect);
  return row as ApiRecord;
}

/** A record from any row holding the collection's columns (extra columns are left behind). */
export function rowToRecord(collection: CollectionDef, row: Record<string, unknown>, dialect: Dialect): ApiRecord {
  const record: ApiRecord = {
    id: row.id as string,
    created: decodeTimestamp(row.created)!,
    updated: decodeTimestamp(row.updated)!,
  };
  if (collection.system) record.email = row.email;
  for (const field of collection.fields) record[field.name] = decodeValue(field, row[field.name], dialect);
  return record;
}

/** What a caller sees of a record: a user's email only by its owner and superusers (contract §3). */
export function visibleRecord(collection: CollectionDef, record: ApiRecord, caller: Caller): ApiRecord {
  if (!collection.system || caller.superuser || caller.user?.id === record.id) return record;
  const { email: _hidden, ...rest } = record;
  return rest as ApiRecord;
}

/** A validator that changes whenever any stored value changes, whatever representation was asked for. */
export function recordEtag(record: ApiRecord): string {
  return etagOfJson(JSON.stringify(record));
}

/** The record ETag from the record's JSON, when the caller has serialised it already. */
export function etagOfJson(json: string): string {
  return `"${crypto.hash('sha1', json, 'base64url').slice(0, 22)}"`;
}

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
const ID_LENGTH = 15;
/** Random bytes drawn from the CSPRNG 4 KiB at a time: one call per id was a measurable part of a create. */
const idPool = Buffer.alloc(ID_LENGTH * 273);
let idPoolOffset = idPool.length;

/** Random record ids: 15 characters of [a-z0-9], ~77 bits. */
export function newRecordId(): string {
  if (idPoolOffset + ID_LENGTH > idPool.length) {
    crypto.randomFillSync(idPool);
    idPoolOffset = 0;
  }
  let id = '';
  // 256 % 36 leaves a slight bias toward the first 4 characters; irrelevant for uniqueness.
  for (let i = 0; i < ID_LENGTH; i++) id += ID_ALPHABET[idPool[idPoolOffset + i]! % 36];
  idPoolOffset += ID_LENGTH;
  return id;
}
