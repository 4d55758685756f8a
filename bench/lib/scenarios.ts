// The four measured scenarios — GET by id, list page 1, the same list deep in the cursor chain, and
// POST create — each prepared per server and probed once (status and shape) before it is measured.

import type { PostRow } from '../reference/common.ts';
import { makePost, prng } from './data.ts';
import { requestJson } from './http.ts';
import type { LoadSpec } from './load.ts';

export type ScenarioName = 'get' | 'list' | 'deep' | 'create';

export interface ScenarioInfo {
  name: ScenarioName;
  label: string;
  /** Galley ÷ reference req/s must reach this. */
  target: number;
}

export const SCENARIOS: readonly ScenarioInfo[] = [
  { name: 'get', label: 'GET by id', target: 0.7 },
  { name: 'list', label: 'list page 1', target: 0.7 },
  { name: 'deep', label: 'list page 1,000', target: 0.7 },
  { name: 'create', label: 'POST create', target: 0.5 },
];

export const DEEP_PAGE = 1000;
/** Page 1,000 must be served at ≥ 0.9 × the req/s of page 1. */
export const DEEP_PAGE_TARGET = 0.9;
const RECORDS = '/api/v1/collections/posts/records';
export const LIST_PATH = `${RECORDS}?filter=${encodeURIComponent("status = 'published'")}&sort=-created&limit=20`;
const ID_SAMPLE = 1000;

type Request = Pick<LoadSpec, 'method' | 'paths' | 'body'>;
interface Page {
  items: PostRow[];
  nextCursor: string | null;
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
  if (request.method === 'POST') {
    const record = await requestJson<PostRow>(baseUrl + path, { method: 'POST', body: JSON.parse(request.body!()), expect: 201 });
    if (typeof record.id !== 'string' || typeof record.created !== 'string') throw new Error(`POST ${path}: no id/created in the response`);
    return 'created';
  }
  if (path.includes('?')) {
    const page = await requestJson<Page>(baseUrl + path);
    if (!Array.isArray(page.items) || page.items.length !== 20) throw new Error(`GET ${path}: expected 20 items, got ${page.items?.length}`);
    if (page.items.some((r) => r.status !== 'published')) throw new Error(`GET ${path}: an item is not published`);
    return page.items.map((r) => r.id).join(',');
  }
  const record = await requestJson<PostRow>(baseUrl + path);
  return JSON.stringify([record.id, record.created, record.updated, record.title, record.body, record.status, record.price]);
}
