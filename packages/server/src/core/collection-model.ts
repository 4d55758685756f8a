// The shape of a collection definition (contract.md §4) as the rest of the server sees it,
// after validation. Pure types and small lookups: no database, no HTTP.

export type FieldType =
  | 'text'
  | 'number'
  | 'boolean'
  | 'date'
  | 'email'
  | 'url'
  | 'select'
  | 'json'
  | 'relation'
  | 'file';

export const FIELD_TYPES: readonly FieldType[] = [
  'text', 'number', 'boolean', 'date', 'email', 'url', 'select', 'json', 'relation', 'file',
];

export interface FieldDef {
  /** Stable identity given by the server, so a field can be renamed by PATCHing it with its id. */
  id?: string;
  name: string;
  type: FieldType;
  required?: boolean;
  /** text: min/max length; number: min/max value. */
  min?: number;
  max?: number;
  /** text: a regular expression the whole value must match. */
  pattern?: string;
  /** number: only integers. */
  integer?: boolean;
  /** select: the allowed values. */
  values?: string[];
  /** select, relation, file: an array of values instead of one. */
  multiple?: boolean;
  /** relation: the target collection. */
  collection?: string;
  /** file: limits and thumbnails (served by the files issue). */
  maxSize?: number;
  mimeTypes?: string[];
  thumbs?: string[];
  protected?: boolean;
}

export interface IndexDef {
  fields: string[];
  unique?: boolean;
}

export type RuleName = 'list' | 'view' | 'create' | 'update' | 'delete';
export const RULE_NAMES: readonly RuleName[] = ['list', 'view', 'create', 'update', 'delete'];

/** `null` (or absent): superusers only; `''`: anyone; otherwise an expression (contract §6). */
export type Rules = Partial<Record<RuleName, string | null>>;

export interface CollectionDef {
  name: string;
  fields: FieldDef[];
  indexes: IndexDef[];
  search: string[];
  rules: Rules;
  /** Built-in collections (`users`) cannot be deleted or renamed. */
  system?: boolean;
  created?: string;
  updated?: string;
}

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
