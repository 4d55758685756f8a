// The benchmark's reference server must answer the search and facet requests as Galley does on the
// same rows (same ids in the same order, same counts), on every database: a reference doing less or
// other work would make the search ratios of `npm run bench` meaningless. And the sample data must
// give the searched words the hit counts docs/benchmarks.md promises.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { createPostgresDatabase, describeEachDialect } from '../../packages/server/src/testing/databases.ts';
import { createTestApp, type TestApp } from '../../packages/server/src/testing/test-app.ts';
import { makePost, prng, SEARCH_WORDS } from '../lib/data.ts';
import { POSTS_COLLECTION } from '../lib/galley.ts';
import { buildPgReference, buildSqliteReference } from '../lib/reference-db.ts';
import { facetsRequest, searchRequest } from '../lib/scenarios.ts';
import { readAllRecords, seedGalley } from '../lib/seed.ts';
import { buildReferenceServer, type PostStore } from '../reference/common.ts';
import { openPgStore } from '../reference/pg-store.ts';
import { openSqliteStore } from '../reference/sqlite-store.ts';

/** Enough for every search word to find a few dozen posts, and a few under the facets' filter. */
const RECORDS = 3000;

interface SearchAnswer {
  items: Array<{ id: string; status: string }>;
  facets?: Record<string, Array<{ value: string | boolean; count: number }>>;
}

await describeEachDialect('bench reference: search and facets answer as Galley', (dialect) => {
  let galley: TestApp;
  let store: PostStore;
  let reference: FastifyInstance;
  const cleanups: Array<() => Promise<void> | void> = [];

  before(async () => {
    galley = await createTestApp(dialect);
    cleanups.push(() => galley.close());
    const created = await galley.request('POST', '/api/v1/collections', { body: POSTS_COLLECTION });
    assert.equal(created.status, 201, created.text);
    await seedGalley(galley.url, galley.adminToken, RECORDS);
    const rows = await readAllRecords(galley.url, RECORDS);
    if (dialect === 'sqlite') {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'galley-bench-ref-'));
      cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
      buildSqliteReference(path.join(dir, 'reference.db'), rows);
      store = openSqliteStore(path.join(dir, 'reference.db'));
    } else {
      const db = await createPostgresDatabase();
      cleanups.push(() => db.drop());
      await buildPgReference(db.url, rows);
      store = openPgStore(db.url);
    }
    cleanups.push(() => store.close());
    reference = buildReferenceServer(store);
    cleanups.push(() => reference.close());
  });

  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  async function both(url: string): Promise<{ galley: SearchAnswer; reference: SearchAnswer }> {
    const fromGalley = await galley.request('GET', url, { token: null });
    assert.equal(fromGalley.status, 200, fromGalley.text);
    const fromReference = await reference.inject({ method: 'GET', url });
    assert.equal(fromReference.statusCode, 200, fromReference.body);
    return { galley: fromGalley.body, reference: fromReference.json() };
  }

  test('every search word finds posts, and the reference the same ones in the same rank order', async () => {
    for (const url of searchRequest().paths) {
      const answers = await both(url);
      assert.ok(answers.galley.items.length > 0, `${url}: Galley finds nothing`);
      assert.deepEqual(answers.reference.items.map((r) => r.id), answers.galley.items.map((r) => r.id), url);
    }
  });

  test('search + filter + facets: the same page and the same counts, status counted without its own term', async () => {
    for (const url of facetsRequest().paths) {
      const answers = await both(url);
      assert.ok(answers.galley.items.length > 0, `${url}: Galley finds nothing`);
      assert.ok(answers.galley.items.every((r) => r.status === 'published'), `${url}: the filter is not applied`);
      assert.deepEqual(answers.reference.items.map((r) => r.id), answers.galley.items.map((r) => r.id), url);
      assert.deepEqual(answers.reference.facets, answers.galley.facets, url);
      // Left out of its own count, the status term lets the other statuses show.
      assert.ok((answers.galley.facets?.status?.length ?? 0) > 1, `${url}: ${JSON.stringify(answers.galley.facets?.status)}`);
    }
  });
});

test('bench data: each search word is in 0.5–2 % of the posts', () => {
  const random = prng(20261122);
  const posts = Array.from({ length: 20_000 }, () => makePost(random));
  const words = posts.map((p) => new Set(`${p.title} ${p.body}`.toLowerCase().split(' ')));
  for (const word of SEARCH_WORDS) {
    const share = words.filter((w) => w.has(word)).length / posts.length;
    assert.ok(share >= 0.005 && share <= 0.02, `${word}: in ${(share * 100).toFixed(2)} % of the posts`);
  }
});
