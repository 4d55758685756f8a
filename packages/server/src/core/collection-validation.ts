// Validates a collection definition as a client sent it and normalises it into a CollectionDef.
// Every problem is reported at once, with a path like `fields[2].max`.

import type { FieldError } from '@galley/protocol';
import { ApiError } from './api-error.ts';
import {
  FIELD_TYPES, RULE_NAMES, SYSTEM_FIELDS, findField,
  type CollectionDef, type FieldDef, type FieldType, type IndexDef, type Rules,
} from './collection-model.ts';

export const NAME_PATTERN = /^[a-z][a-z0-9_]{0,62}$/;

/** Names that would collide with routes, SQLite/PostgreSQL internals or built-in collections. */
const RESERVED_COLLECTION_NAMES = new Set(['users', 'collections', 'batch', 'auth', 'files', 'uploads', 'realtime', 'health', 'metrics', 'admin', 'docs']);
const RESERVED_COLLECTION_PREFIXES = ['sqlite_', 'pg_'];
/** Field names the records API uses itself, plus the account columns of `users`. */
const RESERVED_FIELD_NAMES = new Set([...SYSTEM_FIELDS, 'expand', 'collection', 'email', 'password', 'password_hash', 'verified', 'roles', 'token']);
/** `@request.auth.type` is `api_key` for API keys (core/api-keys.ts): no user may carry a `type` of their own. */
const RESERVED_USER_FIELD_NAMES = new Set(['type']);

const PROPERTIES: Record<FieldType, readonly string[]> = {
  text: ['min', 'max', 'pattern'],
  number: ['min', 'max', 'integer'],
  boolean: [],
  date: [],
  email: [],
  url: [],
  select: ['values', 'multiple'],
  json: [],
  relation: ['collection', 'multiple'],
  file: ['multiple', 'maxSize', 'mimeTypes', 'thumbs', 'protected'],
};
const COMMON_PROPERTIES = ['id', 'name', 'type', 'required'];
const THUMB_PATTERN = /^\d{1,4}x\d{1,4}f?$/;
const MIME_PATTERN = /^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9*][a-z0-9!#$&^_.+-]*$/i;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export interface ValidateContext {
  /** Collections that exist, for relation targets. */
  exists(name: string): boolean;
  /** The collection being updated, when this is an update (its name may change). */
  current?: CollectionDef;
  /** Checks a rule expression against the normalised collection; returns a message and position, or undefined. */
  checkRule(rule: string, collection: CollectionDef): { message: string; position: number } | undefined;
}

export function validateCollectionInput(input: unknown, ctx: ValidateContext): CollectionDef {
  const errors: FieldError[] = [];
  const add = (field: string, code: string, message: string) => errors.push({ field, code, message });
  if (!isPlainObject(input)) throw ApiError.validation([{ field: '', code: 'invalid_type', message: 'must be an object' }]);

  // A definition as read back (with its read-only system, created, updated, searchIndex) is accepted; those are ignored.
  for (const key of Object.keys(input)) {
    if (!['name', 'fields', 'indexes', 'search', 'rules', 'system', 'created', 'updated', 'searchIndex'].includes(key)) add(key, 'unknown_property', 'is not a collection property');
  }

  const name = input.name ?? ctx.current?.name;
  const isUsers = ctx.current?.system === true;
  if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
    add('name', 'invalid_format', 'must start with a letter and hold only a-z, 0-9 and _ (at most 63 characters)');
  } else if (isUsers && name !== ctx.current!.name) {
    add('name', 'read_only', 'a built-in collection cannot be renamed');
  } else if (!isUsers && (RESERVED_COLLECTION_NAMES.has(name) || RESERVED_COLLECTION_PREFIXES.some((p) => name.startsWith(p)))) {
    add('name', 'reserved', `"${name}" is reserved`);
  } else if (name !== ctx.current?.name && ctx.exists(name)) {
    add('name', 'taken', `a collection named "${name}" exists`);
  }
  const collectionName = typeof name === 'string' ? name : '';

  const fields: FieldDef[] = [];
  const rawFields = input.fields ?? ctx.current?.fields ?? [];
  if (!Array.isArray(rawFields)) add('fields', 'invalid_type', 'must be an array');
  else if (rawFields.length > 200) add('fields', 'too_many', 'at most 200 fields');
  else {
    const seen = new Set<string>();
    rawFields.forEach((raw, i) => {
      const field = validateField(raw, `fields[${i}]`, add, ctx, collectionName);
      if (!field) return;
      if (seen.has(field.name)) add(`fields[${i}].name`, 'duplicate', `"${field.name}" is used twice`);
      seen.add(field.name);
      fields.push(field);
    });
  }

  const draft: CollectionDef = { name: collectionName, fields, indexes: [], search: [], rules: {}, system: ctx.current?.system };

  const rawIndexes = input.indexes ?? ctx.current?.indexes ?? [];
  if (!Array.isArray(rawIndexes)) add('indexes', 'invalid_type', 'must be an array');
  else {
    const seen = new Set<string>();
    rawIndexes.forEach((raw, i) => {
      const path = `indexes[${i}]`;
      if (!isPlainObject(raw)) return add(path, 'invalid_type', 'must be an object');
      for (const key of Object.keys(raw)) if (key !== 'fields' && key !== 'unique') add(`${path}.${key}`, 'unknown_property', 'is not an index property');
      if (!Array.isArray(raw.fields) || raw.fields.length === 0 || raw.fields.length > 16) {
        return add(`${path}.fields`, 'invalid_type', 'must be a list of 1 to 16 field names');
      }
      const names = raw.fields as unknown[];
      const bad = names.find((n) => typeof n !== 'string' || !findField(draft, n));
      if (bad !== undefined) return add(`${path}.fields`, 'unknown_field', `"${String(bad)}" is not a field`);
      if (new Set(names).size !== names.length) return add(`${path}.fields`, 'duplicate', 'a field appears twice');
      if (raw.unique !== undefined && typeof raw.unique !== 'boolean') return add(`${path}.unique`, 'invalid_type', 'must be a boolean');
      const index: IndexDef = { fields: names as string[], ...(raw.unique ? { unique: true } : {}) };
      const key = JSON.stringify(index.fields);
      if (seen.has(key)) return add(path, 'duplicate', 'the same fields are indexed twice');
      seen.add(key);
      draft.indexes.push(index);
    });
  }

  const rawSearch = input.search ?? ctx.current?.search ?? [];
  if (!Array.isArray(rawSearch)) add('search', 'invalid_type', 'must be an array of field names');
  else {
    rawSearch.forEach((n, i) => {
      const f = typeof n === 'string' ? draft.fields.find((x) => x.name === n) : undefined;
      if (!f) add(`search[${i}]`, 'unknown_field', `"${String(n)}" is not a field`);
      else if (!['text', 'email', 'url', 'select'].includes(f.type)) add(`search[${i}]`, 'invalid_type', 'only text-like fields can be searched');
      else if (!draft.search.includes(f.name)) draft.search.push(f.name);
    });
  }

  const rawRules = input.rules ?? ctx.current?.rules ?? {};
  if (!isPlainObject(rawRules)) add('rules', 'invalid_type', 'must be an object');
  else {
    const rules: Rules = {};
    for (const [key, value] of Object.entries(rawRules)) {
      if (!(RULE_NAMES as readonly string[]).includes(key)) {
        add(`rules.${key}`, 'unknown_property', `is not a rule (one of ${RULE_NAMES.join(', ')})`);
        continue;
      }
      if (value !== null && typeof value !== 'string') {
        add(`rules.${key}`, 'invalid_type', 'must be null, "" or an expression');
        continue;
      }
      rules[key as keyof Rules] = value;
    }
    draft.rules = rules;
  }

  // Rules are checked last: they refer to the fields as now defined.
  if (errors.length === 0) {
    for (const rule of RULE_NAMES) {
      const text = draft.rules[rule];
      if (typeof text !== 'string' || text.trim() === '') continue;
      const problem = ctx.checkRule(text, draft);
      if (problem) add(`rules.${rule}`, 'invalid_rule', `${problem.message} (at ${problem.position})`);
    }
  }
  if (errors.length > 0) throw ApiError.validation(errors);
  return draft;
}

function validateField(
  raw: unknown,
  path: string,
  add: (field: string, code: string, message: string) => void,
  ctx: ValidateContext,
  collectionName: string,
): FieldDef | undefined {
  if (!isPlainObject(raw)) {
    add(path, 'invalid_type', 'must be an object');
    return undefined;
  }
  let failed = false;
  const track = (field: string, code: string, message: string) => {
    failed = true;
    add(field, code, message);
  };
  const { name, type } = raw;
  if (typeof name !== 'string' || !NAME_PATTERN.test(name)) track(`${path}.name`, 'invalid_format', 'must start with a letter and hold only a-z, 0-9 and _');
  else if (RESERVED_FIELD_NAMES.has(name) || (collectionName === 'users' && RESERVED_USER_FIELD_NAMES.has(name))) track(`${path}.name`, 'reserved', `"${name}" is reserved`);
  if (typeof type !== 'string' || !(FIELD_TYPES as readonly string[]).includes(type)) {
    track(`${path}.type`, 'invalid_value', `must be one of ${FIELD_TYPES.join(', ')}`);
    return undefined;
  }
  const fieldType = type as FieldType;
  const allowed = new Set([...COMMON_PROPERTIES, ...PROPERTIES[fieldType]]);
  for (const key of Object.keys(raw)) if (!allowed.has(key)) track(`${path}.${key}`, 'unknown_property', `is not a property of ${fieldType} fields`);

  const field: FieldDef = { name: String(name), type: fieldType };
  if (raw.id !== undefined) {
    if (typeof raw.id !== 'string' || !/^[a-z0-9]{1,32}$/.test(raw.id)) track(`${path}.id`, 'invalid_format', 'must be a field id this server gave out');
    else field.id = raw.id;
  }
  const bool = (key: 'required' | 'integer' | 'multiple' | 'protected') => {
    if (raw[key] === undefined) return;
    if (typeof raw[key] !== 'boolean') track(`${path}.${key}`, 'invalid_type', 'must be a boolean');
    else if (raw[key]) field[key] = true;
  };
  bool('required');
  bool('integer');
  bool('multiple');
  bool('protected');

  const num = (key: 'min' | 'max' | 'maxSize', integer: boolean, minimum: number) => {
    const v = raw[key];
    if (v === undefined || v === null) return;
    if (typeof v !== 'number' || !Number.isFinite(v) || (integer && !Number.isInteger(v)) || v < minimum) {
      track(`${path}.${key}`, 'invalid_value', integer ? `must be an integer ≥ ${minimum}` : 'must be a finite number');
    } else field[key] = v;
  };
  const lengthLimits = fieldType === 'text';
  if (fieldType === 'text' || fieldType === 'number') {
    num('min', lengthLimits, lengthLimits ? 0 : -Number.MAX_VALUE);
    num('max', lengthLimits, lengthLimits ? 0 : -Number.MAX_VALUE);
    if (field.min !== undefined && field.max !== undefined && field.min > field.max) track(`${path}.min`, 'invalid_value', 'must not exceed max');
  }
  if (fieldType === 'text' && raw.pattern !== undefined) {
    if (typeof raw.pattern !== 'string' || raw.pattern.length > 500) track(`${path}.pattern`, 'invalid_type', 'must be a regular expression of at most 500 characters');
    else {
      try {
        new RegExp(raw.pattern, 'u');
        field.pattern = raw.pattern;
      } catch {
        track(`${path}.pattern`, 'invalid_value', 'is not a valid regular expression');
      }
    }
  }
  if (fieldType === 'select') {
    const values = raw.values;
    if (!Array.isArray(values) || values.length === 0 || values.length > 1000 || values.some((v) => typeof v !== 'string' || v.length === 0 || v.length > 200)) {
      track(`${path}.values`, 'invalid_value', 'must be a list of 1 to 1000 non-empty strings');
    } else if (new Set(values).size !== values.length) track(`${path}.values`, 'duplicate', 'a value appears twice');
    else field.values = values as string[];
  }
  if (fieldType === 'relation') {
    const target = raw.collection;
    if (typeof target !== 'string' || !(ctx.exists(target) || target === collectionName || target === ctx.current?.name)) {
      track(`${path}.collection`, 'unknown_collection', 'must name an existing collection');
    } else field.collection = target === ctx.current?.name ? collectionName : target;
  }
  if (fieldType === 'file') {
    num('maxSize', true, 1);
    if (raw.mimeTypes !== undefined) {
      if (!Array.isArray(raw.mimeTypes) || raw.mimeTypes.some((m) => typeof m !== 'string' || !MIME_PATTERN.test(m))) track(`${path}.mimeTypes`, 'invalid_value', 'must be a list of MIME types');
      else field.mimeTypes = raw.mimeTypes as string[];
    }
    if (raw.thumbs !== undefined) {
      if (!Array.isArray(raw.thumbs) || raw.thumbs.some((t) => typeof t !== 'string' || !THUMB_PATTERN.test(t) || t.startsWith('0x0'))) {
        track(`${path}.thumbs`, 'invalid_value', 'must be a list of sizes like "100x100", "0x300" or "300x0"');
      } else field.thumbs = raw.thumbs as string[];
    }
  }
  // An invalid field is left out of the draft, so later checks (indexes, rules) do not trip over it.
  return failed ? undefined : field;
}
