// Record and list shapes of contract.md §5.

/** Every record carries these system fields besides its collection's own. */
export interface BaseRecord {
  id: string;
  created: string;
  updated: string;
  expand?: Record<string, unknown>;
  [field: string]: unknown;
}

/** One entry of a facet: a value and how many matching records hold it, or a number bucket. */
export type FacetCount =
  | { value: string | boolean; count: number }
  /** `from` ≤ value < `to`; the first bucket has no `from`, the last no `to`. */
  | { from?: number; to?: number; count: number };

export interface ListResponse<T = BaseRecord> {
  items: T[];
  nextCursor: string | null;
  totalItems?: number;
  /** With `facets=`: per field, the counts under the list's search and filter. */
  facets?: Record<string, FacetCount[]>;
}

export interface BatchOperation {
  action: 'create' | 'update' | 'delete';
  collection: string;
  id?: string;
  body?: Record<string, unknown>;
  /** update and delete: the record's ETag, as `If-Match` would carry it. */
  ifMatch?: string;
}

export interface BatchResult {
  status: number;
  body?: unknown;
}
