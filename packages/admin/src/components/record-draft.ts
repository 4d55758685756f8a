// A record being edited, field by field, in the form its control holds it: numbers, dates and JSON
// as the text typed (so a half-typed value is never lost or rewritten), relations as id lists, file
// fields as the stored names kept plus the uploads under way. toBody turns it into the JSON body
// the server validates; checks the browser can make (JSON that does not parse, an upload still
// running) are reported per field before anything is sent.

import type { BaseRecord, CollectionDef, FieldDef, FileUpload } from '@galley/sdk';

export type UploadState = 'uploading' | 'paused' | 'failed' | 'done';

/** One file being uploaded with tus for a file field. */
export interface PendingUpload {
  key: string;
  file: File;
  state: UploadState;
  sent: number;
  /** The running upload (its `url` resumes it after a failure). */
  handle: FileUpload;
  /** The upload id, once finished: goes into the body as `{ upload: id }`. */
  id?: string;
  error?: string;
}

export interface FileDraft {
  kept: string[];
  uploads: PendingUpload[];
}

export type DraftValue = string | boolean | string[] | FileDraft;
export type Draft = Record<string, DraftValue>;

const isMulti = (field: FieldDef) => field.multiple === true;

/** `2024-05-01T10:20:30.000Z` → `2024-05-01T10:20:30` (what a datetime-local input shows, in UTC). */
export function dateInputValue(value: unknown): string {
  if (typeof value !== 'string' || value === '') return '';
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? value : date.toISOString().slice(0, 19);
}

export function draftValueOf(field: FieldDef, value: unknown): DraftValue {
  switch (field.type) {
    case 'boolean':
      return value === true;
    case 'date':
      return dateInputValue(value);
    case 'json':
      return value === null || value === undefined ? '' : JSON.stringify(value, null, 2);
    case 'number':
      return typeof value === 'number' ? String(value) : '';
    case 'file': {
      const names = Array.isArray(value) ? value.map(String) : typeof value === 'string' && value ? [value] : [];
      return { kept: names, uploads: [] };
    }
    case 'relation':
      return Array.isArray(value) ? value.map(String) : typeof value === 'string' && value ? [value] : [];
    case 'select':
      if (isMulti(field)) return Array.isArray(value) ? value.map(String) : [];
      return typeof value === 'string' ? value : '';
    default:
      return typeof value === 'string' ? value : value === null || value === undefined ? '' : String(value);
  }
}

export function draftOf(def: CollectionDef, record: BaseRecord | null): Draft {
  return Object.fromEntries(def.fields.map((f) => [f.name, draftValueOf(f, record?.[f.name])]));
}

type Converted = { ok: true; value: unknown } | { ok: false; message: string };

/** The body value of one field's draft, or why it cannot be sent yet. */
export function bodyValueOf(field: FieldDef, draft: DraftValue): Converted {
  const text = typeof draft === 'string' ? draft : '';
  switch (field.type) {
    case 'boolean':
      return { ok: true, value: draft === true };
    case 'number':
      if (text.trim() === '') return { ok: true, value: null };
      return Number.isFinite(Number(text)) ? { ok: true, value: Number(text) } : { ok: false, message: 'is not a number' };
    case 'date': {
      if (text === '') return { ok: true, value: null };
      // The input shows UTC: read it back as UTC, whatever the browser's time zone.
      const date = new Date(/[zZ]|[+-]\d\d:\d\d$/.test(text) ? text : `${text}Z`);
      return Number.isNaN(date.getTime()) ? { ok: false, message: 'is not a date' } : { ok: true, value: date.toISOString() };
    }
    case 'json':
      if (text.trim() === '') return { ok: true, value: null };
      try {
        return { ok: true, value: JSON.parse(text) };
      } catch (err) {
        return { ok: false, message: `is not valid JSON (${err instanceof Error ? err.message : 'parse error'})` };
      }
    case 'relation': {
      const ids = draft as string[];
      return { ok: true, value: isMulti(field) ? ids : (ids[0] ?? null) };
    }
    case 'select':
      if (isMulti(field)) return { ok: true, value: draft };
      return { ok: true, value: text === '' ? null : text };
    case 'file': {
      const files = draft as FileDraft;
      if (files.uploads.some((u) => u.state !== 'done')) return { ok: false, message: 'has an upload that has not finished' };
      const uploaded = files.uploads.map((u) => ({ upload: u.id! }));
      if (isMulti(field)) return { ok: true, value: [...files.kept, ...uploaded] };
      return { ok: true, value: uploaded[0] ?? files.kept[0] ?? null };
    }
    default:
      // Empty email and url fields are "no value"; empty text is text.
      return { ok: true, value: text === '' && field.type !== 'text' ? null : text };
  }
}

export interface BodyResult {
  body: Record<string, unknown>;
  /** Field name → what is wrong, for problems found before sending. */
  errors: Record<string, string>;
}

/**
 * The body for a create (every field with a value) or an update (only the fields whose value
 * differs from `original`, so a PATCH never rewrites what the editor did not touch).
 */
export function toBody(def: CollectionDef, draft: Draft, original: BaseRecord | null): BodyResult {
  const body: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  for (const field of def.fields) {
    const converted = bodyValueOf(field, draft[field.name]!);
    if (!converted.ok) {
      errors[field.name] = converted.message;
      continue;
    }
    if (original) {
      const before = bodyValueOf(field, draftValueOf(field, original[field.name]));
      if (before.ok && JSON.stringify(before.value) === JSON.stringify(converted.value)) continue;
    } else if (converted.value === null || (Array.isArray(converted.value) && converted.value.length === 0) || (field.type === 'text' && converted.value === '')) {
      continue;
    }
    body[field.name] = converted.value;
  }
  return { body, errors };
}
