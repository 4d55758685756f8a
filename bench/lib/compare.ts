// One scenario, both servers, back to back under the same conditions: probe each (status, shape,
// same data), then per server a 2 s warm-up that is not recorded and the measured run(s). Or one
// server only, compared with a figure measured before (the cached list against the uncached one).

import { isInterrupted } from './cleanup.ts';
import { LoadTotals, runLoad, type LoadSpec, type Measurement } from './load.ts';
import type { BenchOptions } from './options.ts';
import type { ScenarioResult } from './report.ts';
import { probe, SCENARIOS, type Request, type ScenarioInfo } from './scenarios.ts';

export type TargetName = 'reference' | 'galley';
export const TARGETS: readonly TargetName[] = ['reference', 'galley'];
export const WARMUP_SECONDS = 2;
const MAX_ERROR_RATE = 0.01;
const LABEL_WIDTH = Math.max(...SCENARIOS.map((s) => s.label.length));

export type ScenarioRequests = Record<TargetName, Request>;
/** Scenarios whose two servers must return exactly the same records (and counts) for the same request. */
const SAME_ANSWER_REQUIRED = new Set(['get', 'search', 'facets']);
type RunOptions = Pick<BenchOptions, 'duration' | 'connections' | 'rounds'>;

function logLine(info: ScenarioInfo, target: string, m: Measurement): void {
  const rps = Math.round(m.rps).toLocaleString('en-US');
  const errors = m.unexpected + m.errors > 0 ? `  ${m.unexpected} unexpected statuses, ${m.errors} errors (${(m.errorRate * 100).toFixed(2)}%) ${JSON.stringify(m.statusCodes)}` : '';
  process.stdout.write(`  ${info.label.padEnd(LABEL_WIDTH)} ${target.padEnd(12)} ${rps.padStart(8)} req/s  p50 ${m.p50.toFixed(2)} ms  p99 ${m.p99.toFixed(2)} ms${errors}\n`);
}

function checkErrors(target: TargetName, m: Measurement): void {
  if (m.errorRate > MAX_ERROR_RATE) {
    throw new Error(`${target}: ${(m.errorRate * 100).toFixed(2)}% of requests failed (${m.unexpected} unexpected statuses, ${m.errors} errors; statuses ${JSON.stringify(m.statusCodes)})`);
  }
}

/** One measured run of one server (after a warm-up in round 1), logged, checked and added to `totals`. */
async function measureRound(info: ScenarioInfo, target: TargetName, spec: LoadSpec, round: number, options: RunOptions, totals: LoadTotals): Promise<void> {
  if (isInterrupted()) throw new Error('interrupted');
  if (round === 1) await runLoad({ ...spec, duration: WARMUP_SECONDS });
  const one = await runLoad(spec);
  const m = one.measurement();
  logLine(info, options.rounds > 1 ? `${target} ${round}/${options.rounds}` : target, m);
  checkErrors(target, m);
  totals.absorb(one);
}

export async function compareScenario(
  info: ScenarioInfo,
  urls: Record<TargetName, string>,
  requests: ScenarioRequests,
  options: RunOptions,
  detail?: string,
): Promise<ScenarioResult> {
  const result: ScenarioResult = { ...info, detail };
  try {
    const seen = await Promise.all(TARGETS.map((t) => probe(urls[t], requests[t])));
    if (!info.comparedTo && seen[0] !== seen[1]) {
      const shown = `\n  reference ${seen[0]}\n  galley    ${seen[1]}`;
      if (SAME_ANSWER_REQUIRED.has(info.name)) throw new Error(`the servers answer the same request differently:${shown}`);
      process.stdout.write(`  note: ${info.label}: the two servers' pages hold different ids (ties in created?)\n`);
    }
    const totals: Record<TargetName, LoadTotals> = { reference: new LoadTotals(), galley: new LoadTotals() };
    for (let round = 1; round <= options.rounds; round++) {
      // With several rounds the order alternates (reference first, then Galley first, …) so drift cancels out.
      for (const target of round % 2 === 1 ? TARGETS : [...TARGETS].reverse()) {
        const spec: LoadSpec = { baseUrl: urls[target], connections: options.connections, duration: options.duration, ...requests[target] };
        await measureRound(info, target, spec, round, options, totals[target]);
      }
    }
    result.reference = totals.reference.measurement();
    result.galley = totals.galley.measurement();
  } catch (err) {
    result.failure = err instanceof Error ? err.message : String(err);
    process.stdout.write(`  FAILED ${info.label}: ${result.failure}\n`);
  }
  return result;
}

/** Galley alone, probed and measured; its "reference" is `baseline`, a measurement taken earlier in the run. */
export async function measureAgainstBaseline(
  info: ScenarioInfo,
  galleyUrl: string,
  request: Request,
  baseline: Measurement | undefined,
  options: RunOptions,
): Promise<ScenarioResult> {
  const result: ScenarioResult = { ...info };
  try {
    if (!baseline) throw new Error(`nothing to compare with: ${info.comparedTo} was not measured`);
    await probe(galleyUrl, request);
    const totals = new LoadTotals();
    const spec: LoadSpec = { baseUrl: galleyUrl, connections: options.connections, duration: options.duration, ...request };
    for (let round = 1; round <= options.rounds; round++) await measureRound(info, 'galley', spec, round, options, totals);
    result.reference = baseline;
    result.galley = totals.measurement();
  } catch (err) {
    result.failure = err instanceof Error ? err.message : String(err);
    process.stdout.write(`  FAILED ${info.label}: ${result.failure}\n`);
  }
  return result;
}
