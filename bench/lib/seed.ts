// Seeds Galley through its batch API (100 creates per request, a few requests in flight), then reads
// every row back through the list API, so the reference can be loaded with exactly the same rows.

import { postRowOf, type PostRow } from '../reference/common.ts';
import { makePost, prng } from './data.ts';
import { requestJson } from './http.ts';

const BATCH_SIZE = 100;
const IN_FLIGHT = 4;
const READ_PAGE = 200;
const SEED = 20261122;

function progress(label: string, done: number, total: number): void {
  if (process.stdout.isTTY) process.stdout.write(`\r  ${label}: ${done.toLocaleString('en-US')} / ${total.toLocaleString('en-US')}`);
}

export async function seedGalley(url: string, token: string, records: number): Promise<void> {
  const random = prng(SEED);
  const batches: number[] = [];
  for (let start = 0; start < records; start += BATCH_SIZE) batches.push(Math.min(BATCH_SIZE, records - start));
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < batches.length) {
      const size = batches[next++]!;
      // Generated in order, so the data does not depend on which request finishes first.
      const operations = Array.from({ length: size }, () => ({ action: 'create', collection: 'posts', body: makePost(random) }));
      const res = await requestJson<{ results: Array<{ status: number }> }>(`${url}/api/v1/batch`, { method: 'POST', body: { operations }, token });
      if (res.results.length !== size || res.results.some((r) => r.status !== 201)) throw new Error('batch: not every create returned 201');
      done += size;
      progress('seeding Galley', done, records);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  if (process.stdout.isTTY) process.stdout.write('\n');
}

interface Page {
  items: PostRow[];
  nextCursor: string | null;
}

/** Every record, oldest first, exactly as the API returns them. */
export async function readAllRecords(url: string, expected: number): Promise<PostRow[]> {
  const rows: PostRow[] = [];
  let cursor: string | null = null;
  const maxPages = Math.ceil(expected / READ_PAGE) + 2;
  for (let page = 0; page < maxPages; page++) {
    const query = `limit=${READ_PAGE}&sort=created${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const res: Page = await requestJson<Page>(`${url}/api/v1/collections/posts/records?${query}`);
    rows.push(...res.items.map(postRowOf));
    progress('reading rows back', rows.length, expected);
    cursor = res.nextCursor;
    if (!cursor) break;
  }
  if (process.stdout.isTTY) process.stdout.write('\n');
  if (rows.length !== expected) throw new Error(`read back ${rows.length} records, expected ${expected}`);
  return rows;
}
