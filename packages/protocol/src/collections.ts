// Collection definitions as they travel over `/api/v1/collections` (contract.md §4): the server
// validates and stores them, the SDK sends them, and `galley typegen` turns them into types.

export type FieldType = 'text' | 'number' | 'boolean' | 'date' | 'email' | 'url' | 'select' | 'json' | 'relation' | 'file';

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
  /** file: limits and thumbnails. */
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
  /**
   * In responses only, for a collection with `search` fields: whether its full-text index is
   * complete or still being built in the background (after `search` changed). Ignored on input.
   */
  searchIndex?: SearchIndexState;
}

/** `building`: searches find only the `indexed` records so far; `total` is the count when the build began. */
export type SearchIndexState = { state: 'ready' } | { state: 'building'; indexed: number; total: number };
