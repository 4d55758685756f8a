// Example values for the record schemas of the OpenAPI document: realistic for each field type and
// inside the field's limits, so that "Try it out" in /docs starts from a body the server accepts.

import { isMultiValue, type FieldDef } from '../../core/collection-model.ts';

export const EXAMPLE_ID = 'k3x9p2m7q1w5e8r';
export const EXAMPLE_CREATED = '2025-01-15T09:30:00.000Z';
export const EXAMPLE_UPDATED = '2025-01-16T14:05:00.000Z';
const EXAMPLE_RELATED_ID = 'a8d4f1c6b2e7h3j';

/** Strings tried, in order, when a text field's own example does not match its pattern. */
const PATTERN_CANDIDATES = ['example', 'Example', 'EXAMPLE', 'example-1', 'example_1', 'abc', 'a', 'A', '1', '123', 'a1', 'A1', 'ab-12', 'hello world', 'Hello, world'];

function fitLength(text: string, min = 0, max = Infinity): string {
  let out = text;
  while ([...out].length < min) out += 'x';
  return max === Infinity ? out : [...out].slice(0, max).join('');
}

function textExample(field: FieldDef): string | undefined {
  const fits = (s: string) => {
    const n = [...s].length;
    if (field.min !== undefined && n < field.min) return false;
    if (field.max !== undefined && n > field.max) return false;
    if (field.required && n === 0) return false;
    try {
      return field.pattern === undefined || new RegExp(field.pattern, 'u').test(s);
    } catch {
      return false;
    }
  };
  const own = fitLength(`Example ${field.name.replace(/_/g, ' ')}`, field.min, field.max);
  if (fits(own)) return own;
  // A pattern can demand any shape: try a few common ones, each stretched to the length limits.
  return PATTERN_CANDIDATES.map((c) => fitLength(c, field.min, field.max)).find(fits);
}

function numberExample(field: FieldDef): number {
  const preferred = field.integer ? 3 : 9.5;
  let value = Math.min(Math.max(preferred, field.min ?? -Infinity), field.max ?? Infinity);
  if (field.integer) {
    value = Math.ceil(value);
    if (field.max !== undefined && value > field.max) value = Math.floor(field.max);
  }
  return value;
}

const MIME_EXTENSIONS: Record<string, string> = {
  'image/png': 'png', 'image/jpeg': 'jpg', 'image/webp': 'webp', 'image/gif': 'gif', 'image/avif': 'avif',
  'application/pdf': 'pdf', 'text/plain': 'txt', 'text/csv': 'csv', 'application/json': 'json',
};

function fileNameExample(field: FieldDef): string {
  const type = field.mimeTypes?.[0];
  const ext = (type && MIME_EXTENSIONS[type]) ?? (type?.startsWith('image/') ? 'png' : 'pdf');
  return `${field.name}_${EXAMPLE_RELATED_ID.slice(0, 10)}.${ext}`;
}

/** One value of the field as a record carries it (a file is its stored name); undefined if none fits. */
function scalarExample(field: FieldDef, side: 'record' | 'input'): unknown {
  switch (field.type) {
    case 'text': return textExample(field);
    case 'number': return numberExample(field);
    case 'boolean': return true;
    case 'date': return EXAMPLE_CREATED;
    case 'email': return 'ada@example.com';
    case 'url': return 'https://example.com/';
    case 'select': return field.values?.[0];
    case 'json': return { key: 'value', tags: ['a', 'b'] };
    case 'relation': return EXAMPLE_RELATED_ID;
    case 'file': return side === 'record' ? fileNameExample(field) : undefined;
  }
}

export function fieldExample(field: FieldDef, side: 'record' | 'input'): unknown {
  const value = scalarExample(field, side);
  if (value === undefined) return undefined;
  return isMultiValue(field) ? [value] : value;
}

function fieldValues(fields: FieldDef[], side: 'record' | 'input'): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of fields) {
    const value = fieldExample(field, side);
    if (value !== undefined) out[field.name] = value;
  }
  return out;
}

export function recordExample(fields: FieldDef[], withEmail: boolean): Record<string, unknown> {
  return {
    id: EXAMPLE_ID,
    created: EXAMPLE_CREATED,
    updated: EXAMPLE_UPDATED,
    ...(withEmail ? { email: 'ada@example.com' } : {}),
    ...fieldValues(fields, 'record'),
  };
}

/**
 * A create body: every field that has a fitting example, required ones first. Files are left out:
 * they need the id of a real upload, which no example can know.
 */
export function inputExample(fields: FieldDef[]): Record<string, unknown> {
  const data = fields.filter((f) => f.type !== 'file');
  return fieldValues([...data.filter((f) => f.required), ...data.filter((f) => !f.required)], 'input');
}

/** A partial update: the first two fields that are not files (a typical edit). */
export function patchExample(fields: FieldDef[]): Record<string, unknown> {
  return fieldValues(fields.filter((f) => f.type !== 'file').slice(0, 2), 'input');
}
