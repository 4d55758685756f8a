// Converts one stored value when a field changes type or multiplicity (a collection migration).
// Conversions that would lose information fail, so the migration is refused and nothing changes.

import { isMultiValue, type FieldDef } from './collection-model.ts';
import { toIsoDate } from './dates.ts';

export type Conversion = { ok: true; value: unknown } | { ok: false };

const ok = (value: unknown): Conversion => ({ ok: true, value });
const fail: Conversion = { ok: false };
const TEXT_LIKE = new Set(['text', 'email', 'url', 'select', 'relation', 'file']);

function scalar(from: FieldDef, to: FieldDef, value: unknown): Conversion {
  if (value === null || value === undefined) return ok(null);
  if (to.type === 'json') return ok(value);
  if (from.type === 'json') {
    if (TEXT_LIKE.has(to.type)) return ok(typeof value === 'string' ? value : JSON.stringify(value));
    return scalar({ ...from, type: typeof value === 'number' ? 'number' : typeof value === 'boolean' ? 'boolean' : 'text' }, to, value);
  }
  if (TEXT_LIKE.has(to.type) && to.type !== 'relation' && to.type !== 'file') {
    if (from.type === 'number' || from.type === 'boolean' || from.type === 'date' || TEXT_LIKE.has(from.type)) return ok(String(value));
    return fail;
  }
  switch (to.type) {
    case 'number': {
      if (from.type === 'boolean') return ok(value ? 1 : 0);
      if (typeof value === 'number') return ok(value);
      const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
      return Number.isFinite(n) ? ok(n) : fail;
    }
    case 'boolean':
      if (typeof value === 'boolean') return ok(value);
      if (typeof value === 'number') return ok(value !== 0);
      if (value === 'true' || value === 'false') return ok(value === 'true');
      return fail;
    case 'date': {
      const iso = typeof value === 'string' ? toIsoDate(value) : undefined;
      return iso ? ok(iso) : fail;
    }
    case 'relation':
    case 'file':
      // Ids and stored file names cannot be made up from other values.
      return from.type === to.type ? ok(value) : fail;
    default:
      return fail;
  }
}

export function convertValue(from: FieldDef, to: FieldDef, value: unknown): Conversion {
  const fromMulti = isMultiValue(from);
  const toMulti = isMultiValue(to);
  if (fromMulti && toMulti) {
    const out: unknown[] = [];
    for (const v of value as unknown[]) {
      const c = scalar(from, to, v);
      if (!c.ok) return fail;
      out.push(c.value);
    }
    return ok(out);
  }
  if (fromMulti) {
    const list = (value as unknown[] | null) ?? [];
    if (list.length > 1) return fail;
    return list.length === 0 ? ok(null) : scalar(from, to, list[0]);
  }
  if (toMulti) {
    if (value === null || value === undefined) return ok([]);
    const c = scalar(from, to, value);
    return c.ok ? ok([c.value]) : fail;
  }
  return scalar(from, to, value);
}
