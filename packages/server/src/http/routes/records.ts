// /api/v1/collections/:name/records: list, get, create, update and delete records, with ETags
// (If-None-Match → 304, If-Match → 412), Location on create, and Idempotency-Key replays.

import crypto from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../../core/api-error.ts';
import { IDEMPOTENCY_KEY_PATTERN } from '../../core/idempotency.ts';
import { DEFAULT_LIMIT, etagMatches, MAX_LIMIT, type ListOptions, type RecordService } from '../../core/records.ts';
import { RECORD_ID_PATTERN } from '../../core/record-validation.ts';
import { etagOfJson } from '../../core/record-rows.ts';
import type { CachedRead, ReadCache } from '../../core/read-cache.ts';
import { removeStaged } from '../../core/file-staging.ts';
import type { CollectionService } from '../../core/collections.ts';
import { takeUploadRefs, type UploadService } from '../../core/uploads.ts';
import { readMultipart, registerMultipart, type MultipartBody } from '../multipart.ts';

type Params = { name: string; id: string };
const LIST_PARAMS = new Set(['filter', 'sort', 'limit', 'cursor', 'fields', 'expand', 'count', 'search', 'facets']);
const GET_PARAMS = new Set(['fields', 'expand']);

export function requireObjectBody(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ApiError('bad_request', 'the body must be a JSON object');
  return body as Record<string, unknown>;
}

function singleValues(query: unknown, allowed: Set<string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(query as Record<string, unknown>)) {
    if (!allowed.has(key)) throw new ApiError('bad_request', `unknown query parameter "${key.slice(0, 100)}"`);
    if (typeof value !== 'string') throw new ApiError('bad_request', `query parameter "${key}" is given more than once`);
    if (value.length > 8192) throw new ApiError('bad_request', `query parameter "${key}" is too long`);
    out[key] = value;
  }
  return out;
}

function parseFields(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const fields = value.split(',').map((f) => f.trim()).filter(Boolean);
  if (fields.length === 0) throw new ApiError('bad_request', 'fields: name at least one field');
  return fields;
}

export function parseListQuery(query: unknown): ListOptions {
  const q = singleValues(query, LIST_PARAMS);
  let limit = DEFAULT_LIMIT;
  if (q.limit !== undefined) {
    limit = Number(q.limit);
    if (!/^\d{1,3}$/.test(q.limit) || limit < 1 || limit > MAX_LIMIT) throw new ApiError('bad_request', `limit must be an integer from 1 to ${MAX_LIMIT}`);
  }
  if (q.count !== undefined && q.count !== 'true' && q.count !== 'false') throw new ApiError('bad_request', 'count must be true or false');
  return { filter: q.filter, sort: q.sort, limit, cursor: q.cursor || undefined, fields: parseFields(q.fields), expand: q.expand, count: q.count === 'true', search: q.search, facets: q.facets };
}

function checkId(id: string): void {
  if (!RECORD_ID_PATTERN.test(id)) throw ApiError.notFound('The record');
}

const weakEtag = (body: string) => `W/"${crypto.hash('sha1', body, 'base64url').slice(0, 22)}"`;

/**
 * A GET answer with its validator. Public reads (the same for every caller) may be stored by shared
 * caches; others only by the caller's own. Either way clients revalidate (`no-cache`): a cached copy
 * is never served stale, and revalidating costs a 304.
 */
function sendJson(request: FastifyRequest, reply: FastifyReply, body: string, etag: string, shared: boolean): FastifyReply {
  reply.header('etag', etag);
  reply.header('cache-control', shared ? 'public, no-cache' : 'private, no-cache');
  const inm = request.headers['if-none-match'];
  if (inm !== undefined && etagMatches(inm, etag)) {
    return reply.code(304).send();
  }
  return reply.type('application/json; charset=utf-8').send(body);
}

export interface RecordRouteDeps {
  records: RecordService;
  cache: ReadCache;
  /** Bumped when any collection changes: part of every cache key, so no answer outlives its definition. */
  collectionsVersion: () => number;
  collections: CollectionService;
  uploads: UploadService;
  /** Where multipart files are staged while they stream in. */
  stagingDir: string;
  bodyLimit: number;
}

export async function recordRoutes(app: FastifyInstance, deps: RecordRouteDeps): Promise<void> {
  const { records, cache } = deps;
  const base = '/api/v1/collections/:name/records';

  /**
   * The body of a write and its files: a multipart body's file parts, and the finished resumable
   * uploads named by `{"upload": id}` values, all staged (only once the rule could allow the write).
   */
  async function writeBody(request: FastifyRequest<{ Params: Params }>, rule: 'create' | 'update'): Promise<MultipartBody & { uploadIds: string[] }> {
    const collection = deps.collections.require(request.params.name);
    const multipart = request.isMultipart();
    if (multipart) records.checkMayWrite(request.caller, collection.name, rule);
    const { body, staged } = multipart ? await readMultipart(request, collection, deps.stagingDir) : { body: requireObjectBody(request.body), staged: [] };
    try {
      const { refs, errors } = takeUploadRefs(collection, body);
      if (errors.length) throw ApiError.validation(errors);
      if (refs.length) records.checkMayWrite(request.caller, collection.name, rule);
      staged.push(...(await deps.uploads.stage(request.caller, refs)));
      return { body, staged, uploadIds: refs.map((r) => r.id) };
    } catch (err) {
      await removeStaged(staged);
      throw err;
    }
  }

  /**
   * Serves a public read from the cache, or computes it with `read` and keeps it. Searches are
   * always computed: each one is counted for the search insights.
   */
  async function cachedRead(request: FastifyRequest, reply: FastifyReply, shared: boolean, read: () => Promise<CachedRead>): Promise<FastifyReply> {
    if (!shared || !cache.enabled) {
      const { body, etag } = await read();
      return sendJson(request, reply, body, etag, shared);
    }
    const key = `${deps.collectionsVersion()}\n${request.url}`;
    const hit = cache.get(key);
    if (hit) return sendJson(request, reply, hit.body, hit.etag, true);
    const generation = cache.generation;
    const fresh = await read();
    cache.set(key, fresh, generation);
    return sendJson(request, reply, fresh.body, fresh.etag, true);
  }

  app.get<{ Params: Params }>(base, async (request, reply) => {
    const options = parseListQuery(request.query);
    const shared = records.isPublic(request.params.name, 'list', options.expand);
    return cachedRead(request, reply, shared && options.search === undefined, async () => {
      const body = JSON.stringify(await records.list(request.caller, request.params.name, options));
      return { body, etag: weakEtag(body) };
    });
  });

  app.get<{ Params: Params }>(`${base}/:id`, async (request, reply) => {
    checkId(request.params.id);
    const q = singleValues(request.query, GET_PARAMS);
    const shared = records.isPublic(request.params.name, 'view', q.expand);
    return cachedRead(request, reply, shared, async () => {
      const { record, etag, json } = await records.get(request.caller, request.params.name, request.params.id, { expand: q.expand, fields: parseFields(q.fields) });
      const body = json ?? JSON.stringify(record);
      // An expanded body also depends on the related records: its validator is the body's own.
      return { body, etag: q.expand ? weakEtag(body) : etag };
    });
  });

  // Multipart bodies are for writes only: its hooks (an async onRequest that listens for the
  // socket closing, an async onResponse that cleans up) would otherwise run on every read too.
  await app.register(async (writes: FastifyInstance) => {
    await registerMultipart(writes, deps.bodyLimit);

    writes.post<{ Params: Params }>(base, async (request, reply) => {
      const name = request.params.name;
      const location = (id: string) => `/api/v1/collections/${name}/records/${id}`;
      const key = request.headers['idempotency-key'];
      const filesRefused = () => new ApiError('bad_request', 'Idempotency-Key is for bodies without files; a tus upload already resumes safely');
      if (key !== undefined && request.isMultipart()) throw filesRefused();
      const { body, staged, uploadIds } = await writeBody(request, 'create');
      if (key !== undefined && staged.length) {
        await removeStaged(staged);
        throw filesRefused();
      }
      if (key === undefined) {
        try {
          const { record, etag, json } = await records.create(request.caller, name, body, staged);
          // Attached: the resumable uploads have served their purpose.
          await deps.uploads.remove(uploadIds);
          return reply.code(201).header('location', location(record.id)).header('etag', etag).type('application/json; charset=utf-8').send(json);
        } finally {
          await removeStaged(staged);
        }
      }
      if (typeof key !== 'string' || !IDEMPOTENCY_KEY_PATTERN.test(key)) throw new ApiError('bad_request', 'Idempotency-Key must be 1–255 visible ASCII characters');
      // Keys are scoped to the caller: one client cannot replay (or block) another's.
      const scope = `${request.caller.user?.id ?? `anon:${request.ip}`}:${name}`;
      const { response, replayed } = await records.createIdempotent(request.caller, name, body, { scope, key }, ({ record, json }) => ({
        status: 201, body: json, location: location(record.id),
      }));
      if (replayed) reply.header('idempotent-replayed', 'true');
      // The stored body is the record's JSON as created, so its validator is the record's own.
      reply.header('etag', etagOfJson(response.body));
      if (response.location) reply.header('location', response.location);
      return reply.code(response.status).type('application/json; charset=utf-8').send(response.body);
    });

    writes.patch<{ Params: Params }>(`${base}/:id`, async (request, reply) => {
      checkId(request.params.id);
      const ifMatch = request.headers['if-match'];
      const { body, staged, uploadIds } = await writeBody(request, 'update');
      try {
        const { record, etag } = await records.update(request.caller, request.params.name, request.params.id, body, { ifMatch, staged });
        await deps.uploads.remove(uploadIds);
        return reply.header('etag', etag).type('application/json; charset=utf-8').send(JSON.stringify(record));
      } finally {
        await removeStaged(staged);
      }
    });

    writes.delete<{ Params: Params }>(`${base}/:id`, async (request, reply) => {
      checkId(request.params.id);
      await records.delete(request.caller, request.params.name, request.params.id, { ifMatch: request.headers['if-match'] });
      return reply.code(204).send();
    });
  });
}
