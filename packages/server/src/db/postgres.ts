// The PostgreSQL adapter (pg): a connection pool, named prepared statements for repeated SQL,
// and type parsers so rows come back in the same shapes as from SQLite (ISO timestamps, numbers).
// Connections are in pipeline mode, so a transaction's BEGIN travels with its first statement and
// its COMMIT with its last (Transaction.commitWith): one round trip each instead of two; deferred
// statements (Transaction.runDeferred) wait to go out with whatever is sent next.

import pg from 'pg';
import { DatabaseUnavailableError, quoteIdent, UniqueViolationError, type Database, type Queryable, type RunResult, type Statement, type Transaction } from './database.ts';
import { CommitHooks } from './commit-hooks.ts';

const MAX_NAMED_STATEMENTS = 1000;

const TYPE_OIDS = { int8: 20, numeric: 1700, timestamp: 1114, timestamptz: 1184 } as const;

/**
 * The text of a timestamptz in a session whose time zone is UTC (DateStyle ISO, PostgreSQL's default):
 * `2026-12-03 17:59:52.23+00`, the fraction without trailing zeros (none when zero), up to 6 digits.
 * Years before 1000 are left out: Date reads `0099-…` as 1999, and what it answers must not change.
 */
const UTC_TIMESTAMP_TEXT = /^[1-9]\d{3}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{1,6})?\+00$/;

/**
 * A timestamp as the API writes it: ISO 8601 in UTC with milliseconds. The usual text is rearranged
 * (Date truncates microseconds, and so does this); `new Date(value).toISOString()` cost ~1 µs per
 * value, and a 20-row page has 42 of them. Any other shape (another time zone, BC, infinity, a
 * timestamp without time zone) still goes through Date.
 */
export function toIso(value: string): string {
  if (!UTC_TIMESTAMP_TEXT.test(value)) return new Date(value).toISOString();
  const fraction = value.length === 22 ? '' : value.slice(20, -3);
  return `${value.slice(0, 10)}T${value.slice(11, 19)}.${(fraction + '000').slice(0, 3)}Z`;
}

/** Per-pool type parsers (not the global pg.types, so an application embedding Galley is unaffected). */
const typeParsers = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === TYPE_OIDS.timestamptz || oid === TYPE_OIDS.timestamp) return toIso;
    if (oid === TYPE_OIDS.int8 || oid === TYPE_OIDS.numeric) return Number;
    return pg.types.getTypeParser(oid, format ?? 'text');
  },
};

interface PgError extends Error {
  code?: string;
  detail?: string;
}

/** Socket-level failures of the driver. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH']);

/**
 * The server did not answer, or will not serve this session: network errors, connection exceptions
 * (class 08), insufficient resources (53), operator intervention (57P: shutdown, crash recovery), and
 * any FATAL error (the session is gone, e.g. the database refuses connections).
 */
function isUnavailable(e: PgError & { severity?: string }): boolean {
  if (e.code && (NETWORK_CODES.has(e.code) || /^(08|53|57P)/.test(e.code))) return true;
  if (e.severity === 'FATAL') return true;
  return /Connection terminated|timeout exceeded when trying to connect/i.test(e.message ?? '');
}

/** For `.catch(rethrow)`: the driver's error, as the Database port's errors where one applies. */
function rethrow(err: unknown): never {
  throw translateError(err);
}

function translateError(err: unknown): unknown {
  const e = err as PgError;
  if (e && typeof e === 'object' && isUnavailable(e)) {
    return new DatabaseUnavailableError(e.code ?? e.message);
  }
  if (e && e.code === '23505') {
    // detail: Key (title, status)=(x, y) already exists.
    const match = /^Key \(([^)]*)\)=/.exec(e.detail ?? '');
    const columns = match ? match[1]!.split(',').map((c) => c.trim().replace(/^"|"$/g, '')) : [];
    return new UniqueViolationError(columns);
  }
  return err;
}

type Client = pg.Pool | pg.PoolClient;

/** Runs `send`, whose queries go out in one write (the connection is in pipeline mode, so none waits for another's answer). */
function writeTogether(client: pg.PoolClient, send: () => void): void {
  const stream = client.connection.stream as unknown as { cork(): void; uncork(): void };
  stream.cork();
  try {
    send();
  } finally {
    stream.uncork();
  }
}

/**
 * Waits for the answers of statements sent together and throws the first failure in the order they
 * were sent: after it the server aborted the transaction, so the later ones only say that (and the
 * order in which rejections settle depends on how many handlers each promise went through).
 */
async function firstFailure(answers: Promise<unknown>[]): Promise<void> {
  const settled = await Promise.allSettled(answers);
  const failed = settled.find((s) => s.status === 'rejected');
  if (failed) throw failed.reason;
}

/** Sends a statement of a transaction; the first one carries the BEGIN in front of it. */
type Sender = <R>(send: () => Promise<R>) => Promise<R>;

export class PostgresDatabase implements Database {
  readonly dialect = 'postgres' as const;
  private readonly pool: pg.Pool;
  private readonly statementNames = new Map<string, string>();
  /** Bumped by resetStatementCache so that statements prepared before DDL are never reused. */
  private generation = 0;
  private readonly poolHandle: Queryable;
  private readonly connectionString: string;
  private readonly listeners = new Map<string, Set<(payload?: string) => void>>();
  private listenClient: pg.Client | undefined;
  private closing = false;

  constructor(options: { connectionString: string; max: number }) {
    this.pool = new pg.Pool({
      connectionString: options.connectionString,
      max: options.max,
      types: typeParsers,
      connectionTimeoutMillis: 10_000,
      // Statements are still awaited one by one; this lets a transaction put BEGIN and COMMIT in
      // the same write as a statement (see transaction()).
      pipeline: true,
    });
    // An idle client that loses its connection must not crash the process.
    this.pool.on('error', () => {});
    this.poolHandle = this.handle(this.pool);
    this.connectionString = options.connectionString;
  }

  /** `retry`: run the statement again, unprepared, if the server's cached plan no longer fits. */
  private query(client: Client, sql: string, params: readonly unknown[], retry = true): Promise<pg.QueryResult> {
    let name = this.statementNames.get(sql);
    if (name === undefined && this.statementNames.size < MAX_NAMED_STATEMENTS) {
      name = `g${this.generation}_${this.statementNames.size}`;
      this.statementNames.set(sql, name);
    }
    const values = params as unknown[];
    const run = (named: string | undefined) => (named ? client.query({ name: named, text: sql, values }) : client.query(sql, values));
    return run(name).catch((err: unknown) => {
      // Another instance changed a table under a statement this connection prepared before
      // ("cached plan must not change result type"): forget our statements and run it afresh.
      if (retry && name && (err as PgError).code === '0A000') {
        this.resetStatementCache();
        return run(undefined).catch(rethrow);
      }
      throw translateError(err);
    });
  }

  private handle(client: Client, send: Sender = (fn) => fn()): Queryable {
    return {
      dialect: 'postgres',
      all: async <T>(sql: string, params: readonly unknown[] = []) => (await send(() => this.query(client, sql, params))).rows as T[],
      get: async <T>(sql: string, params: readonly unknown[] = []) => (await send(() => this.query(client, sql, params))).rows[0] as T | undefined,
      run: async (sql: string, params: readonly unknown[] = []): Promise<RunResult> => ({
        changes: (await send(() => this.query(client, sql, params))).rowCount ?? 0,
      }),
      exec: async (script: string) => {
        await send(() => client.query(script).catch(rethrow));
      },
      // pg_notify inside a transaction is delivered at commit, and not at all on rollback.
      notify: async (channel: string, payload = '') => {
        await send(() => client.query('SELECT pg_notify($1, $2)', [channel, payload]).catch(rethrow));
      },
    };
  }


  all<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]> {
    return this.poolHandle.all<T>(sql, params);
  }
  get<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T | undefined> {
    return this.poolHandle.get<T>(sql, params);
  }
  run(sql: string, params?: readonly unknown[]): Promise<RunResult> {
    return this.poolHandle.run(sql, params);
  }
  exec(script: string): Promise<void> {
    return this.poolHandle.exec(script);
  }
  notify(channel: string, payload?: string): Promise<void> {
    return this.poolHandle.notify(channel, payload);
  }

  /**
   * One dedicated connection LISTENs for every channel (a pooled one could be handed to a query
   * mid-notification). When it drops, it reconnects with backoff and calls every listener once.
   */
  async listen(channel: string, listener: (payload?: string) => void): Promise<void> {
    let set = this.listeners.get(channel);
    if (!set) this.listeners.set(channel, (set = new Set()));
    set.add(listener);
    if (this.listenClient) await this.listenClient.query(`LISTEN ${quoteIdent(channel)}`);
    else await this.connectListener();
  }

  private async connectListener(): Promise<void> {
    const client = new pg.Client({ connectionString: this.connectionString, connectionTimeoutMillis: 10_000 });
    const lost = () => {
      if (this.listenClient !== client || this.closing) return;
      this.listenClient = undefined;
      client.end().catch(() => {});
      const retry = (delay: number) =>
        setTimeout(() => {
          if (this.closing) return;
          this.connectListener().then(
            () => this.listeners.forEach((set) => set.forEach((fn) => fn())),
            () => retry(Math.min(delay * 2, 30_000)),
          );
        }, delay).unref();
      retry(500);
    };
    client.on('error', lost);
    client.on('end', lost);
    client.on('notification', (message) => this.listeners.get(message.channel)?.forEach((fn) => fn(message.payload)));
    await client.connect();
    this.listenClient = client;
    for (const channel of this.listeners.keys()) await client.query(`LISTEN ${quoteIdent(channel)}`);
  }

  async transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> {
    const client = await this.pool.connect().catch(rethrow);
    const hooks = new CommitHooks();
    // Nothing is sent until the first statement, which goes out right behind BEGIN.
    let begun: Promise<unknown> | undefined;
    // Deferred statements (Transaction.runDeferred) not sent yet: they go out in front of the next one.
    const deferred: Array<() => Promise<unknown>> = [];
    /** Sends what must precede the next statement — BEGIN, the deferred ones — and returns their answers. */
    const ahead = (): Promise<unknown>[] => {
      const answers: Promise<unknown>[] = [];
      if (!begun) answers.push((begun = client.query('BEGIN').catch(rethrow)));
      for (const statement of deferred.splice(0)) answers.push(statement());
      return answers;
    };
    const send: Sender = <R>(statement: () => Promise<R>): Promise<R> => {
      if (begun && deferred.length === 0) return statement();
      let before!: Promise<unknown>[];
      let sent!: Promise<R>;
      writeTogether(client, () => {
        before = ahead();
        sent = statement();
      });
      return firstFailure([...before, sent]).then(() => sent);
    };
    const runDeferred: Transaction['runDeferred'] = (sql, params, mapError) => {
      deferred.push(() =>
        // No retry: a second try would go out after the statements sent behind this one.
        this.query(client, sql, params, false).catch((err: unknown) => {
          throw mapError ? mapError(err) : err;
        }),
      );
    };
    let result: T;
    try {
      try {
        result = await fn(hooks.wrap(this.handle(client, send), runDeferred));
        await hooks.beforeCommit();
        await this.commit(client, begun !== undefined || deferred.length > 0, ahead, hooks.lastStatement());
      } catch (err) {
        if (begun) await client.query('ROLLBACK').catch(() => {});
        throw err;
      }
    } finally {
      client.release();
    }
    // Committed; the connection is free for whatever the hooks await (the change log's numbering).
    await hooks.afterCommit();
    return result;
  }

  /**
   * Ends a transaction: what is still to send (`ahead`: BEGIN, deferred statements), its last
   * statement and COMMIT in one write. When a statement fails, the server answers COMMIT with a
   * rollback, and the statement's error is thrown. A transaction that ran nothing before its last
   * statement runs it alone (one statement commits atomically).
   */
  private async commit(client: pg.PoolClient, started: boolean, ahead: () => Promise<unknown>[], last: Statement | undefined): Promise<void> {
    if (!started) {
      if (last) await this.query(client, last.sql, last.params, false);
      return;
    }
    let answers!: Promise<unknown>[];
    writeTogether(client, () => {
      answers = ahead();
      // No retry: a second try would run after the COMMIT, outside the transaction.
      if (last) answers.push(this.query(client, last.sql, last.params, false));
      answers.push(client.query('COMMIT').catch(rethrow));
    });
    await firstFailure(answers);
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1').catch(rethrow);
  }

  resetStatementCache(): void {
    this.generation++;
    this.statementNames.clear();
  }

  async close(): Promise<void> {
    this.closing = true;
    const listener = this.listenClient;
    this.listenClient = undefined;
    await listener?.end().catch(() => {});
    await this.pool.end();
  }
}
