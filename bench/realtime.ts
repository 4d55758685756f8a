// `npm run bench:realtime`: realtime fan-out. One Galley (SQLite) with 2,000 WebSocket subscribers
// held by a separate client process; 100 writes/s for 30 s; deliveries per second and latency
// (write start → event at the subscriber) p50/p99. Then two Galley instances on PostgreSQL + Redis:
// subscribers on one, writes through the other, for the cross-instance latency. Results go to
// bench/results/realtime-<date>.json and bench/results/realtime.md. See docs/benchmarks.md.

import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cleanupAll, installSignalHandlers, onCleanup } from './lib/cleanup.ts';
import { startGalley, type Galley } from './lib/galley.ts';
import { databaseUrl, dropDatabase, pgUnreachableReason, recreateDatabase } from './lib/pg-admin.ts';
import { killAllNow } from './lib/processes.ts';
import { machineInfo } from './lib/report.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const RESULTS_DIR = path.join(HERE, 'results');
const CLIENTS = path.join(HERE, 'lib/realtime-clients.ts');
const PG_SERVER = process.env.GALLEY_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS = process.env.GALLEY_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

interface Options {
  subscribers: number;
  rate: number;
  seconds: number;
  crossSubscribers: number;
  crossSeconds: number;
  cross: boolean;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { subscribers: 2000, rate: 100, seconds: 30, crossSubscribers: 500, crossSeconds: 10, cross: true };
  for (let i = 0; i < argv.length; i++) {
    const [flag, value] = [argv[i]!, argv[i + 1]];
    const n = Number(value);
    if (flag === '--no-cross') o.cross = false;
    else if (['--subscribers', '--rate', '--seconds', '--cross-subscribers', '--cross-seconds'].includes(flag) && Number.isInteger(n) && n > 0) {
      const key = flag.slice(2).replace(/-(\w)/g, (_, c: string) => c.toUpperCase()) as keyof Options;
      (o as unknown as Record<string, number>)[key] = n;
      i++;
    } else throw new Error(`usage: npm run bench:realtime -- [--subscribers N] [--rate W/s] [--seconds S] [--cross-subscribers N] [--cross-seconds S] [--no-cross]; got ${flag}`);
  }
  return o;
}

interface Stats {
  deliveries: number;
  firstAt: number;
  lastAt: number;
  p50: number;
  p99: number;
  max: number;
  closedEarly: number;
  closeCodes: Record<string, number>;
}

interface ScenarioResult {
  name: string;
  subscribers: number;
  writesPerSecond: number;
  seconds: number;
  writes: number;
  failedWrites: number;
  expectedDeliveries: number;
  deliveries: number;
  deliveriesPerSecond: number;
  latencyMs: { p50: number; p99: number; max: number };
  /** Sockets the server closed during the run, by close code (4002: too slow a reader). */
  closedByServer: Record<string, number>;
  /** How long the writes themselves took (POST to its 201), p50/p99. */
  writeMs: { p50: number; p99: number };
  /** The machine's 1-minute load average as the writes ended (other work competes for the 2 cores). */
  loadAverage: number;
  /** CPU seconds the (fan-out) server used per wall second while writes ran: 1 = one core. */
  serverCpuCores?: number;
  /** The same for the process holding the subscribers' sockets: near 1, it is what limits the run. */
  clientCpuCores?: number;
  /** Write system calls of that server per event delivered (below 1: events gathered into one write). */
  serverWritesPerDelivery?: number;
}

function clients(): { child: ChildProcess; ask<T>(message: unknown, key: string): Promise<T> } {
  const child = fork(CLIENTS, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const stop = onCleanup('stop realtime clients', async () => void child.kill('SIGKILL'));
  child.once('exit', () => void stop());
  return {
    child,
    ask: <T>(message: unknown, key: string) =>
      new Promise<T>((resolve, reject) => {
        const onMessage = (reply: Record<string, unknown>) => {
          if (reply.error) reject(new Error(String(reply.error)));
          else if (key in reply) resolve(reply[key] as T);
          else return;
          child.off('message', onMessage);
        };
        child.on('message', onMessage);
        child.send(message as object);
      }),
  };
}

/** CPU time (user + system) of a process so far, in seconds (Linux /proc). */
/** Write system calls (write, writev, …) a process made so far (Linux /proc). */
function writeCalls(pid: number): number | undefined {
  try {
    const line = fs.readFileSync(`/proc/${pid}/io`, 'utf8').split('\n').find((l) => l.startsWith('syscw:'));
    return line ? Number(line.slice(6)) : undefined;
  } catch {
    return undefined;
  }
}

function cpuSeconds(pid: number): number | undefined {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

/** Writes at `rate` per second for `seconds`, each record's title carrying its start time. */
async function writeLoad(url: string, rate: number, seconds: number): Promise<{ writes: number; failed: number; writeMs: { p50: number; p99: number } }> {
  const took: number[] = [];
  let writes = 0;
  let failed = 0;
  const pending: Array<Promise<void>> = [];
  const start = Date.now();
  const total = rate * seconds;
  for (let i = 0; i < total; i++) {
    // Paced against the clock, not by sleeping a fixed step, so slow writes do not lower the rate.
    const due = start + (i * 1000) / rate;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const sent = Date.now();
    pending.push(
      fetch(`${url}/api/v1/collections/posts/records`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ title: `t:${Date.now()}`, status: 'published', price: i }),
      }).then(async (res) => {
        await res.arrayBuffer();
        took.push(Date.now() - sent);
        if (res.status === 201) writes++;
        else failed++;
      }, () => void failed++),
    );
  }
  await Promise.all(pending);
  took.sort((a, b) => a - b);
  const at = (p: number) => took[Math.min(took.length - 1, Math.floor((p / 100) * took.length))] ?? 0;
  return { writes, failed, writeMs: { p50: at(50), p99: at(99) } };
}

async function scenario(name: string, subscribeTo: Galley, writeTo: Galley, subscribers: number, rate: number, seconds: number): Promise<ScenarioResult> {
  process.stdout.write(`\n${name}: ${subscribers} subscribers, ${rate} writes/s for ${seconds} s\n`);
  const c = clients();
  try {
    const ready = await c.ask<number>({ connect: { url: subscribeTo.server.url, count: subscribers, collection: 'posts' } }, 'ready');
    process.stdout.write(`  ${ready} subscribed\n`);
    const cpu0 = cpuSeconds(subscribeTo.server.pid);
    const writes0 = writeCalls(subscribeTo.server.pid);
    const clientCpu0 = cpuSeconds(c.child.pid ?? -1);
    const t0 = Date.now();
    const { writes, failed, writeMs } = await writeLoad(writeTo.server.url, rate, seconds);
    const expected = writes * ready;
    const stats = await c.ask<Stats>({ finish: { expected, quietMs: 5000, maxWaitMs: 30_000 } }, 'stats');
    const cpu1 = cpuSeconds(subscribeTo.server.pid);
    const writes1 = writeCalls(subscribeTo.server.pid);
    const clientCpu1 = cpuSeconds(c.child.pid ?? -1);
    const wall = (Math.max(stats.lastAt, Date.now() - 5000) - t0) / 1000;
    const result: ScenarioResult = {
      name,
      subscribers: ready,
      writesPerSecond: rate,
      seconds,
      writes,
      failedWrites: failed,
      expectedDeliveries: expected,
      deliveries: stats.deliveries,
      deliveriesPerSecond: Math.round(stats.deliveries / ((stats.lastAt - t0) / 1000)),
      latencyMs: { p50: stats.p50, p99: stats.p99, max: stats.max },
      writeMs,
      closedByServer: stats.closeCodes,
      loadAverage: Math.round(os.loadavg()[0]! * 100) / 100,
      ...(cpu0 !== undefined && cpu1 !== undefined ? { serverCpuCores: Math.round(((cpu1 - cpu0) / wall) * 100) / 100 } : {}),
      ...(clientCpu0 !== undefined && clientCpu1 !== undefined ? { clientCpuCores: Math.round(((clientCpu1 - clientCpu0) / wall) * 100) / 100 } : {}),
      ...(writes0 !== undefined && writes1 !== undefined && stats.deliveries > 0 ? { serverWritesPerDelivery: Math.round(((writes1 - writes0) / stats.deliveries) * 100) / 100 } : {}),
    };
    process.stdout.write(
      `  ${result.deliveries}/${expected} delivered (${stats.closedEarly} sockets closed by the server: ${JSON.stringify(stats.closeCodes)}), ${result.deliveriesPerSecond} deliveries/s, latency p50 ${stats.p50} ms, p99 ${stats.p99} ms, max ${stats.max} ms; writes p50 ${writeMs.p50} ms, p99 ${writeMs.p99} ms` +
        (result.serverCpuCores !== undefined ? `, server CPU ${result.serverCpuCores} cores` : '') +
        (result.clientCpuCores !== undefined ? `, subscribers' process CPU ${result.clientCpuCores} cores` : '') +
        (result.serverWritesPerDelivery !== undefined ? `, ${result.serverWritesPerDelivery} write calls per delivery\n` : '\n'),
    );
    return result;
  } finally {
    c.child.kill('SIGKILL');
  }
}

function markdown(run: { date: string; machine: unknown; results: ScenarioResult[]; skipped: string[] }): string {
  const rows = run.results.map(
    (r) =>
      `| ${r.name} | ${r.subscribers} | ${r.writesPerSecond} × ${r.seconds} s (${r.failedWrites} failed) | ${r.deliveries.toLocaleString('en')} / ${r.expectedDeliveries.toLocaleString('en')} | ${r.deliveriesPerSecond.toLocaleString('en')} | ${r.latencyMs.p50} | ${r.latencyMs.p99} | ${r.latencyMs.max} | ${r.writeMs.p50} / ${r.writeMs.p99} | ${Object.entries(r.closedByServer).map(([c, n]) => `${n} × ${c}`).join(', ') || '0'} | ${r.serverCpuCores ?? '–'} | ${r.clientCpuCores ?? '–'} | ${r.serverWritesPerDelivery ?? '–'} | ${r.loadAverage} |`,
  );
  return [
    '# Realtime benchmark (`npm run bench:realtime`)',
    '',
    `Run ${run.date} on ${JSON.stringify(run.machine)}.`,
    '',
    'Latency: from the moment the writer starts the `POST` to the event arriving at the subscriber (client and server on the same',
    'machine and clock). Deliveries/s: events received by all subscribers, over the time from the first write to the last event.',
    'Server CPU: CPU seconds of the instance holding the sockets per wall second (1.0 = one core of the 2); client CPU: the same for',
    'the process holding the subscribers\' sockets (near 1.0, it limits what is measured).',
    '',
    '| scenario | subscribers | writes | delivered | deliveries/s | p50 ms | p99 ms | max ms | write p50/p99 ms | closed by server | server CPU | client CPU | writes per delivery | load avg |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
    ...(run.skipped.length ? ['', ...run.skipped.map((s) => `Skipped: ${s}`)] : []),
    '',
  ].join('\n');
}

async function main(): Promise<number> {
  const options = parseArgs(process.argv.slice(2));
  installSignalHandlers(killAllNow);
  const results: ScenarioResult[] = [];
  const skipped: string[] = [];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'galley-bench-realtime-'));
  onCleanup('remove data folders', async () => fs.rmSync(dir, { recursive: true, force: true }));

  const single = await startGalley({ dataDir: path.join(dir, 'single') });
  try {
    results.push(await scenario('one instance (SQLite)', single, single, options.subscribers, options.rate, options.seconds));
  } finally {
    await single.server.stop();
  }

  if (options.cross) {
    const reason = await pgUnreachableReason(PG_SERVER);
    if (reason) skipped.push(`two instances: PostgreSQL unreachable (${reason})`);
    else {
      const name = 'galley_bench_realtime';
      await recreateDatabase(PG_SERVER, name);
      onCleanup('drop the realtime database', () => dropDatabase(PG_SERVER, name));
      const env = { REDIS_URL: REDIS, GALLEY_REDIS_PREFIX: `galley-bench-${process.pid}:` };
      const url = databaseUrl(PG_SERVER, name);
      const a = await startGalley({ dataDir: path.join(dir, 'a'), databaseUrl: url, env });
      const b = await startGalley({ dataDir: path.join(dir, 'b'), databaseUrl: url, env });
      try {
        results.push(await scenario('two instances (PostgreSQL + Redis): write on A, subscribers on B', b, a, options.crossSubscribers, options.rate, options.crossSeconds));
      } finally {
        await Promise.all([a.server.stop(), b.server.stop()]);
      }
    }
  }

  const run = { date: new Date().toISOString(), options, machine: machineInfo(), results, skipped };
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  const stamp = run.date.replace(/:/g, '-').replace(/\.\d+Z$/, 'Z');
  fs.writeFileSync(path.join(RESULTS_DIR, `realtime-${stamp}.json`), `${JSON.stringify(run, null, 2)}\n`);
  fs.writeFileSync(path.join(RESULTS_DIR, 'realtime.md'), markdown(run));
  process.stdout.write(`\nwritten: bench/results/realtime-${stamp}.json and bench/results/realtime.md\n`);
  await cleanupAll();
  return results.every((r) => r.failedWrites === 0) ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  async (err: unknown) => {
    process.stderr.write(`bench:realtime failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    await cleanupAll();
    process.exit(1);
  },
);
