// Record and list shapes of contract.md §5.

/** Every record carries these system fields besides its collection's own. */
export interface BaseRecord {
  id: string;
  created: string;
  updated: string;
  expand?: Record<string, unknown>;
  [field: string]: unknown;
}

export interface ListResponse<T = BaseRecord> {
  items: T[];
  nextCursor: string | null;
  totalItems?: number;
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
