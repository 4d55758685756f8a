// Where the tail of the search latency comes from: Galley and the SQLite reference started as the
// benchmark starts them (child processes, the same seeded rows), then the benchmark's search
// requests sent by autocannon from this process at 50 connections, with every response recorded:
// which connection, which word, when it was sent and how long it took. Prints the percentiles,
// then the tail broken down by connection, by word and by moment of the run.
//
//   node --import tsx bench/profile/search-tail.ts --records 20000 --duration 5 [--scenario search|facets] [--only galley]

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { cleanupAll, onCleanup } from '../lib/cleanup.ts';
import { REPO_ROOT, startGalley } from '../lib/galley.ts';
import { runLoad } from '../lib/load.ts';
import { freePort, startServer } from '../lib/processes.ts';
import { buildSqliteReference } from '../lib/reference-db.ts';
import { facetsRequest, searchRequest } from '../lib/scenarios.ts';
import { readAllRecords, seedGalley } from '../lib/seed.ts';

const { values: args } = parseArgs({
  options: {
    records: { type: 'string', default: '20000' },
    duration: { type: 'string', default: '5' },
    connections: { type: 'string', default: '50' },
    rounds: { type: 'string', default: '1' },
    scenario: { type: 'string', default: 'search' },
    only: { type: 'string' },
    /** Extra environment for both servers, e.g. NODE_OPTIONS=--import=… (KEY=VALUE,KEY=VALUE). */
    env: { type: 'string' },
    /** Write every response (target, round, connection, word, sent at, ms) as CSV here. */
    csv: { type: 'string' },
  },
});

interface Sample {
  connection: number;
  word: string;
  /** ms since the start of the measured run. */
  sentAt: number;
  ms: number;
  /** Answered after every connection had had its first answer (what runLoad measures). */
  settled: boolean;
}

const WORD_IN_PATH = /search=([^& ]+)/;

async function drive(url: string, paths: readonly string[], seconds: number): Promise<{ samples: Sample[]; rps: number }> {
  const samples: Sample[] = [];
  const connectionOf = new Map<unknown, number>();
  // Connections whose first answer is the one being recorded (the answer that settles the last is not settled itself).
  const firstAnswers = new Set<unknown>();
  let turn = 0;
  const t0 = performance.now();
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url,
        connections: Number(args.connections),
        duration: seconds,
        timeout: 10,
        requests: [{ method: 'GET', setupRequest: (request) => ({ ...request, path: paths[turn++ % paths.length] }) }],
      },
      (err, res) => (err ? reject(err) : resolve(res)),
    );
    instance.on('response', (client, status, _bytes, ms) => {
      if (status !== 200) return;
      let connection = connectionOf.get(client);
      if (connection === undefined) {
        connectionOf.set(client, (connection = connectionOf.size));
        firstAnswers.add(client);
      }
      // Before autocannon builds the next request, the current one is the one answered.
      const current = (client as { requestIterator: { currentRequest: { requestBuffer: Buffer } } }).requestIterator.currentRequest;
      const word = WORD_IN_PATH.exec(current.requestBuffer.toString('latin1', 0, 300))?.[1] ?? '?';
      const now = performance.now() - t0;
      samples.push({ connection, word, sentAt: now - ms, ms, settled: connectionOf.size === Number(args.connections) && !firstAnswers.has(client) });
      firstAnswers.delete(client);
    });
  });
  return { samples, rps: result.requests.total / result.duration };
}

const quantile = (sorted: readonly number[], q: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! : NaN);
const f = (n: number) => n.toFixed(1).padStart(7);

function report(target: string, samples: readonly Sample[], rps: number, seconds: number): void {
  const all = samples.map((s) => s.ms).sort((a, b) => a - b);
  const p99 = quantile(all, 0.99);
  console.log(`\n${target}: ${samples.length} responses, ${rps.toFixed(0)} req/s; p50 ${f(quantile(all, 0.5))} p90 ${f(quantile(all, 0.9))} p99 ${f(p99)} max ${f(all.at(-1)!)} ms`);
  const settled = samples.filter((s) => s.settled).map((s) => s.ms).sort((a, b) => a - b);
  console.log(`  once every connection was answered: ${settled.length} responses; p50 ${f(quantile(settled, 0.5))} p99 ${f(quantile(settled, 0.99))} max ${f(settled.at(-1)!)} ms`);
  // By connection: how many answers each got, and how many of the slowest 1 % were its.
  const byConnection = new Map<number, number[]>();
  for (const s of samples) (byConnection.get(s.connection) ?? byConnection.set(s.connection, []).get(s.connection)!).push(s.ms);
  const counts = [...byConnection.values()].map((v) => v.length).sort((a, b) => a - b);
  const tailOwners = new Map<number, number>();
  for (const s of samples) if (s.ms >= p99) tailOwners.set(s.connection, (tailOwners.get(s.connection) ?? 0) + 1);
  console.log(`  answers per connection: min ${counts[0]} median ${quantile(counts, 0.5)} max ${counts.at(-1)}; the slowest 1 % spread over ${tailOwners.size} connections`);
  // By word.
  const byWord = new Map<string, number[]>();
  for (const s of samples) (byWord.get(s.word) ?? byWord.set(s.word, []).get(s.word)!).push(s.ms);
  for (const [word, v] of byWord) {
    v.sort((a, b) => a - b);
    console.log(`  word ${word.padEnd(12)} n ${String(v.length).padStart(5)} p50 ${f(quantile(v, 0.5))} p99 ${f(quantile(v, 0.99))}`);
  }
  // By moment: the requests sent in each half second.
  const bins = Math.ceil((seconds * 1000) / 500);
  const line: string[] = [];
  for (let b = 0; b < bins; b++) {
    const v = samples.filter((s) => s.sentAt >= b * 500 && s.sentAt < (b + 1) * 500).map((s) => s.ms).sort((x, y) => x - y);
    line.push(`${(b / 2).toFixed(1)}s:n${v.length}/p99 ${quantile(v, 0.99).toFixed(0)}`);
  }
  console.log(`  by time sent: ${line.join('  ')}`);
  // The slowest ten, and how long their connection had been answered quickly before.
  const slowest = [...samples].sort((a, b) => b.ms - a.ms).slice(0, 10);
  console.log(`  slowest: ${slowest.map((s) => `c${s.connection}@${s.sentAt.toFixed(0)}=${s.ms.toFixed(0)}`).join(' ')}`);
}

const records = Number(args.records);
const seconds = Number(args.duration);
const extraEnv = Object.fromEntries((args.env ? args.env.split(',') : []).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'galley-searchtail-'));
onCleanup(`remove ${dir}`, () => fs.rmSync(dir, { recursive: true, force: true }));
const csv: string[] = ['target,round,connection,word,sent_ms,latency_ms'];
try {
  const galley = await startGalley({ dataDir: path.join(dir, 'galley_data'), env: extraEnv });
  await seedGalley(galley.server.url, galley.token, records);
  const rows = await readAllRecords(galley.server.url, records);
  const file = path.join(dir, 'reference.db');
  buildSqliteReference(file, rows);
  const port = await freePort();
  const reference = await startServer({
    name: 'reference (sqlite)',
    args: [path.join(REPO_ROOT, 'bench/reference/sqlite-server.ts'), '--port', String(port), '--file', file],
    env: extraEnv,
    port,
    healthPath: '/health',
  });
  const paths = (args.scenario === 'facets' ? facetsRequest() : searchRequest()).paths;
  const targets = ([['reference', reference.url], ['galley', galley.server.url]] as const).filter(([name]) => !args.only || args.only === name);
  console.log(`${records} records, ${args.connections} connections, ${seconds} s per run, scenario ${args.scenario}`);
  for (let round = 1; round <= Number(args.rounds); round++) {
    for (const [name, url] of round % 2 ? targets : [...targets].reverse()) {
      await drive(url, paths, 2); // warm-up, as the benchmark does
      const { samples, rps } = await drive(url, paths, seconds);
      report(`${name} ${round}`, samples, rps, seconds);
      // The benchmark's own load function (bench/lib/load.ts) on the same server, right after.
      const m = (await runLoad({ baseUrl: url, connections: Number(args.connections), duration: seconds, method: 'GET', paths })).measurement();
      console.log(`  runLoad: ${m.rps.toFixed(0)} req/s p50 ${f(m.p50)} p99 ${f(m.p99)} ms (${m.responses} responses, ${m.errors} errors)`);
      for (const s of samples) csv.push(`${name},${round},${s.connection},${s.word},${s.sentAt.toFixed(2)},${s.ms.toFixed(3)}`);
    }
  }
  if (args.csv) fs.writeFileSync(args.csv, csv.join('\n') + '\n');
} finally {
  await cleanupAll();
}
