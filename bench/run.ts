// `npm run bench`: Galley against a minimal hand-written Fastify server on the same rows, for SQLite
// and PostgreSQL; prints the comparison and records it in bench/results/. See docs/benchmarks.md.

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchDatabase } from './lib/bench-db.ts';
import { cleanupAll, installSignalHandlers, isInterrupted } from './lib/cleanup.ts';
import { parseOptions, USAGE, UsageError, type BenchOptions } from './lib/options.ts';
import { killAllNow } from './lib/processes.ts';
import { machineInfo, printDb, writeResults, type RunResult } from './lib/report.ts';

const RESULTS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results');

async function main(): Promise<number> {
  let options: BenchOptions;
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`${err.message}\n`);
    return 2;
  }
  installSignalHandlers(killAllNow);
  const { pgUrl: _, ...shown } = options;
  process.stdout.write(`Galley benchmark: ${JSON.stringify(shown)}\n`);
  const run: RunResult = { date: new Date().toISOString(), options: shown, machine: machineInfo(), results: [] };
  for (const db of options.dbs) if (!isInterrupted()) run.results.push(await benchDatabase(db, options));
  process.stdout.write('\n# Results (req/s over the measured time; latency p50/p99 of 2xx responses at the given connections)\n');
  run.results.forEach(printDb);
  const measured = run.results.filter((r) => !r.skipped);
  // A run that measured nothing (Galley did not start, …) must not replace the last real results.
  if (measured.some((r) => r.scenarios.some((s) => s.reference || s.galley))) process.stdout.write(`\nwritten: ${path.relative(process.cwd(), writeResults(run, RESULTS_DIR))} and bench/results/latest.md\n`);
  const failed = measured.some((r) => r.failure || r.scenarios.some((s) => s.failure));
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  async (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    await cleanupAll();
    process.exit(1);
  },
);
