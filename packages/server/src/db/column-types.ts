// How each field type is stored per dialect, and how values cross between the API shape
// (JSON: ISO date strings, booleans, arrays) and the column values each driver speaks.

import { isMultiValue, type FieldDef } from '../core/collection-model.ts';
import type { Dialect } from './database.ts';

/** The SQL column type of a field. */
export function columnType(field: FieldDef, dialect: Dialect): string {
  const pg = dialect === 'postgres';
  if (isMultiValue(field) || field.type === 'json') return pg ? 'JSONB' : 'TEXT';
  switch (field.type) {
    case 'number':
      return pg ? 'DOUBLE PRECISION' : 'REAL';
    case 'boolean':
      return pg ? 'BOOLEAN' : 'INTEGER';
    case 'date':
      return pg ? 'TIMESTAMPTZ' : 'TEXT';
    default:
      return 'TEXT';
  }
}

/** The column type of `created`/`updated`. */
export function timestampColumnType(dialect: Dialect): string {
  return dialect === 'postgres' ? 'TIMESTAMPTZ' : 'TEXT';
}

/** API value → column value (the value has already been validated against the field). */
export function encodeValue(field: FieldDef, value: unknown, dialect: Dialect): unknown {
  if (value === null || value === undefined) return null;
  if (isMultiValue(field) || field.type === 'json') return JSON.stringify(value);
  if (field.type === 'boolean' && dialect === 'sqlite') return value ? 1 : 0;
  return value;
}

/** Column value → API value. */
export function decodeValue(field: FieldDef, value: unknown, dialect: Dialect): unknown {
  if (value === null || value === undefined) return isMultiValue(field) ? [] : null;
  if (isMultiValue(field) || field.type === 'json') {
    return dialect === 'sqlite' && typeof value === 'string' ? JSON.parse(value) : value;
  }
  if (field.type === 'boolean') return dialect === 'sqlite' ? value === 1 : value;
  if (field.type === 'date') return decodeTimestamp(value);
  return value;
}

/** Timestamps are ISO 8601 in UTC with milliseconds on the wire and in SQLite (so text order is time order). */
export function decodeTimestamp(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value.toISOString();
  return String(value);
}
