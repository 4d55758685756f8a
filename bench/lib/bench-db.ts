// One database end to end: fresh storage, Galley seeded through its API, the reference loaded with
// the same rows, then every scenario on both servers, the login flood, and last Galley restarted on
// the same data with its read cache on for the cache scenarios; everything it started is torn down at the end.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cleanupAll, isInterrupted, onCleanup } from './cleanup.ts';
import { compareScenario, measureAgainstBaseline, type ScenarioRequests, type TargetName } from './compare.ts';
import { REPO_ROOT, startGalley, type Galley } from './galley.ts';
import type { BenchOptions, DbKind } from './options.ts';
import { databaseUrl, dropDatabase, pgUnreachableReason, recreateDatabase, vacuumAnalyze } from './pg-admin.ts';
import { freePort, startServer, type ServerProcess } from './processes.ts';
import { buildPgReference, buildSqliteReference } from './reference-db.ts';
import { deepVsFirst, summarize, type DbResult, type ScenarioResult } from './report.ts';
import {
  DEEP_PAGE, LIST_PATH, SCENARIOS, bareRequest, createRequest, currentEtag, facetsRequest, findDeepCursor, getRequest, listRequest, revalidateRequest,
  sampleIds, searchRequest, type ScenarioInfo, type ScenarioName,
} from './scenarios.ts';
import { SEARCH_WORDS } from './data.ts';
import { requestJson } from './http.ts';
import { readAllRecords, seedGalley } from './seed.ts';
import { loginFloodLine, measureLoginFlood, type LoginFloodResult } from './login-flood.ts';

const GALLEY_DB = 'galley_bench';
const REFERENCE_DB = 'galley_bench_ref';

async function startReference(db: DbKind, target: { file?: string; url?: string }): Promise<ServerProcess> {
  const port = await freePort();
  const script = path.join(REPO_ROOT, 'bench/reference', db === 'sqlite' ? 'sqlite-server.ts' : 'pg-server.ts');
  const where = db === 'sqlite' ? ['--file', target.file!] : ['--url', target.url!];
  return startServer({ name: `reference (${db})`, args: [script, '--port', String(port), ...where], env: {}, port, healthPath: '/health' });
}

function step(text: string): void {
  process.stdout.write(`  ${text}\n`);
}

interface Prepared {
  urls: Record<TargetName, string>;
  /** Record ids spread over the data set, for GET by id. */
  ids: string[];
  galley: Galley;
  /** Where Galley keeps its data, to start it again on the same data. */
  galleyStorage: { dataDir: string; databaseUrl?: string };
  /** e.g. "4 words, 717–1,307 hits each": how much of the data a search touches. */
  searchHits: string;
}

/** How many posts each search word finds in Galley (the same rows are in the reference). */
async function searchHits(galleyUrl: string): Promise<string> {
  const counts: number[] = [];
  for (const word of SEARCH_WORDS) {
    counts.push((await requestJson<{ totalItems: number }>(`${galleyUrl}/api/v1/collections/posts/records?search=${word}&count=true&limit=1`)).totalItems);
  }
  const shown = (n: number) => n.toLocaleString('en-US');
  return `${SEARCH_WORDS.length} words, ${shown(Math.min(...counts))}–${shown(Math.max(...counts))} hits each`;
}

async function setUp(db: DbKind, options: BenchOptions): Promise<Prepared> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `galley-bench-${db}-`));
  onCleanup(`remove ${dir}`, () => fs.rmSync(dir, { recursive: true, force: true }));
  let galleyUrl: string | undefined;
  let referenceUrl: string | undefined;
  if (db === 'postgres') {
    for (const name of [GALLEY_DB, REFERENCE_DB]) {
      if (isInterrupted()) throw new Error('interrupted');
      await recreateDatabase(options.pgUrl, name);
      onCleanup(`drop database ${name}`, () => dropDatabase(options.pgUrl, name));
    }
    galleyUrl = databaseUrl(options.pgUrl, GALLEY_DB);
    referenceUrl = databaseUrl(options.pgUrl, REFERENCE_DB);
  }
  const galleyStorage = { dataDir: path.join(dir, 'galley_data'), databaseUrl: galleyUrl };
  const galley = await startGalley(galleyStorage);
  step(`Galley started (pid ${galley.server.pid}); seeding ${options.records.toLocaleString('en-US')} records…`);
  const seeded = Date.now();
  await seedGalley(galley.server.url, galley.token, options.records);
  const rows = await readAllRecords(galley.server.url, options.records);
  step(`seeded and read back in ${((Date.now() - seeded) / 1000).toFixed(1)} s; loading the reference…`);
  const file = path.join(dir, 'reference.db');
  if (db === 'sqlite') buildSqliteReference(file, rows);
  else {
    await buildPgReference(referenceUrl!, rows);
    await Promise.all([vacuumAnalyze(galleyUrl!), vacuumAnalyze(referenceUrl!)]);
  }
  const reference = await startReference(db, { file, url: referenceUrl });
  const hits = await searchHits(galley.server.url);
  step(`reference started (pid ${reference.pid}); search: ${hits}`);
  return { urls: { reference: reference.url, galley: galley.server.url }, ids: sampleIds(rows), galley, galleyStorage, searchHits: hits };
}

/** What one scenario sends to each server; throws when the scenario cannot be set up. */
async function requestsFor(name: ScenarioName, prepared: Prepared): Promise<{ requests: ScenarioRequests; detail?: string }> {
  const { urls, ids } = prepared;
  const both = (make: () => ScenarioRequests[TargetName]): ScenarioRequests => ({ reference: make(), galley: make() });
  if (name === 'get') return { requests: both(() => getRequest(ids)) };
  if (name === 'list') return { requests: both(() => listRequest()) };
  if (name === 'create') return { requests: both(() => createRequest('bench')) };
  if (name === 'search') return { requests: both(() => searchRequest()), detail: prepared.searchHits };
  if (name === 'facets') return { requests: both(() => facetsRequest()) };
  if (name === 'revalidate') return { requests: { reference: bareRequest(), galley: revalidateRequest(await currentEtag(urls.galley, LIST_PATH)) } };
  // Each server's own cursor for the same page: the cursors are opaque and differ in format.
  const galley = await findDeepCursor(urls.galley, DEEP_PAGE);
  const reference = galley && (await findDeepCursor(urls.reference, galley.page));
  if (!galley || !reference || reference.page !== galley.page) {
    throw new Error(`no full page 2 or deeper to measure (Galley: ${galley?.page}, reference: ${reference?.page}); seed more records`);
  }
  const detail = galley.page === DEEP_PAGE ? undefined : `page ${galley.page.toLocaleString('en-US')}: too few records for 1,000`;
  return { requests: { reference: listRequest(reference.cursor), galley: listRequest(galley.cursor) }, detail };
}

async function runScenarios(scenarios: readonly ScenarioInfo[], prepared: Prepared, options: BenchOptions, results: ScenarioResult[]): Promise<void> {
  for (const info of scenarios) {
    if (info.name === 'cached') {
      const uncached = results.find((r) => r.name === 'list')?.galley;
      results.push(await measureAgainstBaseline(info, prepared.urls.galley, listRequest(), uncached, options));
      continue;
    }
    let setup: Awaited<ReturnType<typeof requestsFor>>;
    try {
      setup = await requestsFor(info.name, prepared);
    } catch (err) {
      const failure = err instanceof Error ? err.message : String(err);
      process.stdout.write(`  FAILED ${info.label}: ${failure}\n`);
      results.push({ ...info, failure });
      continue;
    }
    results.push(await compareScenario(info, prepared.urls, setup.requests, options, setup.detail));
  }
}

/** Galley again on the same data, with its public read cache at its default size (GALLEY_READ_CACHE_ENTRIES unset). */
async function restartWithCache(prepared: Prepared): Promise<void> {
  await prepared.galley.server.stop();
  prepared.galley = await startGalley({ ...prepared.galleyStorage, env: { GALLEY_READ_CACHE_ENTRIES: undefined } });
  prepared.urls.galley = prepared.galley.server.url;
  step(`Galley restarted with its read cache on (pid ${prepared.galley.server.pid})`);
}

export async function benchDatabase(db: DbKind, options: BenchOptions): Promise<DbResult> {
  process.stdout.write(`\n== ${db === 'sqlite' ? 'SQLite' : 'PostgreSQL'} ==\n`);
  if (db === 'postgres') {
    const reason = await pgUnreachableReason(options.pgUrl);
    if (reason) {
      const skipped = `PostgreSQL at ${new URL(options.pgUrl).host} is not reachable (${reason}); start it (e.g. pg_ctlcluster 15 main start) or pass --db sqlite`;
      process.stdout.write(`  skipped: ${skipped}\n`);
      return { db, skipped, scenarios: [] };
    }
  }
  try {
    const prepared = await setUp(db, options);
    const scenarios: ScenarioResult[] = [];
    await runScenarios(SCENARIOS.filter((s) => !s.cacheOn), prepared, options, scenarios);
    let loginFlood: LoginFloodResult | undefined;
    let failure: string | undefined;
    try {
      // Before the restart: the flood's GETs must go to the database, not to the cache.
      if (!isInterrupted()) loginFlood = await measureLoginFlood(prepared.urls.galley, prepared.ids, options.duration);
      if (loginFlood) step(loginFloodLine(loginFlood));
    } catch (err) {
      failure = `login flood: ${err instanceof Error ? err.message : String(err)}`;
    }
    if (!isInterrupted()) {
      try {
        await restartWithCache(prepared);
        await runScenarios(SCENARIOS.filter((s) => s.cacheOn), prepared, options, scenarios);
      } catch (err) {
        const restart = `restarting Galley with its read cache on: ${err instanceof Error ? err.message : String(err)}`;
        process.stdout.write(`  FAILED: ${restart}\n`);
        failure = failure ? `${failure}; ${restart}` : restart;
      }
    }
    scenarios.forEach(summarize);
    return { db, scenarios, deepVsFirst: deepVsFirst(scenarios), loginFlood, failure };
  } catch (err) {
    const failure = err instanceof Error ? err.message : String(err);
    process.stdout.write(`  FAILED: ${failure}\n`);
    return { db, failure, scenarios: [] };
  } finally {
    await cleanupAll();
  }
}
