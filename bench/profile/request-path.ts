// The request-path profiler: Galley and the reference in one process, on the same seeded rows,
// each driven with app.inject() (no sockets, no load generator), so what is measured is the CPU
// each one spends per request. Wall-clock benches are noisy on a small shared machine; CPU time
// per request of one process is not, much. See docs/benchmarks.md ("Profiling the request path").
//
//   node --import tsx bench/profile/request-path.ts --db sqlite --records 5000 --requests 3000
//   node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/profile/request-path.ts --only galley --scenario get

import fs from 'node:fs';
import inspector from 'node:inspector/promises';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { parseArgs } from 'node:util';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { createApp } from '../../packages/server/src/app.ts';
import { SqliteDatabase } from '../../packages/server/src/db/sqlite.ts';
import pg from 'pg';
import { loadConfig } from '../../packages/server/src/config/config.ts';
import { buildReferenceServer, postRowOf, type PostRow, type PostStore } from '../reference/common.ts';
import { openSqliteStore } from '../reference/sqlite-store.ts';
import { openPgStore } from '../reference/pg-store.ts';
import { buildPgReference, buildSqliteReference } from '../lib/reference-db.ts';
import { databaseUrl, dropDatabase, recreateDatabase, vacuumAnalyze } from '../lib/pg-admin.ts';
import { POSTS_COLLECTION } from '../lib/galley.ts';
import { makePost, prng } from '../lib/data.ts';
import { facetsRequest, LIST_PATH, sampleIds, searchRequest } from '../lib/scenarios.ts';

const { values: args } = parseArgs({
  options: {
    db: { type: 'string', default: 'sqlite' },
    records: { type: 'string', default: '5000' },
    requests: { type: 'string', default: '3000' },
    rounds: { type: 'string', default: '3' },
    /** Requests in flight at once (1: strictly one after the other). */
    concurrency: { type: 'string', default: '1' },
    scenario: { type: 'string', default: 'get,list,deep,create' },
    /** `galley` or `reference`: measure one side only (for --cpu-prof). */
    only: { type: 'string' },
    /**
     * Real HTTP: both servers listen on 127.0.0.1 and autocannon drives them from a child process
     * (load-client.ts) for --duration seconds at --connections; CPU time per response is then the
     * server's alone. Without it, requests are injected one after another (--requests, --concurrency).
     */
    http: { type: 'boolean', default: false },
    duration: { type: 'string', default: '3' },
    connections: { type: 'string', default: '50' },
    /** Count the SQL statements Galley runs per request, by text (round trips on PostgreSQL). */
    statements: { type: 'boolean', default: false },
    /** Write a V8 CPU profile of the measured requests only (no setup, no warm-up) to this file. */
    profile: { type: 'string' },
    'pg-url': { type: 'string', default: process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test' },
  },
});

const RECORDS = '/api/v1/collections/posts/records';
const ADMIN = { email: 'profile@example.com', password: 'profile-Pa55word-long' };
const records = Number(args.records);
const requests = Number(args.requests);
const rounds = Number(args.rounds);
const concurrency = Number(args.concurrency);
const dialect = args.db === 'postgres' ? 'postgres' : 'sqlite';

interface Req {
  method: 'GET' | 'POST';
  url: string;
  payload?: string;
}

async function send(app: FastifyInstance, req: Req, expect: number): Promise<string> {
  const res = await app.inject({
    method: req.method,
    url: req.url,
    payload: req.payload,
    headers: req.payload ? { 'content-type': 'application/json' } : {},
  });
  if (res.statusCode !== expect) throw new Error(`${req.method} ${req.url} → ${res.statusCode}: ${res.body.slice(0, 300)}`);
  return res.body;
}

interface Measured {
  cpu: number;
  wall: number;
  /** Requests answered. */
  n: number;
}

/** CPU microseconds (user + system) and wall microseconds per request over `n` requests. */
async function measure(app: FastifyInstance, next: () => Req, expect: number, n: number, profiled = false): Promise<Measured> {
  if (profiled) await profiler?.post('Profiler.start');
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  let left = n;
  const worker = async () => {
    while (left-- > 0) await send(app, next(), expect);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const cpu = process.cpuUsage(cpu0);
  const wall = Number(process.hrtime.bigint() - t0) / 1000;
  if (profiled && profiler) {
    const { profile } = await profiler.post('Profiler.stop');
    profiles.push(profile);
  }
  return { cpu: (cpu.user + cpu.system) / n, wall: wall / n, n };
}

// Profiles of the measured loops; several (scenarios, rounds) are merged by writing the last one
// per run, so profile one scenario at a time.
const profiles: inspector.Profiler.Profile[] = [];
let profiler: inspector.Session | undefined;
if (args.profile) {
  profiler = new inspector.Session();
  profiler.connect();
  await profiler.post('Profiler.enable');
  await profiler.post('Profiler.setSamplingInterval', { interval: 100 });
}

// Every statement either adapter runs, by SQL text, while counting is on (the measured loops only,
// not their warm-ups). On PostgreSQL every query a pg client sends is counted — BEGIN, COMMIT and
// pg_notify too, which the adapter sends past its own query() —, each one a message to the server
// (in pipeline mode several may share one round trip).
const statementCounts = new Map<string, number>();
let countingStatements = false;
/** Requests measured while counting: what the counts are divided by. */
let countedRequests = 0;
if (args.statements) {
  const count = (sql: string) => {
    if (countingStatements) statementCounts.set(sql, (statementCounts.get(sql) ?? 0) + 1);
  };
  type Patchable = Record<string, (this: unknown, ...a: unknown[]) => unknown>;
  const patch = (proto: object, method: string, sqlOf: (a: unknown[]) => unknown) => {
    const target = proto as Patchable;
    const original = target[method]!;
    target[method] = function (this: unknown, ...a: unknown[]) {
      count(String(sqlOf(a)));
      return original.apply(this, a);
    };
  };
  for (const method of ['allNow', 'getNow', 'runNow', 'execNow']) patch(SqliteDatabase.prototype, method, (a) => a[0]);
  // A query is a string or a config object ({ name, text, values }).
  patch(pg.Client.prototype, 'query', (a) => (typeof a[0] === 'string' ? a[0] : (a[0] as { text?: string } | undefined)?.text));
}

/** The same as measure(), over HTTP with the load from another process; the deltas are per response. */
async function measureHttp(app: FastifyInstance, reqs: Req[], bodyLabel: string | undefined, profiled: boolean, seconds: number): Promise<Measured> {
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('not listening');
  const spec = {
    baseUrl: `http://127.0.0.1:${address.port}`,
    method: reqs[0]!.method,
    paths: reqs.map((r) => r.url),
    connections: Number(args.connections),
    duration: seconds,
    bodyLabel,
  };
  if (profiled) await profiler?.post('Profiler.start');
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const out = await new Promise<string>((resolve, reject) =>
    execFile(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'load-client.ts'), JSON.stringify(spec)], (err, stdout) => (err ? reject(err) : resolve(stdout))),
  );
  const cpu = process.cpuUsage(cpu0);
  const wall = Number(process.hrtime.bigint() - t0) / 1000;
  if (profiled && profiler) profiles.push((await profiler.post('Profiler.stop')).profile);
  const result = JSON.parse(out) as { responses: number; unexpected: number; errors: number; rps: number };
  if (result.unexpected + result.errors > result.responses / 100) throw new Error(`too many failed requests: ${out}`);
  // The client's start-up is idle time here: CPU per response is what counts; "wall" is 1e6 / req/s.
  void wall;
  return { cpu: (cpu.user + cpu.system) / result.responses, wall: 1e6 / result.rps, n: result.responses };
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'galley-profile-'));
const pgUrl = args['pg-url']!;
// Per process: several profilers may share one PostgreSQL server without dropping each other's databases.
const galleyDbName = `galley_profile_${process.pid}`;
const refDbName = `galley_profile_${process.pid}_ref`;
if (dialect === 'postgres') {
  await recreateDatabase(pgUrl, galleyDbName);
  await recreateDatabase(pgUrl, refDbName);
}

const config = loadConfig(
  {
    GALLEY_ADMIN_EMAIL: ADMIN.email,
    GALLEY_ADMIN_PASSWORD: ADMIN.password,
    // As in `npm run bench`: every request goes to the database.
    GALLEY_READ_CACHE_ENTRIES: '0',
    ...(dialect === 'postgres' ? { DATABASE_URL: databaseUrl(pgUrl, galleyDbName) } : {}),
  },
  ['--port', '0', '--dir', path.join(tmp, 'galley')],
);
const galley = await createApp(config, { logger: pino({ level: 'warn' }) });
let reference: FastifyInstance | undefined;
let store: PostStore | undefined;
try {
  const http = galley.http;
  const login = JSON.parse(await send(http, { method: 'POST', url: '/api/v1/auth/login', payload: JSON.stringify(ADMIN) }, 200)) as { token: string };
  const auth = { authorization: `Bearer ${login.token}`, 'content-type': 'application/json' };
  const created = await http.inject({ method: 'POST', url: '/api/v1/collections', headers: auth, payload: JSON.stringify(POSTS_COLLECTION) });
  if (created.statusCode !== 201) throw new Error(`creating posts: ${created.body}`);

  const random = prng(20261122);
  for (let start = 0; start < records; start += 100) {
    const operations = Array.from({ length: Math.min(100, records - start) }, () => ({ action: 'create', collection: 'posts', body: makePost(random) }));
    const res = await http.inject({ method: 'POST', url: '/api/v1/batch', headers: auth, payload: JSON.stringify({ operations }) });
    if (res.statusCode !== 200) throw new Error(`seeding: ${res.body.slice(0, 300)}`);
  }
  const rows: PostRow[] = [];
  for (let cursor: string | null = null, first = true; first || cursor; first = false) {
    const page = JSON.parse(await send(http, { method: 'GET', url: `${RECORDS}?limit=200&sort=created${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}` }, 200)) as {
      items: PostRow[];
      nextCursor: string | null;
    };
    rows.push(...page.items.map(postRowOf));
    cursor = page.nextCursor;
  }

  if (dialect === 'postgres') {
    const url = databaseUrl(pgUrl, refDbName);
    await buildPgReference(url, rows);
    store = openPgStore(url);
    // As bench-db.ts does: both databases vacuumed and analysed (visibility map, statistics).
    await Promise.all([vacuumAnalyze(databaseUrl(pgUrl, galleyDbName)), vacuumAnalyze(url)]);
  } else {
    const file = path.join(tmp, 'reference.db');
    buildSqliteReference(file, rows);
    store = openSqliteStore(file);
  }
  reference = buildReferenceServer(store);
  await reference.ready();
  if (args.http) {
    await reference.listen({ host: '127.0.0.1', port: 0 });
    await http.listen({ host: '127.0.0.1', port: 0 });
  }

  // The deepest page both can reach: Galley's cursors are followed, the reference's likewise.
  const deepPage = Math.min(1000, Math.floor(rows.filter((r) => r.status === 'published').length / 20) - 1);
  const deepUrl = async (app: FastifyInstance) => {
    let url = LIST_PATH;
    for (let i = 1; i < deepPage; i++) {
      const page = JSON.parse(await send(app, { method: 'GET', url }, 200)) as { nextCursor: string };
      url = `${LIST_PATH}&cursor=${encodeURIComponent(page.nextCursor)}`;
    }
    return url;
  };
  const ids = sampleIds(rows);
  // The benchmark's search requests (one word each, taken in turn; with filter and facets).
  const searchPaths = searchRequest().paths;
  const facetsPaths = facetsRequest().paths;
  const servers: Array<[string, FastifyInstance]> = [
    ['reference', reference],
    ['galley', http],
  ];
  const scenarios = args.scenario!.split(',');
  console.log(`${dialect}: ${records} records, ${requests} requests × ${rounds} rounds per scenario and server, concurrency ${concurrency}, deep page ${deepPage}`);
  console.log(`scenario   server      CPU µs/req   ${args.http ? 'µs per response (1e6 ÷ req/s)' : 'wall µs/req'}`);
  for (const scenario of scenarios) {
    const totals = new Map<string, { cpu: number; wall: number }>();
    const prepared = new Map<string, { next: () => Req; expect: number }>();
    for (const [name, app] of servers) {
      let i = 0;
      const postRandom = prng(99);
      const next =
        scenario === 'get'
          ? () => ({ method: 'GET' as const, url: `${RECORDS}/${ids[i++ % ids.length]}` })
          : scenario === 'list'
            ? () => ({ method: 'GET' as const, url: LIST_PATH })
            : scenario === 'deep'
              ? await deepUrl(app).then((url) => () => ({ method: 'GET' as const, url }))
              : scenario === 'search' || scenario === 'facets'
                ? () => ({ method: 'GET' as const, url: (scenario === 'search' ? searchPaths : facetsPaths)[i++ % searchPaths.length]! })
                : () => ({ method: 'POST' as const, url: RECORDS, payload: JSON.stringify(makePost(postRandom, `${name}-${++i}`)) });
      prepared.set(name, { next, expect: scenario === 'create' ? 201 : 200 });
      totals.set(name, { cpu: 0, wall: 0 });
    }
    for (let round = 0; round < rounds; round++) {
      // Alternate who goes first, as `npm run bench` does.
      const order = round % 2 === 0 ? servers : [...servers].reverse();
      for (const [name, app] of order) {
        if (args.only && args.only !== name) continue;
        const { next, expect } = prepared.get(name)!;
        const counting = name === 'galley';
        let m: Measured;
        if (args.http) {
          // The same requests the injected loop would send: paths (and, for POST, generated bodies).
          const sample = Array.from({ length: scenario === 'get' ? ids.length : scenario === 'search' || scenario === 'facets' ? searchPaths.length : 1 }, next);
          const label = scenario === 'create' ? `${name}-http-${round}` : undefined;
          await measureHttp(app, sample, label, false, 1); // warm-up
          countingStatements = counting;
          m = await measureHttp(app, sample, label, true, Number(args.duration));
        } else {
          await measure(app, next, expect, Math.min(200, requests)); // warm-up
          countingStatements = counting;
          m = await measure(app, next, expect, requests, true);
        }
        countingStatements = false;
        if (counting) countedRequests += m.n;
        const t = totals.get(name)!;
        t.cpu += m.cpu / rounds;
        t.wall += m.wall / rounds;
      }
    }
    for (const [name] of servers) {
      if (args.only && args.only !== name) continue;
      const t = totals.get(name)!;
      console.log(`${scenario.padEnd(10)} ${name.padEnd(10)} ${t.cpu.toFixed(1).padStart(11)} ${t.wall.toFixed(1).padStart(13)}`);
    }
    if (args.statements) {
      for (const [sql, n] of [...statementCounts].sort((a, b) => b[1] - a[1])) {
        console.log(`  ${(n / countedRequests).toFixed(2).padStart(6)} × ${sql.replace(/\s+/g, ' ').slice(0, 160)}`);
      }
      statementCounts.clear();
      countedRequests = 0;
    }
    if (!args.only) {
      const ref = totals.get('reference')!;
      const gal = totals.get('galley')!;
      console.log(`${scenario.padEnd(10)} ratio      ${(ref.cpu / gal.cpu).toFixed(2).padStart(10)}× ${(ref.wall / gal.wall).toFixed(2).padStart(12)}×   (reference ÷ Galley per request; Galley adds ${(gal.cpu - ref.cpu).toFixed(1)} µs CPU)`);
    }
  }
  if (args.profile && profiles.length) {
    fs.writeFileSync(args.profile, JSON.stringify(profiles[profiles.length - 1]));
    console.log(`profile of the last measured loop written to ${args.profile}`);
  }
} finally {
  profiler?.disconnect();
  await reference?.close();
  await store?.close();
  await galley.close();
  fs.rmSync(tmp, { recursive: true, force: true });
  if (dialect === 'postgres') {
    await dropDatabase(pgUrl, galleyDbName);
    await dropDatabase(pgUrl, refDbName);
  }
}
