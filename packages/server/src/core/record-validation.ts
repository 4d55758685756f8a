// Validates a record body against its collection: every invalid field is reported at once,
// unknown fields are refused, and values come out normalised (dates as ISO UTC, arrays de-duplicated).

import type { FieldError } from '@galley/protocol';
import { isMultiValue, type CollectionDef, type FieldDef } from './collection-model.ts';
import { toIsoDate } from './dates.ts';

/** Deliberately loose (an @ and a dot in the domain): only a mail that arrives proves an address. */
export const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
export const RECORD_ID_PATTERN = /^[a-zA-Z0-9_-]{1,64}$/;
const MAX_TEXT_LENGTH = 1_000_000;

export interface ValidatedBody {
  values: Record<string, unknown>;
  errors: FieldError[];
}

type Check = { ok: true; value: unknown } | { ok: false; code: string; message: string };
const ok = (value: unknown): Check => ({ ok: true, value });
const bad = (code: string, message: string): Check => ({ ok: false, code, message });

function checkText(value: unknown, field: FieldDef): Check {
  if (typeof value !== 'string') return bad('invalid_type', 'must be a string');
  // PostgreSQL cannot store NUL, and lone surrogates cannot be encoded as UTF-8: refuse both everywhere.
  if (value.includes('\u0000') || !value.isWellFormed()) return bad('invalid_value', 'must be valid Unicode text without NUL characters');
  const length = [...value].length;
  if (field.min !== undefined && length < field.min) return bad('too_short', `must be at least ${field.min} characters`);
  if (length > (field.max ?? MAX_TEXT_LENGTH)) return bad('too_long', `must be at most ${field.max ?? MAX_TEXT_LENGTH} characters`);
  if (field.pattern && !new RegExp(field.pattern, 'u').test(value)) return bad('pattern_mismatch', `must match ${field.pattern}`);
  return ok(value);
}

function checkScalar(value: unknown, field: FieldDef): Check {
  switch (field.type) {
    case 'text':
      return checkText(value, field);
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value)) return bad('invalid_type', 'must be a finite number');
      if (field.integer && !Number.isSafeInteger(value)) return bad('not_integer', 'must be an integer');
      if (field.min !== undefined && value < field.min) return bad('too_small', `must be at least ${field.min}`);
      if (field.max !== undefined && value > field.max) return bad('too_large', `must be at most ${field.max}`);
      return ok(value);
    case 'boolean':
      return typeof value === 'boolean' ? ok(value) : bad('invalid_type', 'must be true or false');
    case 'date': {
      const iso = typeof value === 'string' ? toIsoDate(value) : undefined;
      return iso ? ok(iso) : bad('invalid_date', 'must be an ISO 8601 date or date-time');
    }
    case 'email': {
      if (typeof value !== 'string' || value.length > 254 || !EMAIL_PATTERN.test(value)) return bad('invalid_email', 'must be an email address');
      return ok(value.normalize('NFC'));
    }
    case 'url': {
      if (typeof value !== 'string' || value.length > 2048) return bad('invalid_url', 'must be an http(s) URL of at most 2048 characters');
      try {
        const url = new URL(value);
        if (url.protocol !== 'http:' && url.protocol !== 'https:') return bad('invalid_url', 'must be an http(s) URL');
      } catch {
        return bad('invalid_url', 'must be an http(s) URL');
      }
      return ok(value);
    }
    case 'select':
      if (typeof value !== 'string' || !field.values!.includes(value)) return bad('invalid_choice', `must be one of ${field.values!.join(', ')}`);
      return ok(value);
    case 'relation':
      return typeof value === 'string' && RECORD_ID_PATTERN.test(value) ? ok(value) : bad('invalid_type', 'must be a record id');
    case 'json':
      return ok(value);
    case 'file':
      return bad('unsupported', 'files are attached by upload (multipart or tus), not as JSON values');
  }
}

function checkField(value: unknown, field: FieldDef): Check {
  if (value === null) {
    if (field.required) return bad('required', 'is required');
    return ok(isMultiValue(field) ? [] : null);
  }
  if (!isMultiValue(field)) {
    const c = checkScalar(value, field);
    if (c.ok && field.required && (c.value === '' || c.value === null)) return bad('required', 'is required');
    return c;
  }
  if (!Array.isArray(value)) return bad('invalid_type', 'must be an array');
  if (value.length > 1000) return bad('too_many', 'at most 1000 values');
  const out: unknown[] = [];
  for (const item of value) {
    const c = checkScalar(item, field);
    if (!c.ok) return c;
    if (!out.includes(c.value)) out.push(c.value);
  }
  if (field.required && out.length === 0) return bad('required', 'needs at least one value');
  return ok(out);
}

/**
 * Checks a create (`partial` false: required fields must be present) or update body.
 * System fields are read-only, except `id` on create.
 */
export function validateRecordBody(collection: CollectionDef, body: Record<string, unknown>, partial: boolean, options: { skipFiles?: boolean } = {}): ValidatedBody {
  const errors: FieldError[] = [];
  const values: Record<string, unknown> = {};
  const fields = new Map(collection.fields.map((f) => [f.name, f]));
  for (const [key, value] of Object.entries(body)) {
    if (key === 'id' && !partial) {
      if (typeof value !== 'string' || !RECORD_ID_PATTERN.test(value)) errors.push({ field: 'id', code: 'invalid_format', message: 'must be 1–64 characters of a-z, A-Z, 0-9, _ and -' });
      else values.id = value;
      continue;
    }
    if (key === 'id' || key === 'created' || key === 'updated') {
      errors.push({ field: key, code: 'read_only', message: 'is set by the server' });
      continue;
    }
    const field = fields.get(key);
    if (!field) {
      errors.push({ field: key, code: 'unknown_field', message: `is not a field of ${collection.name}` });
      continue;
    }
    // The record service hands file fields to the file service, which knows the uploads.
    if (options.skipFiles && field.type === 'file') continue;
    const c = checkField(value, field);
    if (c.ok) values[key] = c.value;
    else errors.push({ field: key, code: c.code, message: c.message });
  }
  if (!partial) {
    for (const field of collection.fields) {
      if (options.skipFiles && field.type === 'file') continue;
      if (key(values, field.name) || errors.some((e) => e.field === field.name)) continue;
      if (field.required) errors.push({ field: field.name, code: 'required', message: 'is required' });
      else values[field.name] = isMultiValue(field) ? [] : null;
    }
  }
  return { values, errors };
}

const key = (o: Record<string, unknown>, k: string) => Object.prototype.hasOwnProperty.call(o, k);
