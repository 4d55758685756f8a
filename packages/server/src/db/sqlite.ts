// The SQLite adapter (better-sqlite3): one connection in WAL mode, prepared statements cached by
// SQL text, and an async lock so a transaction never interleaves with another request's statements.

import { createRequire } from 'node:module';
import type BetterSqlite3 from 'better-sqlite3';
import { DatabaseUnavailableError, UniqueViolationError, type Database, type Queryable, type RunResult, type Transaction } from './database.ts';
import { CommitHooks } from './commit-hooks.ts';

type Statement = BetterSqlite3.Statement<unknown[], unknown>;
type Driver = typeof BetterSqlite3;

/**
 * better-sqlite3 12 (a classic addon) aborts the process on Node 24 when a statement is collected
 * (Node 24's ObjectWrap cleanup hooks); 13 (Node-API, prebuilt) fixes that but needs Node ≥ 22.
 * So Node ≥ 22 loads 13 — installed as the optional `better-sqlite3-napi` alias, which npm skips
 * on Node 20 — and Node 20 loads 12. Both have the same API.
 */
function loadDriver(): Driver {
  const require = createRequire(import.meta.url);
  if (Number(process.versions.node.split('.')[0]) >= 22) {
    try {
      return require('better-sqlite3-napi') as Driver;
    } catch {
      // Not installed (an install made under Node 20): 12 still works on Node 22.
    }
  }
  return require('better-sqlite3') as Driver;
}

/** The better-sqlite3 build for this Node version (tests that drive SQLite directly use it too). */
export const SqliteDriver = loadDriver();
const STATEMENT_CACHE_SIZE = 500;

export interface SqliteOptions {
  /** A file path, or ':memory:'. */
  filename: string;
}

/** better-sqlite3 binds no booleans or undefined: map them to SQLite's own values. */
function bindable(params: readonly unknown[]): unknown[] {
  let copy: unknown[] | undefined;
  for (let i = 0; i < params.length; i++) {
    const v = params[i];
    if (typeof v === 'boolean' || v === undefined) {
      copy ??= params.slice();
      copy[i] = v === undefined ? null : v ? 1 : 0;
    }
  }
  return copy ?? (params as unknown[]);
}

function translateError(err: unknown): unknown {
  // Another process held the write lock past busy_timeout.
  if (err instanceof SqliteDriver.SqliteError && (err.code === 'SQLITE_BUSY' || err.code === 'SQLITE_LOCKED')) return new DatabaseUnavailableError(err.code);
  if (err instanceof SqliteDriver.SqliteError && (err.code === 'SQLITE_CONSTRAINT_UNIQUE' || err.code === 'SQLITE_CONSTRAINT_PRIMARYKEY')) {
    // "UNIQUE constraint failed: posts.title, posts.status"
    const list = err.message.split(':')[1] ?? '';
    const columns = list.split(',').map((c) => c.trim().split('.').pop()!).filter(Boolean);
    return new UniqueViolationError(columns);
  }
  return err;
}

export class SqliteDatabase implements Database {
  readonly dialect = 'sqlite' as const;
  private readonly db: BetterSqlite3.Database;
  private readonly statements = new Map<string, Statement>();
  /** Set while a transaction owns the connection; everyone else waits for it. */
  private busy: Promise<void> | undefined;
  /** The handle given to transaction bodies: runs statements without waiting for the lock it holds. */
  private readonly direct: Queryable;

  constructor(options: SqliteOptions) {
    this.db = new SqliteDriver(options.filename);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL'); // durable across process crashes in WAL mode; fsync at checkpoints
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma('cache_size = -65536'); // 64 MiB
    this.db.pragma('temp_store = MEMORY');
    this.db.pragma('mmap_size = 268435456');
    // Unicode-aware lower-casing, so `~` folds case the same way as PostgreSQL's lower() and JS.
    this.db.function('galley_casefold', { deterministic: true }, (x: unknown) => (x == null ? null : String(x).toLowerCase()));
    this.direct = {
      dialect: 'sqlite',
      all: async <T>(sql: string, params: readonly unknown[] = []) => this.allNow<T>(sql, params),
      get: async <T>(sql: string, params: readonly unknown[] = []) => this.getNow<T>(sql, params),
      run: async (sql: string, params: readonly unknown[] = []) => this.runNow(sql, params),
      exec: async (script: string) => this.execNow(script),
      notify: async () => {},
    };
  }

  private prepare(sql: string): Statement {
    let stmt = this.statements.get(sql);
    if (stmt) return stmt;
    stmt = this.db.prepare(sql);
    if (this.statements.size >= STATEMENT_CACHE_SIZE) {
      this.statements.delete(this.statements.keys().next().value!);
    }
    this.statements.set(sql, stmt);
    return stmt;
  }

  private allNow<T>(sql: string, params: readonly unknown[]): T[] {
    try {
      return this.prepare(sql).all(...bindable(params)) as T[];
    } catch (err) {
      throw translateError(err);
    }
  }

  private getNow<T>(sql: string, params: readonly unknown[]): T | undefined {
    try {
      return this.prepare(sql).get(...bindable(params)) as T | undefined;
    } catch (err) {
      throw translateError(err);
    }
  }

  private runNow(sql: string, params: readonly unknown[]): RunResult {
    try {
      const stmt = this.prepare(sql);
      if (stmt.reader) {
        stmt.all(...bindable(params));
        return { changes: 0 };
      }
      return { changes: stmt.run(...bindable(params)).changes };
    } catch (err) {
      throw translateError(err);
    }
  }

  private execNow(script: string): void {
    try {
      this.db.exec(script);
    } catch (err) {
      throw translateError(err);
    }
  }

  /** One connection, no round trips: a deferred statement runs at once, and its error is thrown there. */
  private runDeferred(sql: string, params: readonly unknown[], mapError?: (err: unknown) => unknown): void {
    try {
      this.runNow(sql, params);
    } catch (err) {
      throw mapError ? mapError(err) : err;
    }
  }

  private async whenFree(): Promise<void> {
    while (this.busy) await this.busy;
  }

  async all<T = Record<string, unknown>>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    if (this.busy) await this.whenFree();
    return this.allNow<T>(sql, params);
  }

  async get<T = Record<string, unknown>>(sql: string, params: readonly unknown[] = []): Promise<T | undefined> {
    if (this.busy) await this.whenFree();
    return this.getNow<T>(sql, params);
  }

  async run(sql: string, params: readonly unknown[] = []): Promise<RunResult> {
    if (this.busy) await this.whenFree();
    return this.runNow(sql, params);
  }

  async exec(script: string): Promise<void> {
    if (this.busy) await this.whenFree();
    this.execNow(script);
  }

  async transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> {
    await this.whenFree();
    let release!: () => void;
    this.busy = new Promise<void>((resolve) => (release = resolve));
    const hooks = new CommitHooks();
    let result: T;
    try {
      // BEGIN and COMMIT as cached prepared statements: exec() would parse them anew every time.
      this.prepare('BEGIN IMMEDIATE').run();
      try {
        result = await fn(hooks.wrap(this.direct, (sql, params, mapError) => this.runDeferred(sql, params, mapError)));
        await hooks.beforeCommit();
        const last = hooks.lastStatement();
        if (last) this.runNow(last.sql, last.params);
        this.runNow('COMMIT', []);
      } catch (err) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw err;
      }
    } finally {
      this.busy = undefined;
      release();
    }
    // Synchronous hooks still run before any waiting statement does (those resume in a later microtask).
    await hooks.afterCommit();
    return result;
  }

  /** One process owns the file: there is no other instance to tell or to hear from. */
  async notify(): Promise<void> {}

  async listen(): Promise<void> {}

  async ping(): Promise<void> {
    await this.get('SELECT 1');
  }

  resetStatementCache(): void {
    this.statements.clear();
  }

  async close(): Promise<void> {
    await this.whenFree();
    this.statements.clear();
    if (this.db.open) {
      this.db.pragma('wal_checkpoint(TRUNCATE)');
      this.db.close();
    }
  }
}
