// Command-line options of `npm run bench`: --db sqlite|postgres|both, --duration, --records,
// --connections, --rounds (and --pg-url); validated and bounded so a typo cannot start an endless run.

export type DbKind = 'sqlite' | 'postgres';

export interface BenchOptions {
  dbs: DbKind[];
  /** Seconds measured per scenario and server (the 2 s warm-up comes on top). */
  duration: number;
  records: number;
  connections: number;
  /** Measured runs per scenario and server, alternating which server goes first (default 1). */
  rounds: number;
  /** Server-level PostgreSQL URL; the benchmark creates and drops its own databases there. */
  pgUrl: string;
}

export const USAGE = `usage: npm run bench -- [--db sqlite|postgres|both] [--duration 10] [--records 100000] [--connections 50] [--rounds 1] [--pg-url postgres://postgres@127.0.0.1:5432/test]`;

export class UsageError extends Error {}

function int(name: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got "${value}"`);
  return n;
}

export function parseOptions(argv: readonly string[]): BenchOptions {
  const raw = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') throw new UsageError(USAGE);
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument "${arg}"\n${USAGE}`);
    const eq = arg.indexOf('=');
    if (eq > 0) raw.set(arg.slice(2, eq), arg.slice(eq + 1));
    else if (i + 1 < argv.length) raw.set(arg.slice(2), argv[++i]!);
    else throw new UsageError(`${arg} needs a value\n${USAGE}`);
  }
  const known = new Set(['db', 'duration', 'records', 'connections', 'rounds', 'pg-url']);
  for (const key of raw.keys()) if (!known.has(key)) throw new UsageError(`unknown option --${key}\n${USAGE}`);
  const db = raw.get('db') ?? 'both';
  if (db !== 'sqlite' && db !== 'postgres' && db !== 'both') throw new UsageError(`--db must be sqlite, postgres or both, got "${db}"`);
  const pgUrl = raw.get('pg-url') ?? process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const host = new URL(pgUrl).hostname;
  if (host !== '127.0.0.1' && host !== 'localhost') throw new UsageError('--pg-url must point at 127.0.0.1: the benchmark never leaves this machine');
  return {
    dbs: db === 'both' ? ['sqlite', 'postgres'] : [db],
    duration: int('duration', raw.get('duration') ?? '10', 1, 600),
    records: int('records', raw.get('records') ?? '100000', 100, 10_000_000),
    connections: int('connections', raw.get('connections') ?? '50', 1, 1000),
    rounds: int('rounds', raw.get('rounds') ?? '1', 1, 20),
    pgUrl,
  };
}
