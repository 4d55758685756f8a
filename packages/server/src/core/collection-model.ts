// The shape of a collection definition (contract.md §4) as the rest of the server sees it,
// after validation. Pure types and small lookups: no database, no HTTP.

import type { CollectionDef, FieldDef, FieldType, RuleName } from '@galley/protocol';

// The definition types are the wire contract's, shared with the SDK and typegen.
export type { CollectionDef, FieldDef, FieldType, IndexDef, RuleName, Rules } from '@galley/protocol';

export const FIELD_TYPES: readonly FieldType[] = [
  'text', 'number', 'boolean', 'date', 'email', 'url', 'select', 'json', 'relation', 'file',
];

export const RULE_NAMES: readonly RuleName[] = ['list', 'view', 'create', 'update', 'delete'];

/** Columns every record has besides its collection's own fields. */
export const SYSTEM_FIELDS = ['id', 'created', 'updated'] as const;

/** A field that stores several values (kept as a JSON array). */
export function isMultiValue(field: FieldDef): boolean {
  return field.multiple === true && (field.type === 'select' || field.type === 'relation' || field.type === 'file');
}

/** The definition of a system field, so that filters and sorts treat it like any other field. */
export function systemFieldDef(name: (typeof SYSTEM_FIELDS)[number]): FieldDef {
  return name === 'id' ? { name, type: 'text' } : { name, type: 'date' };
}

/** Looks a field up by name, including the system fields; undefined if the collection has none such. */
export function findField(collection: CollectionDef, name: string): FieldDef | undefined {
  if ((SYSTEM_FIELDS as readonly string[]).includes(name)) return systemFieldDef(name as (typeof SYSTEM_FIELDS)[number]);
  return collection.fields.find((f) => f.name === name);
}
