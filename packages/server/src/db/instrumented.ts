// A Database that times every statement (inside transactions too) for the metrics, and logs
// statements slower than a threshold with their query plan — never with their parameter values.

import type { Logger } from 'pino';
import type { Database, Queryable, RunResult, Transaction } from './database.ts';
import type { Metrics } from '../core/metrics.ts';

export interface InstrumentOptions {
  metrics: Metrics;
  logger: Logger;
  /** Statements taking at least this long are logged with their plan; 0 turns the log off. */
  slowQueryMs: number;
}

type Kind = 'all' | 'get' | 'run' | 'exec';

/** SQL text is logged up to this length: enough to recognise a statement, bounded for the log. */
const MAX_LOGGED_SQL = 2000;

export function instrumentDatabase(db: Database, options: InstrumentOptions): Database {
  const { metrics, logger, slowQueryMs } = options;

  /** Asks the database how it runs `sql` (without running it) and logs that with the timing. */
  const logSlow = (ms: number, sql: string, params: readonly unknown[]) => {
    metrics.slowQueries.inc();
    const explain = db.dialect === 'postgres' ? `EXPLAIN ${sql}` : `EXPLAIN QUERY PLAN ${sql}`;
    // Plans are read outside any transaction, on the plain handle: a best effort that must never fail the request.
    db.all<Record<string, unknown>>(explain, params).then(
      (rows) => {
        const plan = rows.map((r) => String(r['QUERY PLAN'] ?? r.detail ?? '')).join('\n');
        logger.warn({ ms: Math.round(ms), sql: sql.slice(0, MAX_LOGGED_SQL), plan }, 'slow query');
      },
      () => logger.warn({ ms: Math.round(ms), sql: sql.slice(0, MAX_LOGGED_SQL) }, 'slow query (no plan available)'),
    );
  };

  async function timed<T>(kind: Kind, sql: string, params: readonly unknown[], run: () => Promise<T>): Promise<T> {
    const start = performance.now();
    try {
      return await run();
    } finally {
      const ms = performance.now() - start;
      metrics.dbDuration.observe({ kind }, ms / 1000);
      // DDL scripts and EXPLAIN itself are not explained.
      if (slowQueryMs > 0 && ms >= slowQueryMs && kind !== 'exec' && !/^\s*EXPLAIN\b/i.test(sql)) logSlow(ms, sql, params);
    }
  }

  // A transaction's runDeferred passes through untimed: its answer comes with a later statement's.
  function wrap<Q extends Queryable>(q: Q): Q {
    return {
      ...q,
      dialect: q.dialect,
      all: <T>(sql: string, params: readonly unknown[] = []) => timed('all', sql, params, () => q.all<T>(sql, params)),
      get: <T>(sql: string, params: readonly unknown[] = []) => timed('get', sql, params, () => q.get<T>(sql, params)),
      run: (sql: string, params: readonly unknown[] = []): Promise<RunResult> => timed('run', sql, params, () => q.run(sql, params)),
      exec: (script: string) => timed('exec', script, [], () => q.exec(script)),
      notify: (channel: string, payload?: string) => q.notify(channel, payload),
    };
  }

  const plain = wrap<Queryable>(db);
  return {
    ...plain,
    transaction: <T>(fn: (tx: Transaction) => Promise<T>) => db.transaction((tx) => fn(wrap(tx))),
    ping: () => db.ping(),
    listen: (channel, listener) => db.listen(channel, listener),
    resetStatementCache: () => db.resetStatementCache(),
    close: () => db.close(),
  };
}
