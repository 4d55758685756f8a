// The measured scenarios — GET by id, list page 1, the same list deep in the cursor chain, a search,
// a search with filter and facets, POST create; then, against Galley with its read cache on, the
// list served from the cache and a 304 revalidation — each prepared per server and probed once
// (status, shape, the same records and counts from both servers) before it is measured.

import type { FacetCount, PostRow } from '../reference/common.ts';
import { makePost, prng, SEARCH_WORDS } from './data.ts';
import { requestJson } from './http.ts';
import type { LoadSpec } from './load.ts';

export type ScenarioName = 'get' | 'list' | 'deep' | 'search' | 'facets' | 'create' | 'cached' | 'revalidate';

export interface ScenarioInfo {
  name: ScenarioName;
  label: string;
  /** Galley ÷ reference req/s must reach this. */
  target: number;
  /** What the "ref" figures of this row are, when not the reference server doing the same request. */
  comparedTo?: string;
  /** Measured against Galley restarted with its public read cache on, after the other scenarios. */
  cacheOn?: boolean;
}

export const SCENARIOS: readonly ScenarioInfo[] = [
  { name: 'get', label: 'GET by id', target: 0.7 },
  { name: 'list', label: 'list page 1', target: 0.7 },
  { name: 'deep', label: 'list page 1,000', target: 0.7 },
  { name: 'search', label: 'search, one word', target: 0.7 },
  { name: 'facets', label: 'search + filter + 3 facets', target: 0.5 },
  // Creates add rows to both servers (not the same ids): every scenario comparing records comes first.
  { name: 'create', label: 'POST create', target: 0.5 },
  { name: 'cached', label: 'list page 1, cached', target: 2, comparedTo: 'Galley list page 1 uncached', cacheOn: true },
  { name: 'revalidate', label: 'list page 1 revalidated (304)', target: 0.5, comparedTo: 'bare Fastify JSON route', cacheOn: true },
];

/** Every scenario's p99 at the default 50 connections must stay under this (Galley's side). */
export const P99_BUDGET_MS = 50;

export const DEEP_PAGE = 1000;
/** Page 1,000 must be served at ≥ 0.9 × the req/s of page 1. */
export const DEEP_PAGE_TARGET = 0.9;
const RECORDS = '/api/v1/collections/posts/records';
export const LIST_PATH = `${RECORDS}?filter=${encodeURIComponent("status = 'published'")}&sort=-created&limit=20`;
const ID_SAMPLE = 1000;
export const SEARCH_FILTER = "status = 'published' && price < 500";
export const SEARCH_FACETS = 'status,category,featured';
/** The reference's floor: Fastify answering a fixed JSON object. */
export const BARE_PATH = '/bare';

export type Request = Pick<LoadSpec, 'method' | 'paths' | 'body' | 'headers' | 'expectStatus'>;
interface Page {
  items: PostRow[];
  nextCursor: string | null;
  facets?: Record<string, FacetCount[]>;
}

/** Up to 1,000 ids spread over the whole data set (the same for both servers). */
export function sampleIds(rows: readonly PostRow[]): string[] {
  const random = prng(7);
  const count = Math.min(ID_SAMPLE, rows.length);
  return Array.from({ length: count }, (_, i) => {
    const stride = rows.length / count;
    return rows[Math.floor(i * stride + random() * stride)]!.id;
  });
}

export function getRequest(ids: readonly string[]): Request {
  return { method: 'GET', paths: ids.map((id) => `${RECORDS}/${id}`) };
}

export function listRequest(cursor?: string): Request {
  return { method: 'GET', paths: [cursor ? `${LIST_PATH}&cursor=${encodeURIComponent(cursor)}` : LIST_PATH] };
}

/** One word per request, the words taken in turn: each found in roughly 1 % of the posts. */
export function searchRequest(): Request {
  return { method: 'GET', paths: SEARCH_WORDS.map((w) => `${RECORDS}?search=${w}`) };
}

export function facetsRequest(): Request {
  const rest = `&filter=${encodeURIComponent(SEARCH_FILTER)}&facets=${SEARCH_FACETS}`;
  return { method: 'GET', paths: SEARCH_WORDS.map((w) => `${RECORDS}?search=${w}${rest}`) };
}

/** The list of page 1 revalidated with the ETag it was served with: every answer a 304. */
export function revalidateRequest(etag: string): Request {
  return { method: 'GET', paths: [LIST_PATH], headers: { 'if-none-match': etag }, expectStatus: 304 };
}

export function bareRequest(): Request {
  return { method: 'GET', paths: [BARE_PATH] };
}

export function createRequest(label: string): Request {
  const random = prng(99);
  let n = 0;
  return { method: 'POST', paths: [RECORDS], body: () => JSON.stringify(makePost(random, `${label}-${++n}`)) };
}

/** Follows nextCursor from page 1 towards `page`; returns the deepest full page reached and its cursor. */
export async function findDeepCursor(baseUrl: string, page: number): Promise<{ page: number; cursor: string } | undefined> {
  let cursor: string | null = null;
  let deepest: { page: number; cursor: string } | undefined;
  for (let current = 1; current <= page; current++) {
    const res: Page = await requestJson<Page>(baseUrl + listRequest(cursor ?? undefined).paths[0]);
    if (cursor && res.items.length === 20) deepest = { page: current, cursor };
    if (!res.nextCursor) break;
    cursor = res.nextCursor;
  }
  return deepest;
}

/** One request of the scenario, checked: right status, right shape. Returns a comparable summary. */
export async function probe(baseUrl: string, request: Request): Promise<string> {
  const path = request.paths[0]!;
  if (request.expectStatus === 304) return probeRevalidation(baseUrl, request);
  if (request.method === 'POST') {
    const record = await requestJson<PostRow>(baseUrl + path, { method: 'POST', body: JSON.parse(request.body!()), expect: 201 });
    if (typeof record.id !== 'string' || typeof record.created !== 'string') throw new Error(`POST ${path}: no id/created in the response`);
    return 'created';
  }
  if (path === BARE_PATH) {
    const answer = await requestJson<unknown>(baseUrl + path);
    if (typeof answer !== 'object' || answer === null) throw new Error(`GET ${path}: not a JSON object`);
    return 'bare';
  }
  if (path.includes('search=')) {
    const pages: string[] = [];
    for (const each of request.paths) pages.push(await probeSearch(baseUrl, each));
    return pages.join('\n');
  }
  if (path.includes('?')) {
    const page = await requestJson<Page>(baseUrl + path);
    if (!Array.isArray(page.items) || page.items.length !== 20) throw new Error(`GET ${path}: expected 20 items, got ${page.items?.length}`);
    if (page.items.some((r) => r.status !== 'published')) throw new Error(`GET ${path}: an item is not published`);
    return page.items.map((r) => r.id).join(',');
  }
  const record = await requestJson<PostRow>(baseUrl + path);
  return JSON.stringify([record.id, record.created, record.updated, record.title, record.body, record.status, record.price, record.category, record.featured]);
}

/** A search page: some items, each passing the filter; the facets asked for. Summarised as its ids in order and its counts. */
async function probeSearch(baseUrl: string, path: string): Promise<string> {
  const page = await requestJson<Page>(baseUrl + path);
  if (!Array.isArray(page.items) || page.items.length === 0) throw new Error(`GET ${path}: no items (the search word is in no post?)`);
  if (path.includes('filter=') && page.items.some((r) => r.status !== 'published' || (r.price ?? Infinity) >= 500)) {
    throw new Error(`GET ${path}: an item does not pass the filter`);
  }
  const facets = path.includes('facets=') ? SEARCH_FACETS.split(',').map((f) => [f, page.facets?.[f]] as const) : [];
  for (const [field, counts] of facets) if (!counts?.length) throw new Error(`GET ${path}: no counts for the facet ${field}`);
  return `${path}: ${page.items.map((r) => r.id).join(',')} ${JSON.stringify(facets)}`;
}

/** The ETag a GET of `path` is served with (to revalidate it). */
export async function currentEtag(baseUrl: string, path: string): Promise<string> {
  const res = await fetch(baseUrl + path, { signal: AbortSignal.timeout(60_000) });
  await res.arrayBuffer();
  const etag = res.headers.get('etag');
  if (res.status !== 200 || !etag) throw new Error(`GET ${path} → ${res.status} with ETag ${etag}: nothing to revalidate`);
  return etag;
}

async function probeRevalidation(baseUrl: string, request: Request): Promise<string> {
  const path = request.paths[0]!;
  const res = await fetch(baseUrl + path, { headers: request.headers, signal: AbortSignal.timeout(60_000) });
  const body = await res.text();
  if (res.status !== 304 || body !== '') throw new Error(`GET ${path} with ${JSON.stringify(request.headers)} → ${res.status} (expected an empty 304): ${body.slice(0, 200)}`);
  return '304';
}
