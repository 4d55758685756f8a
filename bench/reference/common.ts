// The reference servers' shared HTTP surface: the same paths, query parameters and JSON as Galley's
// records API for one fixed `posts` collection, with the SQL left to a PostStore (SQLite or pg);
// plus `GET /bare`, a fixed JSON answer: the floor of Fastify itself.

import crypto from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { CATEGORIES as POST_CATEGORIES, STATUSES as POST_STATUSES } from '../lib/data.ts';

export interface PostRow {
  id: string;
  created: string;
  updated: string;
  title: string | null;
  body: string | null;
  status: string | null;
  price: number | null;
  category: string | null;
  featured: boolean | null;
}

/** The stored columns of a record as the API returns it (to load the reference with Galley's rows). */
export function postRowOf(record: PostRow): PostRow {
  const { id, created, updated, title, body, status, price, category, featured } = record;
  return { id, created, updated, title, body, status, price, category, featured };
}

export interface ListQuery {
  status: string;
  limit: number;
  /** Keyset position: rows strictly after (created, id) in `created DESC, id DESC` order. */
  after?: { created: string; id: string };
}

/** A full-text search: every word, the last one as a prefix, plus the benchmark's filter terms. */
export interface SearchQuery {
  words: string[];
  status?: string;
  priceBelow?: number;
}

/** A search result row with its relevance (higher is better). */
export type RankedRow = PostRow & { score: number };

export const FACET_FIELDS = ['status', 'category', 'featured'] as const;
export type FacetField = (typeof FACET_FIELDS)[number];

export interface FacetCount {
  value: string | boolean;
  count: number;
}

export interface PostStore {
  get(id: string): Promise<PostRow | undefined>;
  /** Up to `limit + 1` rows, so the caller knows whether there is a next page. */
  list(query: ListQuery): Promise<PostRow[]>;
  /** Up to `limit + 1` rows by relevance, ties by id. */
  search(query: SearchQuery, limit: number): Promise<RankedRow[]>;
  /** Counts per value of `field` over the matching rows, most frequent first, then by value; at most 100. */
  facet(field: FacetField, query: SearchQuery): Promise<FacetCount[]>;
  insert(row: PostRow): Promise<void>;
  close(): Promise<void>;
}

export const COLUMNS = 'id, created, updated, title, body, status, price, category, featured';
const STATUSES = new Set<string>(POST_STATUSES);
const CATEGORIES = new Set<string>(POST_CATEGORIES);
/** What Galley keeps as words of a search text (core/record-search.ts): the rest only separates them. */
const WORD = /[\p{L}\p{N}\p{Co}\p{M}]+/gu;
/** The benchmark's filters: a status, optionally with a price bound. */
const FILTER = /^status = '([a-z]+)'(?: && price < (\d+))?$/;
const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
const BASE = '/api/v1/collections/posts/records';

function problem(reply: FastifyReply, status: number, code: string, detail: string) {
  return reply.code(status).type('application/problem+json').send({ type: 'about:blank', status, code, detail });
}

export function newId(): string {
  const bytes = crypto.randomBytes(15);
  let id = '';
  for (const b of bytes) id += ID_ALPHABET[b % ID_ALPHABET.length];
  return id;
}

const encodeCursor = (row: PostRow) => Buffer.from(JSON.stringify([row.created, row.id])).toString('base64url');

function decodeCursor(cursor: string): { created: string; id: string } | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && typeof value[1] === 'string') {
      return { created: value[0], id: value[1] };
    }
  } catch {
    // fall through
  }
  return undefined;
}

/** Title required, ≤ 200 characters; the other fields optional but typed: the same schema as Galley's. */
function validate(body: unknown): Omit<PostRow, 'id' | 'created' | 'updated'> | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const { title, body: text, status, price, category, featured } = body as Record<string, unknown>;
  if (typeof title !== 'string' || title.length === 0 || title.length > 200) return undefined;
  if (text !== undefined && text !== null && typeof text !== 'string') return undefined;
  if (status !== undefined && status !== null && (typeof status !== 'string' || !STATUSES.has(status))) return undefined;
  if (price !== undefined && price !== null && (typeof price !== 'number' || !Number.isFinite(price) || price < 0)) return undefined;
  if (category !== undefined && category !== null && (typeof category !== 'string' || !CATEGORIES.has(category))) return undefined;
  if (featured !== undefined && featured !== null && typeof featured !== 'boolean') return undefined;
  return {
    title,
    body: (text as string | undefined) ?? null,
    status: (status as string | undefined) ?? null,
    price: (price as number | undefined) ?? null,
    category: (category as string | undefined) ?? null,
    featured: (featured as boolean | undefined) ?? null,
  };
}

/** What `GET /bare` answers: a small fixed object, serialised by Fastify like any route's answer. */
const BARE_ANSWER = { status: 'ok', service: 'reference', version: 1 };

/**
 * `?search=…[&filter=status = '…'[ && price < N]][&facets=status,category,featured]`, ranked (no sort):
 * the page, then one count per facet, each leaving out its own filter term (only `status` has one).
 */
async function searchPage(store: PostStore, query: Record<string, string | undefined>, reply: FastifyReply) {
  const { search = '', filter, sort, limit: rawLimit = '20', cursor, facets } = query;
  const words = search.match(WORD) ?? [];
  const match = filter === undefined ? undefined : FILTER.exec(filter);
  const fields = facets === undefined ? [] : facets.split(',');
  const limit = Number(rawLimit);
  if (words.length === 0 || match === null || sort !== undefined || cursor !== undefined || !Number.isInteger(limit) || limit < 1 || limit > 200 ||
      fields.some((f) => !(FACET_FIELDS as readonly string[]).includes(f))) {
    return problem(reply, 400, 'bad_request', `the reference searches words with filter=status = '…'[ && price < N], facets of ${FACET_FIELDS.join(', ')}, no sort or cursor`);
  }
  const searched: SearchQuery = { words, status: match?.[1], priceBelow: match?.[2] === undefined ? undefined : Number(match[2]) };
  const rows = await store.search(searched, limit);
  const more = rows.length > limit;
  const items: PostRow[] = rows.slice(0, limit).map(({ score: _, ...row }) => row);
  const nextCursor = more ? Buffer.from(JSON.stringify([rows[limit - 1]!.score, items[limit - 1]!.id])).toString('base64url') : null;
  if (fields.length === 0) return { items, nextCursor };
  const counts: Record<string, FacetCount[]> = {};
  for (const field of fields as FacetField[]) counts[field] = await store.facet(field, field === 'status' ? { ...searched, status: undefined } : searched);
  return { items, nextCursor, facets: counts };
}

export function buildReferenceServer(store: PostStore): FastifyInstance {
  const app = Fastify({ logger: false });
  app.get('/health', async () => ({ status: 'ok' }));

  app.get<{ Params: { id: string } }>(`${BASE}/:id`, async (request, reply) => {
    const row = await store.get(request.params.id);
    return row ?? problem(reply, 404, 'not_found', 'The record was not found');
  });

  app.get('/bare', async () => BARE_ANSWER);

  app.get<{ Querystring: Record<string, string | undefined> }>(BASE, async (request, reply) => {
    if (request.query.search !== undefined) return searchPage(store, request.query, reply);
    const { filter = '', sort = '-created', limit: rawLimit = '20', cursor } = request.query;
    const match = /^status = '([a-z]+)'$/.exec(filter);
    const limit = Number(rawLimit);
    if (!match || sort !== '-created' || !Number.isInteger(limit) || limit < 1 || limit > 200) {
      return problem(reply, 400, 'bad_request', "the reference supports filter=status = '…', sort=-created and limit 1–200 only");
    }
    const after = cursor ? decodeCursor(cursor) : undefined;
    if (cursor && !after) return problem(reply, 400, 'bad_request', 'bad cursor');
    const rows = await store.list({ status: match[1]!, limit, after });
    const items = rows.slice(0, limit);
    return { items, nextCursor: rows.length > limit ? encodeCursor(items[limit - 1]!) : null };
  });

  app.post(BASE, async (request, reply) => {
    const fields = validate(request.body);
    if (!fields) return problem(reply, 400, 'validation_failed', 'title must be a string of at most 200 characters');
    const now = new Date().toISOString();
    const row: PostRow = { id: newId(), created: now, updated: now, ...fields };
    await store.insert(row);
    return reply.code(201).send(row);
  });
  return app;
}

/** Listens on 127.0.0.1:--port until SIGTERM/SIGINT (bench/lib/watchdog.ts sends one if the benchmark dies). */
export async function serveReference(store: PostStore, argv: readonly string[]): Promise<void> {
  const portIndex = argv.indexOf('--port');
  const port = Number(portIndex >= 0 ? argv[portIndex + 1] : NaN);
  if (!Number.isInteger(port) || port <= 0) throw new Error('usage: … --port N');
  const app = buildReferenceServer(store);
  await app.listen({ port, host: '127.0.0.1' });
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    app.close().then(() => store.close()).finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
