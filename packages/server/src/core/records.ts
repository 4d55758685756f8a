// The record service: get, list, create, update and delete records of any collection, with
// validation, rules, relations, expansion, optimistic concurrency and idempotent creates.

import { ExprError, type Expr } from '@galley/expr';
import type { FacetCount, FieldError } from '@galley/protocol';
import { ApiError } from './api-error.ts';
import { findField, isMultiValue, type CollectionDef, type RuleName } from './collection-model.ts';
import type { Caller } from './caller.ts';
import type { CollectionService } from './collections.ts';
import { accessSql, parseCached, requestContext, ruleAccess } from './record-access.ts';
import { expandRecords, parseExpand } from './record-expand.ts';
import { decodeCursor, encodeCursor, keysetSql, orderBySql, parseSort } from './record-query.ts';
import { facetCountsOf, facetsSql, parseFacets, type FacetRequest } from './record-facets.ts';
import { encodeRankCursor, rankedPageSql, rankKeysetSql, searchSql, searchWords, type SearchSql } from './record-search.ts';
import { etagOfJson, newRecordId, recordEtag, recordFromSelect, selectColumns, visibleRecord, type ApiRecord } from './record-rows.ts';
import { validateRecordBody } from './record-validation.ts';
import type { SearchInsights } from './search-insights.ts';
import { isPublicRead } from './read-cache.ts';
import type { ChangeLog } from './changes.ts';
import type { StagedFile } from './file-staging.ts';
import type { FileService, StoredUpload } from './files.ts';
import { IdempotencyStore, requestHash, type StoredResponse } from './idempotency.ts';
import { compileFilterCached } from '../rules/filter-cache.ts';
import { encodeValue } from '../db/column-types.ts';
import { quoteIdent as q, SqlParams, UniqueViolationError, type Database, type Dialect, type Queryable, type Transaction } from '../db/database.ts';

export interface ListOptions {
  filter?: string;
  sort?: string;
  limit?: number;
  cursor?: string;
  fields?: string[];
  expand?: string;
  count?: boolean;
  /** Full-text search over the collection's `search` fields. */
  search?: string;
  /** `status,tags,price:0,10,50`: counts per value (or bucket) under the search and filter. */
  facets?: string;
}

/** The rows a list matches, before its order and cursor. */
interface Matching {
  from: string;
  where: string[];
  search?: SearchSql;
}

export interface ListResult {
  items: ApiRecord[];
  nextCursor: string | null;
  totalItems?: number;
  facets?: Record<string, FacetCount[]>;
}

export interface WriteResult {
  record: ApiRecord;
  etag: string;
  /** `record` already serialised, when it was on the way. */
  json?: string;
}

/** A create's result: its record is always serialised (for the change log, the ETag and the body). */
export type CreateResult = WriteResult & { json: string };

const ALIAS = 'r';
export const MAX_LIMIT = 200;
export const DEFAULT_LIMIT = 20;

/** Told of a record deleted in `tx` (before it commits): may delete more in the same transaction. */
export type DeleteFollower = (tx: Transaction, deleted: ApiRecord, caller: Caller) => Promise<void>;

const byIdStatements = new WeakMap<CollectionDef, Partial<Record<Dialect, string>>>();

/**
 * A read by id with no rule condition: the same text every time, memoised per definition (a changed
 * collection is a new object). The driver's statement cache looks SQL up by its text, and a string
 * built anew for each request is hashed (and flattened) anew; this one is hashed once.
 */
function byIdSql(collection: CollectionDef, dialect: Dialect, idParam: string): string {
  let byDialect = byIdStatements.get(collection);
  if (!byDialect) byIdStatements.set(collection, (byDialect = {}));
  return (byDialect[dialect] ??= `SELECT ${selectColumns(collection, ALIAS)} FROM ${q(collection.name)} ${ALIAS} WHERE ${ALIAS}."id" = ${idParam}`);
}

export class RecordService {
  readonly idempotency: IdempotencyStore;

  /** Per collection: what else goes when one of its records is deleted (a user's account data). */
  private readonly deleteFollowers = new Map<string, DeleteFollower>();

  constructor(
    private readonly db: Database,
    private readonly collections: CollectionService,
    private readonly changes: ChangeLog,
    private readonly files: FileService,
    /** Told of every first-page search and how many results it found. */
    private readonly insights?: SearchInsights,
  ) {
    this.idempotency = new IdempotencyStore(db);
  }

  private readonly resolve = (name: string) => this.collections.get(name);

  /** A user-supplied filter, parsed; a parse error is 400 invalid_filter with the position. */
  private parseFilter(filter: string | undefined): Expr | undefined {
    if (filter === undefined || filter.trim() === '') return undefined;
    try {
      return parseCached(filter);
    } catch (err) {
      throw asInvalidFilter(err);
    }
  }

  /** A parsed filter as SQL; type errors become 400 invalid_filter with the position. */
  private filterSql(collection: CollectionDef, filter: Expr, caller: Caller, params: SqlParams): string {
    try {
      return compileFilterCached(filter, {
        collection, resolveCollection: this.resolve, dialect: params.dialect, params, alias: ALIAS, request: () => requestContext(caller),
      });
    } catch (err) {
      throw asInvalidFilter(err);
    }
  }

  private ruleSql(collection: CollectionDef, rule: RuleName, caller: Caller, params: SqlParams, body?: Record<string, unknown>): string | undefined {
    return accessSql(ruleAccess(collection, rule, caller), {
      collection, resolveCollection: this.resolve, params, alias: ALIAS, caller, body,
    });
  }

  private async fetchOne(db: Queryable, collection: CollectionDef, id: string, condition?: (p: SqlParams) => string | undefined, lock = false): Promise<ApiRecord | undefined> {
    const params = new SqlParams(db.dialect);
    const idParam = params.add(id);
    const extra = condition?.(params);
    const forUpdate = lock && db.dialect === 'postgres' ? ' FOR UPDATE' : '';
    const sql = extra || forUpdate
      ? `SELECT ${selectColumns(collection, ALIAS)} FROM ${q(collection.name)} ${ALIAS} WHERE ${ALIAS}."id" = ${idParam}${extra ? ` AND (${extra})` : ''}${forUpdate}`
      : byIdSql(collection, db.dialect, idParam);
    const row = await db.get(sql, params.values);
    return row ? recordFromSelect(collection, row, db.dialect) : undefined;
  }

  /** Whether a list (`list`) or record (`view`) read of `name` gives every caller the same answer. */
  isPublic(name: string, rule: 'list' | 'view', expand: string | undefined): boolean {
    const collection = this.collections.require(name);
    const tree = expand ? parseExpand(collection, expand, this.resolve) : undefined;
    return isPublicRead(collection, rule, tree, this.resolve);
  }

  /** Records of `collection` by id, as stored: no rule applied (for internal checks, such as realtime's rules). */
  async findByIds(collection: CollectionDef, ids: string[]): Promise<ApiRecord[]> {
    const out: ApiRecord[] = [];
    for (let i = 0; i < ids.length; i += 500) {
      const params = new SqlParams(this.db.dialect);
      const list = ids.slice(i, i + 500).map((id) => params.add(id)).join(', ');
      const rows = await this.db.all(`SELECT ${selectColumns(collection, ALIAS)} FROM ${q(collection.name)} ${ALIAS} WHERE ${ALIAS}."id" IN (${list})`, params.values);
      for (const row of rows) out.push(recordFromSelect(collection, row, this.db.dialect));
    }
    return out;
  }

  async get(caller: Caller, name: string, id: string, options: { expand?: string; fields?: string[] } = {}): Promise<WriteResult> {
    const collection = this.collections.require(name);
    checkFields(collection, options.fields);
    const tree = options.expand ? parseExpand(collection, options.expand, this.resolve) : undefined;
    const record = await this.fetchOne(this.db, collection, id, (p) => this.ruleSql(collection, 'view', caller, p));
    if (!record) throw ApiError.notFound('The record');
    const json = JSON.stringify(record);
    const etag = etagOfJson(json);
    const visible = visibleRecord(collection, record, caller);
    if (tree) await expandRecords(this.db, caller, collection, [visible], tree, this.resolve);
    if (options.fields) return { record: pickFields(visible, options.fields), etag };
    // The common case answers with the very JSON the ETag was computed from: serialised once.
    return { record: visible, etag, json: visible === record && !tree ? json : undefined };
  }

  /**
   * What a list matches — search, list rule, filter — as a FROM clause and conditions, built in the
   * order the SQL reads (SQLite placeholders are positional: the search condition comes first).
   */
  private matching(collection: CollectionDef, caller: Caller, filter: Expr | undefined, words: string[], params: SqlParams): Matching {
    const search = words.length > 0 ? searchSql(collection, words, ALIAS, params) : undefined;
    const where: string[] = search ? [search.where] : [];
    const rule = this.ruleSql(collection, 'list', caller, params);
    if (rule) where.push(`(${rule})`);
    if (filter) where.push(`(${this.filterSql(collection, filter, caller, params)})`);
    return { from: `${q(collection.name)} ${ALIAS}${search?.join ?? ''}`, where, search };
  }

  async list(caller: Caller, name: string, options: ListOptions = {}): Promise<ListResult> {
    return this.listOf(caller, this.collections.require(name), options);
  }

  /** A list over any table shaped like a collection's (the audit log uses it with its own definition). */
  async listOf(caller: Caller, collection: CollectionDef, options: ListOptions = {}): Promise<ListResult> {
    checkFields(collection, options.fields);
    const limit = options.limit ?? DEFAULT_LIMIT;
    const words = options.search === undefined ? [] : searchWords(options.search);
    const facets = options.facets === undefined ? [] : parseFacets(collection, options.facets);
    const filter = this.parseFilter(options.filter);
    // A search is ordered by relevance unless a sort is asked for.
    const ranked = words.length > 0 && (options.sort === undefined || options.sort.trim() === '');
    const keys = ranked ? [] : parseSort(collection, options.sort);
    const tree = options.expand ? parseExpand(collection, options.expand, this.resolve) : undefined;
    const params = new SqlParams(this.db.dialect);
    const { from, where, search } = this.matching(collection, caller, filter, words, params);
    // The count ignores the cursor: keep the conditions and values as they are before it is added.
    const countWhere = options.count ? [...where] : [];
    const countValues = options.count ? [...params.values] : [];
    if (options.cursor) where.push(ranked ? rankKeysetSql(search!, options.cursor, ALIAS, params) : keysetSql(keys, decodeCursor(keys, options.cursor), ALIAS, params));
    const sql = ranked
      ? rankedPageSql({
        table: q(collection.name), columns: selectColumns(collection, ALIAS), from, where, search: search!, alias: ALIAS, limit: params.add(limit + 1), dialect: params.dialect,
      })
      : `SELECT ${selectColumns(collection, ALIAS)} FROM ${from}` +
        (where.length ? ` WHERE ${where.join(' AND ')}` : '') +
        ` ORDER BY ${orderBySql(keys, ALIAS)} LIMIT ${params.add(limit + 1)}`;
    const rows = await this.db.all(sql, params.values);
    const more = rows.length > limit;
    const page = more ? rows.slice(0, limit) : rows;
    const lastScore = ranked && more ? Number(page[page.length - 1]!._score) : 0;
    // The score is not part of the record (rows may serve as records as they are).
    if (ranked) for (const row of page) delete row._score;
    const records = page.map((row) => recordFromSelect(collection, row, this.db.dialect));
    const last = records[records.length - 1];
    const nextCursor = !more ? null : ranked ? encodeRankCursor(lastScore, last!.id) : encodeCursor(keys, last!);
    const items = records.map((r) => visibleRecord(collection, r, caller));
    if (tree) await expandRecords(this.db, caller, collection, items, tree, this.resolve);
    const result: ListResult = { items: options.fields ? items.map((r) => pickFields(r, options.fields!)) : items, nextCursor };
    if (options.count) {
      const countSql = `SELECT COUNT(*) AS n FROM ${from}${countWhere.length ? ` WHERE ${countWhere.join(' AND ')}` : ''}`;
      const row = await this.db.get<{ n: number }>(countSql, countValues);
      result.totalItems = Number(row?.n ?? 0);
    }
    if (words.length > 0 && !options.cursor) this.insights?.record(collection.name, words, items.length);
    if (facets.length > 0) result.facets = await this.countFacets(collection, caller, filter, words, facets);
    return result;
  }

  /** Each facet counts the list's matches without its own filter terms: all of them in one query. */
  private async countFacets(collection: CollectionDef, caller: Caller, filter: Expr | undefined, words: string[], requests: FacetRequest[]): Promise<Record<string, FacetCount[]>> {
    const params = new SqlParams(this.db.dialect);
    const sql = facetsSql(
      requests, words.length > 0, filter, ALIAS, params,
      (term) => this.filterSql(collection, term, caller, params),
      (common) => this.matching(collection, caller, common, words, params),
    );
    return facetCountsOf(requests, await this.db.all(sql, params.values));
  }

  /** Denied writes: 401 for anonymous callers (credentials would help), 403 otherwise. */
  private denied(caller: Caller, action: string): ApiError {
    return caller.user ? new ApiError('forbidden', `the ${action} rule does not allow this`) : new ApiError('unauthenticated', `sign in to ${action} records here`);
  }

  private async checkRelations(db: Queryable, collection: CollectionDef, values: Record<string, unknown>): Promise<FieldError[]> {
    const errors: FieldError[] = [];
    for (const field of collection.fields) {
      if (field.type !== 'relation' || !(field.name in values)) continue;
      const raw = values[field.name];
      const ids = Array.isArray(raw) ? (raw as string[]) : typeof raw === 'string' ? [raw] : [];
      if (ids.length === 0) continue;
      const params = new SqlParams(db.dialect);
      const rows = await db.all<{ id: string }>(`SELECT "id" FROM ${q(field.collection!)} WHERE "id" IN (${ids.map((id) => params.add(id)).join(', ')})`, params.values);
      const found = new Set(rows.map((r) => r.id));
      const missing = ids.filter((id) => !found.has(id));
      if (missing.length) errors.push({ field: field.name, code: 'not_found', message: `no ${field.collection} record with id ${missing.join(', ')}` });
    }
    return errors;
  }

  private uniqueConflict(err: UniqueViolationError): ApiError {
    const fields = err.columns.length ? err.columns : ['id'];
    return new ApiError('conflict', `a record with the same ${fields.join(', ')} exists`, fields.map((f) => ({ field: f, code: 'not_unique', message: 'must be unique' })));
  }

  /**
   * Refuses a write the caller's rules can never allow, before any upload is stored for it (the
   * full rule check runs in the write itself).
   */
  checkMayWrite(caller: Caller, name: string, rule: 'create' | 'update'): void {
    const collection = this.collections.require(name);
    if (ruleAccess(collection, rule, caller) === 'none') throw this.denied(caller, rule);
  }

  /**
   * Creates a record inside `tx` (batch uses this directly); `uploads` are already in storage.
   * `sole`: this create is all its transaction writes (not one operation of a batch), so its INSERT
   * need not wait for its answer — a refused insert means the same wherever it surfaces.
   */
  async createIn(tx: Transaction, caller: Caller, name: string, body: Record<string, unknown>, uploads: readonly StoredUpload[] = [], sole = false): Promise<CreateResult> {
    const collection = this.collections.require(name);
    const access = ruleAccess(collection, 'create', caller);
    if (access === 'none') throw this.denied(caller, 'create');
    if (collection.system) throw new ApiError('forbidden', 'accounts are created through /api/v1/auth');
    const { values, errors } = validateRecordBody(collection, body, false, { skipFiles: true });
    errors.push(...(await this.checkRelations(tx, collection, values)));
    const files = this.files.plan(collection, body, undefined, uploads);
    errors.push(...files.errors);
    Object.assign(values, files.values);
    if (errors.length) throw ApiError.validation(errors);
    const now = new Date().toISOString();
    const id = (values.id as string | undefined) ?? newRecordId();
    const params = new SqlParams(tx.dialect);
    const columns = ['"id"', '"created"', '"updated"'];
    const placeholders = [params.add(id), params.add(now), params.add(now)];
    for (const field of collection.fields) {
      columns.push(q(field.name));
      placeholders.push(params.add(encodeValue(field, values[field.name], tx.dialect)));
    }
    const insert = `INSERT INTO ${q(collection.name)} (${columns.join(', ')}) VALUES (${placeholders.join(', ')})`;
    const conflict = (err: unknown) => (err instanceof UniqueViolationError ? this.uniqueConflict(err) : err);
    // Nothing below needs the INSERT's answer: on PostgreSQL it goes out with the next statement
    // (with COMMIT, when nothing else follows), one round trip less.
    if (sole) tx.runDeferred(insert, params.values, conflict);
    else {
      try {
        await tx.run(insert, params.values);
      } catch (err) {
        throw conflict(err);
      }
    }
    if (access !== 'all') {
      // The rule sees the record as it would be stored (relations followed by SQL): checked inside
      // the transaction, so a denied create is rolled back.
      const allowed = await this.fetchOne(tx, collection, id, (p) => this.ruleSql(collection, 'create', caller, p, body));
      if (!allowed) throw this.denied(caller, 'create');
    }
    await this.files.writeIn(tx, collection, id, caller, files);
    const record: ApiRecord = { id, created: now, updated: now };
    for (const field of collection.fields) record[field.name] = values[field.name] ?? (isMultiValue(field) ? [] : null);
    // Serialised once: the change log, the ETag and the response body all use the same JSON.
    const json = JSON.stringify(record);
    this.changes.append(tx, collection.name, 'create', record, json);
    return { record, etag: etagOfJson(json), json };
  }

  /** `staged`: uploaded files (multipart or tus), stored before the transaction and removed if it fails. */
  async create(caller: Caller, name: string, body: Record<string, unknown>, staged: readonly StagedFile[] = []): Promise<CreateResult> {
    return this.withStoredFiles(name, staged, (uploads) => this.db.transaction((tx) => this.createIn(tx, caller, name, body, uploads, true)));
  }

  private async withStoredFiles<T>(name: string, staged: readonly StagedFile[], write: (uploads: StoredUpload[]) => Promise<T>): Promise<T> {
    if (staged.length === 0) return write([]);
    const uploads = await this.files.store(this.collections.require(name), staged);
    try {
      return await write(uploads);
    } catch (err) {
      await this.files.discard(uploads);
      throw err;
    }
  }

  /**
   * A create under an Idempotency-Key: the response `respond` makes is stored with the record, in one
   * transaction, and replayed for a retry with the same body.
   */
  async createIdempotent(
    caller: Caller,
    name: string,
    body: Record<string, unknown>,
    key: { scope: string; key: string },
    respond: (result: CreateResult) => StoredResponse,
  ): Promise<{ response: StoredResponse; replayed: boolean }> {
    const hash = requestHash('POST', name, body);
    const earlier = await this.idempotency.find(key.scope, key.key, hash);
    if (earlier) return { response: earlier, replayed: true };
    try {
      const response = await this.db.transaction(async (tx) => {
        const response = respond(await this.createIn(tx, caller, name, body, [], true));
        await this.idempotency.saveIn(tx, key.scope, key.key, hash, response);
        return response;
      });
      return { response, replayed: false };
    } catch (err) {
      // Only the idempotency insert can still raise this (record conflicts became ApiErrors): a
      // concurrent request with the same key won; answer with its response.
      if (err instanceof UniqueViolationError) {
        const winner = await this.idempotency.find(key.scope, key.key, hash);
        if (winner) return { response: winner, replayed: true };
      }
      throw err;
    }
  }

  /**
   * Loads (and on PostgreSQL locks) the record a write targets, telling 404 (cannot see it) from 403
   * (sees it, rule denies), and 412 when `If-Match` no longer matches it.
   */
  private async writable(
    tx: Queryable,
    caller: Caller,
    collection: CollectionDef,
    id: string,
    rule: 'update' | 'delete',
    ifMatch: string | undefined,
    body?: Record<string, unknown>,
  ): Promise<ApiRecord> {
    const access = ruleAccess(collection, rule, caller);
    const record = access === 'none' ? undefined : await this.fetchOne(tx, collection, id, (p) => this.ruleSql(collection, rule, caller, p, body), true);
    if (record) {
      if (ifMatch !== undefined && !etagMatches(ifMatch, recordEtag(record))) {
        throw new ApiError('precondition_failed', 'the record changed since it was read (If-Match does not match its ETag)');
      }
      return record;
    }
    const visible = await this.fetchOne(tx, collection, id, (p) => this.ruleSql(collection, 'view', caller, p));
    if (!visible) throw ApiError.notFound('The record');
    throw this.denied(caller, rule);
  }

  async updateIn(
    tx: Transaction,
    caller: Caller,
    name: string,
    id: string,
    body: Record<string, unknown>,
    ifMatch?: string,
    uploads: readonly StoredUpload[] = [],
  ): Promise<WriteResult> {
    const collection = this.collections.require(name);
    const existing = await this.writable(tx, caller, collection, id, 'update', ifMatch, body);
    const { values, errors } = validateRecordBody(collection, body, true, { skipFiles: true });
    errors.push(...(await this.checkRelations(tx, collection, values)));
    const files = this.files.plan(collection, body, existing, uploads);
    errors.push(...files.errors);
    Object.assign(values, files.values);
    if (errors.length) throw ApiError.validation(errors);
    const now = new Date().toISOString();
    const params = new SqlParams(tx.dialect);
    const sets = [`"updated" = ${params.add(now)}`];
    for (const field of collection.fields) {
      if (field.name in values) sets.push(`${q(field.name)} = ${params.add(encodeValue(field, values[field.name], tx.dialect))}`);
    }
    try {
      await tx.run(`UPDATE ${q(collection.name)} SET ${sets.join(', ')} WHERE "id" = ${params.add(id)}`, params.values);
    } catch (err) {
      if (err instanceof UniqueViolationError) throw this.uniqueConflict(err);
      throw err;
    }
    await this.files.writeIn(tx, collection, id, caller, files);
    const record: ApiRecord = { ...existing, ...values, updated: now };
    this.changes.append(tx, collection.name, 'update', record);
    return { record: visibleRecord(collection, record, caller), etag: recordEtag(record) };
  }

  async update(caller: Caller, name: string, id: string, body: Record<string, unknown>, options: { ifMatch?: string; staged?: readonly StagedFile[] } = {}): Promise<WriteResult> {
    return this.withStoredFiles(name, options.staged ?? [], (uploads) =>
      this.db.transaction((tx) => this.updateIn(tx, caller, name, id, body, options.ifMatch, uploads)),
    );
  }

  async deleteIn(tx: Transaction, caller: Caller, name: string, id: string, ifMatch?: string): Promise<void> {
    const collection = this.collections.require(name);
    const existing = await this.writable(tx, caller, collection, id, 'delete', ifMatch);
    const params = new SqlParams(tx.dialect);
    await tx.run(`DELETE FROM ${q(collection.name)} WHERE "id" = ${params.add(id)}`, params.values);
    await this.files.deletedIn(tx, collection, id);
    await this.deleteFollowers.get(collection.name)?.(tx, existing, caller);
    this.changes.append(tx, collection.name, 'delete', existing);
  }

  /** `follower` runs inside every transaction that deletes a record of `collection`. */
  followDeletes(collection: string, follower: DeleteFollower): void {
    this.deleteFollowers.set(collection, follower);
  }

  async delete(caller: Caller, name: string, id: string, options: { ifMatch?: string } = {}): Promise<void> {
    await this.db.transaction((tx) => this.deleteIn(tx, caller, name, id, options.ifMatch));
  }
}

/**
 * Whether an `If-Match` / `If-None-Match` header (`*` or a list of ETags) names `etag`. Tags compare
 * by value, weak or strong alike: a record's tag changes with every stored change either way.
 */
export function etagMatches(header: string, etag: string): boolean {
  if (header.trim() === '*') return true;
  const value = etag.replace(/^W\//, '');
  return header.split(',').some((t) => t.trim().replace(/^W\//, '') === value);
}

function asInvalidFilter(err: unknown): unknown {
  return err instanceof ExprError ? new ApiError('invalid_filter', `filter: ${err.message}`, undefined, { position: err.position }) : err;
}

/** `fields=` must name fields of the collection (or `expand`): a typo is a 400, not a silently empty record. */
function checkFields(collection: CollectionDef, fields: string[] | undefined): void {
  const unknown = fields?.find((f) => f !== 'expand' && !(collection.system && f === 'email') && !findField(collection, f));
  if (unknown !== undefined) throw new ApiError('bad_request', `fields: "${unknown.slice(0, 100)}" is not a field of ${collection.name}`);
}

function pickFields(record: ApiRecord, fields: string[]): ApiRecord {
  const out: Record<string, unknown> = {};
  for (const f of fields) if (f in record) out[f] = record[f];
  if (record.expand !== undefined) out.expand = record.expand;
  return out as ApiRecord;
}
