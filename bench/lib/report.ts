// Results: the console table per database (req/s, p50, p99, Galley ÷ reference against its target,
// Galley's p99 against the latency budget), a JSON file per run in bench/results/, and
// bench/results/latest.md (overwritten each run).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Measurement } from './load.ts';
import { loginFloodLine, type LoginFloodResult } from './login-flood.ts';
import type { BenchOptions, DbKind } from './options.ts';
import { DEEP_PAGE_TARGET, P99_BUDGET_MS, type ScenarioInfo } from './scenarios.ts';

export interface ScenarioResult extends ScenarioInfo {
  /** e.g. "page 1,000" or "page 83 (fewer records)". */
  detail?: string;
  reference?: Measurement;
  galley?: Measurement;
  /** Galley ÷ reference req/s. */
  ratio?: number;
  pass?: boolean;
  /** Galley's p99 is under P99_BUDGET_MS. */
  p99Pass?: boolean;
  /** Set when the scenario could not be measured or had more than 1% errors. */
  failure?: string;
}

export interface DbResult {
  db: DbKind;
  skipped?: string;
  failure?: string;
  scenarios: ScenarioResult[];
  /** Deep page req/s ÷ page 1 req/s, per server. */
  deepVsFirst?: { galley?: number; reference?: number; pass?: boolean };
  loginFlood?: LoginFloodResult;
}

export interface RunResult {
  date: string;
  options: Omit<BenchOptions, 'pgUrl'>;
  machine: { node: string; cpus: number; cpuModel: string; platform: string };
  results: DbResult[];
}

export function machineInfo(): RunResult['machine'] {
  const cpus = os.cpus();
  return { node: process.version, cpus: cpus.length, cpuModel: cpus[0]?.model ?? 'unknown', platform: `${os.platform()} ${os.release()}` };
}

const num = (n: number | undefined, digits = 0) => (n === undefined || Number.isNaN(n) ? '–' : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }));
const ms = (n: number | undefined) => (n === undefined ? '–' : `${num(n, n < 10 ? 2 : n < 100 ? 1 : 0)} ms`);
/** Two decimals, or three when two would round a miss up to the target (0.898 → "0.898", not "0.90"). */
const ratio = (r: number | undefined, target: number) =>
  r === undefined ? '–' : `${r < target && Number(r.toFixed(2)) >= target ? r.toFixed(3) : r.toFixed(2)}×`;
const verdict = (pass: boolean | undefined) => (pass === undefined ? '' : pass ? 'ok' : 'MISSED');

export function summarize(s: ScenarioResult): void {
  if (s.reference && s.galley && !s.failure) {
    s.ratio = s.galley.rps / s.reference.rps;
    s.pass = s.ratio >= s.target;
    s.p99Pass = s.galley.p99 < P99_BUDGET_MS;
  }
}

export function deepVsFirst(scenarios: readonly ScenarioResult[]): DbResult['deepVsFirst'] {
  const first = scenarios.find((s) => s.name === 'list');
  const deep = scenarios.find((s) => s.name === 'deep');
  if (!first || !deep || first.failure || deep.failure) return undefined;
  const ratio = (a?: Measurement, b?: Measurement) => (a && b ? a.rps / b.rps : undefined);
  const galley = ratio(deep.galley, first.galley);
  return { galley, reference: ratio(deep.reference, first.reference), pass: galley === undefined ? undefined : galley >= DEEP_PAGE_TARGET };
}

function rows(db: DbResult): string[][] {
  return db.scenarios.map((s) => [
    s.label + (s.detail ? ` (${s.detail})` : '') + (s.comparedTo ? ` — ref: ${s.comparedTo}` : ''),
    num(s.reference?.rps),
    ms(s.reference?.p50),
    ms(s.reference?.p99),
    num(s.galley?.rps),
    ms(s.galley?.p50),
    ms(s.galley?.p99),
    s.failure ? 'FAILED' : ratio(s.ratio, s.target),
    `≥ ${s.target}×`,
    s.failure ? 'FAILED' : verdict(s.pass),
    s.p99Pass === undefined ? '' : s.p99Pass ? 'ok' : 'OVER',
  ]);
}

const HEADER = ['scenario', 'ref req/s', 'ref p50', 'ref p99', 'Galley req/s', 'Galley p50', 'Galley p99', 'Galley ÷ ref', 'target', '', `Galley p99 < ${P99_BUDGET_MS} ms`];

function deepLine(db: DbResult): string | undefined {
  const d = db.deepVsFirst;
  if (!d) return undefined;
  return `page 1,000 ÷ page 1: Galley ${ratio(d.galley, DEEP_PAGE_TARGET)} (target ≥ ${DEEP_PAGE_TARGET}×, ${verdict(d.pass)}), reference ${ratio(d.reference, 0)}`;
}

function failures(db: DbResult): string[] {
  return [db.failure, ...db.scenarios.map((s) => (s.failure ? `${s.label}: ${s.failure}` : undefined))].filter((f): f is string => !!f);
}

export function printDb(db: DbResult): void {
  const title = `\n== ${db.db === 'sqlite' ? 'SQLite' : 'PostgreSQL'} ==`;
  if (db.skipped) return void process.stdout.write(`${title}\nskipped: ${db.skipped}\n`);
  if (db.scenarios.length === 0) return void process.stdout.write(`${title}\nFAILED: ${db.failure ?? 'nothing measured'}\n`);
  const table = [HEADER, ...rows(db)];
  const widths = HEADER.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  process.stdout.write(`${title}\n${table.map(line).join('\n')}\n`);
  const deep = deepLine(db);
  if (deep) process.stdout.write(`${deep}\n`);
  if (db.loginFlood) process.stdout.write(`${loginFloodLine(db.loginFlood)}\n`);
  for (const f of failures(db)) process.stdout.write(`FAILED: ${f}\n`);
}

function markdown(run: RunResult): string {
  const out = [
    `# Galley benchmark — latest run`,
    '',
    `${run.date} · Node ${run.machine.node} · ${run.machine.cpus} × ${run.machine.cpuModel} · ${run.options.records.toLocaleString('en-US')} records · ` +
      `${run.options.connections} connections · ${run.options.duration} s per scenario and server` +
      `${run.options.rounds > 1 ? ` × ${run.options.rounds} alternating rounds` : ''} (after a 2 s warm-up). ` +
      'Written by `npm run bench`; see docs/benchmarks.md for how to read it.',
  ];
  for (const db of run.results) {
    out.push('', `## ${db.db === 'sqlite' ? 'SQLite' : 'PostgreSQL'}`, '');
    if (db.skipped) {
      out.push(`Skipped: ${db.skipped}`);
      continue;
    }
    if (db.scenarios.length === 0) {
      out.push(`**FAILED:** ${db.failure ?? 'nothing measured'}`);
      continue;
    }
    out.push(`| ${HEADER.map((h) => h || 'result').join(' | ')} |`, `| ${HEADER.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`);
    for (const r of rows(db)) out.push(`| ${r.join(' | ')} |`);
    const deep = deepLine(db);
    if (deep) out.push('', deep);
    if (db.loginFlood) out.push('', loginFloodLine(db.loginFlood));
    for (const f of failures(db)) out.push('', `**FAILED:** ${f}`);
  }
  return `${out.join('\n')}\n`;
}

/** Writes bench/results/<date>.json and bench/results/latest.md; returns the JSON file's path. */
export function writeResults(run: RunResult, dir: string): string {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${run.date.replace(/:/g, '-').replace(/\.\d+Z$/, 'Z')}.json`);
  fs.writeFileSync(file, `${JSON.stringify(run, null, 2)}\n`);
  fs.writeFileSync(path.join(dir, 'latest.md'), markdown(run));
  return file;
}
