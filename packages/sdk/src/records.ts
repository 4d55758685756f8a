// `galley.collection<Post>('posts')`: the records of one collection (contract.md §5) — create, get,
// update (optionally guarded by an ETag), delete, list, `iterate` that follows the cursors, and
// `subscribe` to its changes.

import type { BaseRecord, ListResponse } from '@galley/protocol';
import { FileUpload, fileUrl, type FileUrlOptions, type UploadOptions, type UploadSource } from './files.ts';
import type { Realtime, RealtimeEvent, SubscribeOptions } from './realtime.ts';
import { apiPath, type Transport } from './transport.ts';

type SystemKey = 'id' | 'created' | 'updated' | 'expand';
type Writable<T> = Exclude<keyof T, SystemKey>;
/** Nullable and multi-value fields may be left out of a create (they default to null or []). */
type Optional<T, K extends keyof T> = null extends T[K] ? K : T[K] extends readonly unknown[] ? K : never;

/** The body of a create: the collection's fields, those that may be empty optional, and an optional id. */
export type CreateInput<T> = { [K in Writable<T> as K extends Optional<T, K> ? never : K]: T[K] } & {
  [K in Writable<T> as K extends Optional<T, K> ? K : never]?: T[K];
} & { id?: string };

/** The body of an update: any of the collection's fields. */
export type UpdateInput<T> = { [K in Writable<T>]?: T[K] };

type Names = string | readonly string[];

export interface ListOptions {
  /** An expression (contract §6); build it with `galley.filter` when it holds values. */
  filter?: string;
  /** `-created,title` */
  sort?: string;
  /** 1–200, default 20. */
  limit?: number;
  cursor?: string;
  fields?: Names;
  expand?: Names;
  /** Full-text search over the collection's `search` fields, ranked by relevance; combines with `filter`. */
  search?: string;
  /** Adds `totalItems`. */
  count?: boolean;
  /** Fields to count values of under the search and filter: adds `facets`. */
  facets?: Names;
  signal?: AbortSignal;
}

export interface GetOptions {
  fields?: Names;
  expand?: Names;
  signal?: AbortSignal;
}

export interface WriteOptions {
  /** The record's ETag (see `etagOf`): the write fails with 412 if the record changed since. */
  ifMatch?: string;
  signal?: AbortSignal;
}

export interface CreateOptions {
  /** Retrying a create with the same key and body replays the first answer instead of creating twice. */
  idempotencyKey?: string;
  signal?: AbortSignal;
}

const joined = (names: Names | undefined) => (names === undefined || typeof names === 'string' ? names : names.join(','));

/** The ETag each record object arrived with, without adding a member to the record itself. */
const etags = new WeakMap<object, string>();

export class RecordCollection<T extends object = BaseRecord> {
  constructor(
    private readonly transport: Transport,
    readonly name: string,
    private readonly realtime: () => Realtime,
  ) {}

  /**
   * Live changes (the list rule applies; `recordId` for one record, `filter` to narrow). Resolves
   * once the server confirms; call the result to stop. The shared socket reconnects by itself and
   * resumes where it left off.
   */
  subscribe(options: SubscribeOptions, handler: (event: RealtimeEvent<T>) => void): Promise<() => void> {
    return this.realtime().subscribe(this.name, options, handler);
  }

  private path(id?: string): string {
    return id === undefined ? apiPath('collections', this.name, 'records') : apiPath('collections', this.name, 'records', id);
  }

  private remember(record: T, headers: Headers): T {
    const etag = headers.get('etag');
    // A weak ETag (an expanded or trimmed body) is not the record's own and could never match.
    if (etag && !etag.startsWith('W/') && typeof record === 'object' && record !== null) etags.set(record, etag);
    return record;
  }

  /** The ETag the server sent with a record returned by get, create or update; pass it as `ifMatch`. */
  etagOf(record: T): string | undefined {
    return etags.get(record);
  }

  async list(options: ListOptions = {}): Promise<ListResponse<T>> {
    const { filter, sort, limit, cursor, fields, expand, search, count, facets, signal } = options;
    const query = { filter, sort, limit, cursor, fields: joined(fields), expand: joined(expand), search, count: count || undefined, facets: joined(facets) };
    return this.transport.json<ListResponse<T>>('GET', this.path(), { query, signal });
  }

  /** Every record matching the options, page after page (`limit` is the page size). */
  async *iterate(options: Omit<ListOptions, 'cursor' | 'count'> = {}): AsyncGenerator<T, void, undefined> {
    let cursor: string | undefined;
    do {
      const page = await this.list({ ...options, cursor });
      yield* page.items;
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
  }

  async get(id: string, options: GetOptions = {}): Promise<T> {
    const query = { fields: joined(options.fields), expand: joined(options.expand) };
    const answer = await this.transport.send<T>('GET', this.path(id), { query, signal: options.signal });
    return this.remember(answer.data, answer.headers);
  }

  async create(body: CreateInput<T>, options: CreateOptions = {}): Promise<T> {
    const headers: Record<string, string> = options.idempotencyKey ? { 'idempotency-key': options.idempotencyKey } : {};
    const answer = await this.transport.send<T>('POST', this.path(), { body, headers, signal: options.signal });
    return this.remember(answer.data, answer.headers);
  }

  async update(id: string, patch: UpdateInput<T>, options: WriteOptions = {}): Promise<T> {
    const headers: Record<string, string> = options.ifMatch ? { 'if-match': options.ifMatch } : {};
    const answer = await this.transport.send<T>('PATCH', this.path(id), { body: patch, headers, signal: options.signal });
    return this.remember(answer.data, answer.headers);
  }

  /** A resumable upload (tus); await it for the `{ upload: id }` a file field of a create or update takes. */
  upload(source: UploadSource, options: UploadOptions = {}): FileUpload {
    return new FileUpload(this.transport, source, options);
  }

  /** The URL of a file of one of this collection's records (`filename`: the stored name the field holds). */
  fileUrl(record: string | { id: string }, filename: string, options: FileUrlOptions = {}): string {
    return fileUrl(this.transport, this.name, record, filename, options);
  }

  async delete(id: string, options: WriteOptions = {}): Promise<void> {
    const headers: Record<string, string> = options.ifMatch ? { 'if-match': options.ifMatch } : {};
    await this.transport.send('DELETE', this.path(id), { headers, signal: options.signal });
  }
}
