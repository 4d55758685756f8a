// The Database port: the few operations core code needs, the same on SQLite and PostgreSQL.
// Core code builds SQL with `SqlParams` (placeholders per dialect) and never sees a driver.

export type Dialect = 'sqlite' | 'postgres';

export interface RunResult {
  /** Rows inserted, updated or deleted. */
  changes: number;
}

export interface Queryable {
  readonly dialect: Dialect;
  all<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  get<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T | undefined>;
  run(sql: string, params?: readonly unknown[]): Promise<RunResult>;
  /** Runs a script of statements without parameters (DDL). */
  exec(script: string): Promise<void>;
  /**
   * Tells every instance sharing the database (see Database.listen) that `channel` changed, once
   * the surrounding transaction commits. A no-op on SQLite, which serves a single process.
   */
  notify(channel: string, payload?: string): Promise<void>;
}

/** The handle a transaction body receives: a Queryable that can also hook the commit. */
export interface Transaction extends Queryable {
  /**
   * Runs `fn` inside the transaction after the body has finished, just before COMMIT (in the order
   * registered); a throw rolls everything back. Work that must hold a lock only until the commit
   * (the change log's sequence counter) goes here, so the lock is held as briefly as possible.
   */
  beforeCommit(fn: () => Promise<void>): void;
  /**
   * Runs `fn` once the transaction has committed; never after a rollback. `fn` must not throw (or
   * reject). A promise it returns is awaited before `transaction()` resolves, after the connection
   * went back to the pool.
   */
  afterCommit(fn: () => void | Promise<void>): void;
  /**
   * The transaction's last statement: `build` runs after the body and the beforeCommit hooks, and
   * its statement goes out together with COMMIT (on PostgreSQL in one round trip); if it fails,
   * nothing is committed. At most one per transaction.
   */
  commitWith(build: () => Statement): void;
  /**
   * Runs a statement whose answer the body does not need: on PostgreSQL it goes out with the
   * transaction's next statement (or its COMMIT) in one write, instead of costing a round trip of
   * its own; on SQLite it runs at once. If it fails, nothing is committed, and its error — as
   * `mapError` turns it, e.g. a UniqueViolationError into an ApiError — is what the next statement
   * (or the commit) throws. So a failure may surface after the body has moved on: use it only where
   * the error means the same wherever it surfaces.
   */
  runDeferred(sql: string, params: readonly unknown[], mapError?: (err: unknown) => unknown): void;
}

/** A statement with its parameters. */
export interface Statement {
  sql: string;
  params: unknown[];
}

export interface Database extends Queryable {
  /**
   * Runs `fn` in one transaction: committed when it resolves, rolled back when it throws.
   * Statements must go through the `tx` handed to `fn`.
   */
  transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T>;
  /** Resolves when the database answers a trivial query. */
  ping(): Promise<void>;
  /**
   * Calls `listener` with the payload after any instance commits a `notify(channel)` — and with
   * undefined after a lost listening connection comes back, since notifications may have been missed. SQLite: never (one
   * process owns the file; in-process consumers are told directly).
   */
  listen(channel: string, listener: (payload?: string) => void): Promise<void>;
  /** Forgets prepared statements: called after DDL, whose column types cached plans may no longer match. */
  resetStatementCache(): void;
  close(): Promise<void>;
}

/**
 * Collects the parameters of one statement and hands out the matching placeholders
 * (`?` for SQLite, `$n` for PostgreSQL), so values never enter SQL text.
 */
export class SqlParams {
  readonly values: unknown[] = [];
  constructor(readonly dialect: Dialect) {}

  /** Adds a value and returns its placeholder. */
  add(value: unknown): string {
    this.values.push(value);
    return this.dialect === 'postgres' ? `$${this.values.length}` : '?';
  }
}

/** Quotes an identifier. Names are validated before they get here; quoting keeps reserved words usable. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** A unique index refused a write; `columns` are the offending columns (as far as the driver says). */
export class UniqueViolationError extends Error {
  constructor(readonly columns: string[]) {
    super(`unique constraint failed on ${columns.join(', ')}`);
    this.name = 'UniqueViolationError';
  }
}

/** The database did not answer (connection refused or lost, busy past its timeout): worth a retry later. */
export class DatabaseUnavailableError extends Error {
  constructor(readonly reason: string) {
    super(`database unavailable: ${reason}`);
    this.name = 'DatabaseUnavailableError';
  }
}
