// The durable job queue: jobs are rows of `_jobs`, enqueued inside the transaction whose work
// they follow (so a rolled-back write never leaves a job), claimed with a lease, retried with
// exponential backoff, and kept as `dead` after their last attempt, for inspection.
//
// Several instances may share one PostgreSQL database: claims use FOR UPDATE SKIP LOCKED, so each
// job is taken by one worker. A worker that dies leaves its lease to run out; the job is then
// claimed again (at-least-once: handlers are written to be safe to repeat).

import crypto from 'node:crypto';
import { ClaimLoop, newWorkerId } from './claim-loop.ts';
import { SqlParams, type Database, type Transaction } from '../db/database.ts';

export type JobHandler = (payload: unknown, job: { id: string; attempt: number }) => Promise<void>;

export interface JobQueueOptions {
  /** Jobs run at once by this instance. */
  concurrency: number;
  /** How often to look for due jobs when nothing woke the worker. */
  pollMs: number;
  /** How long a claim holds before another worker may take the job; renewed while it runs. */
  leaseMs: number;
  /** Attempts before a job is kept as dead. */
  maxAttempts: number;
  /** The first retry waits this long; each later one twice as long (with jitter), up to an hour. */
  backoffMs: number;
  onError(err: unknown, job: { id: string; kind: string; attempt: number }): void;
}

export const DEFAULT_JOB_OPTIONS: Omit<JobQueueOptions, 'onError'> = {
  concurrency: 2,
  pollMs: 2000,
  leaseMs: 60_000,
  maxAttempts: 5,
  backoffMs: 1000,
};

const CHANNEL = 'galley_jobs';
const MAX_BACKOFF_MS = 3_600_000;

interface Registration {
  handler: JobHandler;
  /** Periodic jobs go back to the queue after each run instead of being deleted. */
  everyMs?: number;
}

interface ClaimedJob {
  id: string;
  kind: string;
  payload: unknown;
  attempts: number;
  max_attempts: number;
}

export interface DeadJob {
  id: string;
  kind: string;
  payload: unknown;
  attempts: number;
  lastError: string | null;
}

export class JobQueue {
  readonly workerId = newWorkerId();
  readonly #handlers = new Map<string, Registration>();
  readonly #loop: ClaimLoop<ClaimedJob>;
  #started = false;

  constructor(
    private readonly db: Database,
    private readonly options: JobQueueOptions,
  ) {
    this.#loop = new ClaimLoop({
      concurrency: options.concurrency,
      pollMs: options.pollMs,
      claim: (limit) => this.claim(limit),
      run: (job) => this.run(job),
      onError: (err) => options.onError(err, { id: '', kind: 'claim', attempt: 0 }),
    });
  }

  register(kind: string, handler: JobHandler): void {
    this.#handlers.set(kind, { handler });
  }

  /**
   * A job that runs every `everyMs` on one instance of all that share the database (for sweeps
   * such as expiring abandoned uploads). Enqueued once at start under a unique key.
   */
  registerPeriodic(kind: string, everyMs: number, handler: JobHandler): void {
    this.#handlers.set(kind, { handler, everyMs });
  }

  /**
   * Adds a job inside `tx`: it exists, and runs, only if `tx` commits. Jobs with a `uniqueKey`
   * are enqueued once: while one with that key exists, another is not added.
   */
  async enqueueIn(tx: Transaction, kind: string, payload: unknown, options: { delayMs?: number; uniqueKey?: string } = {}): Promise<void> {
    const now = Date.now();
    const p = new SqlParams(tx.dialect);
    const values = [
      p.add(crypto.randomUUID()), p.add(kind), p.add(JSON.stringify(payload)), p.add(this.options.maxAttempts),
      p.add(new Date(now + (options.delayMs ?? 0)).toISOString()), p.add(options.uniqueKey ?? null), p.add(new Date(now).toISOString()),
    ];
    await tx.run(
      `INSERT INTO "_jobs" ("id", "kind", "payload", "state", "attempts", "max_attempts", "run_at", "unique_key", "created")
       VALUES (${values[0]}, ${values[1]}, ${values[2]}, 'queued', 0, ${values[3]}, ${values[4]}, ${values[5]}, ${values[6]})
       ON CONFLICT ("unique_key") DO NOTHING`,
      p.values,
    );
    // Other instances hear of it at commit (NOTIFY); this one is woken directly.
    await tx.notify(CHANNEL);
    tx.afterCommit(() => this.wake());
  }

  async enqueue(kind: string, payload: unknown, options: { delayMs?: number; uniqueKey?: string } = {}): Promise<void> {
    await this.db.transaction((tx) => this.enqueueIn(tx, kind, payload, options));
  }

  /**
   * Starts working: periodic jobs are put in the queue, then due jobs run as they come. After
   * stop() it starts claiming again (a suite holds the worker to look at work half done).
   */
  async start(): Promise<void> {
    if (!this.#started) {
      this.#started = true;
      for (const [kind, registration] of this.#handlers) {
        if (registration.everyMs !== undefined) await this.enqueue(kind, {}, { uniqueKey: `periodic:${kind}` });
      }
      await this.db.listen(CHANNEL, () => this.wake());
    }
    this.#loop.start();
  }

  /** Stops claiming, and resolves once the jobs this worker is running have finished. */
  async stop(): Promise<void> {
    await this.#loop.stop();
  }

  /** Looks for due jobs now rather than at the next poll. */
  wake(): void {
    this.#loop.wake();
  }

  /** Takes up to `limit` due jobs (queued and due, or running with a lapsed lease) for this worker. */
  private async claim(limit: number): Promise<ClaimedJob[]> {
    const p = new SqlParams(this.db.dialect);
    const now = new Date().toISOString();
    // Placeholders are added in the order they appear in the text (SQLite's `?` are positional).
    const set = () => `"state" = 'running', "attempts" = "_jobs"."attempts" + 1, "lease_until" = ${p.add(this.leaseEnd())}, "locked_by" = ${p.add(this.workerId)}`;
    const due = () =>
      `SELECT "id" FROM "_jobs" WHERE ("state" = 'queued' AND "run_at" <= ${p.add(now)}) OR ("state" = 'running' AND "lease_until" < ${p.add(now)})
       ORDER BY "run_at" LIMIT ${p.add(limit)}`;
    const returning = `RETURNING "_jobs"."id", "_jobs"."kind", "_jobs"."payload", "_jobs"."attempts", "_jobs"."max_attempts"`;
    let sql: string;
    if (this.db.dialect === 'postgres') {
      // MATERIALIZED: the rows are chosen and locked once, never re-planned into the UPDATE;
      // SKIP LOCKED: rows another instance is claiming right now are left to it.
      const chosen = due();
      sql = `WITH due AS MATERIALIZED (${chosen} FOR UPDATE SKIP LOCKED) UPDATE "_jobs" SET ${set()} FROM due WHERE "_jobs"."id" = due."id" ${returning}`;
    } else {
      // SQLite serves one process and runs each statement alone: a single UPDATE is the claim.
      const assignments = set();
      sql = `UPDATE "_jobs" SET ${assignments} WHERE "id" IN (${due()}) ${returning}`;
    }
    const rows = await this.db.all<ClaimedJob>(sql, p.values);
    return rows.map((r) => ({ ...r, payload: typeof r.payload === 'string' ? JSON.parse(r.payload) : r.payload }));
  }

  private leaseEnd(): string {
    return new Date(Date.now() + this.options.leaseMs).toISOString();
  }

  private async run(job: ClaimedJob): Promise<void> {
    const registration = this.#handlers.get(job.kind);
    const attempt = job.attempts;
    // Claimed again after its last attempt's lease lapsed: the worker died on it every time.
    if (attempt > job.max_attempts) return this.fail(job, new Error(`the lease lapsed on every one of ${job.max_attempts} attempts`), true);
    if (!registration) return this.fail(job, new Error(`no handler for job kind "${job.kind}"`), attempt >= job.max_attempts);
    const renew = setInterval(() => void this.renew(job.id), Math.max(10, Math.floor(this.options.leaseMs / 3))).unref();
    try {
      await registration.handler(job.payload, { id: job.id, attempt });
    } catch (err) {
      clearInterval(renew);
      this.options.onError(err, { id: job.id, kind: job.kind, attempt });
      // A periodic job is never given up on: its next run may well succeed.
      return this.fail(job, err, registration.everyMs === undefined && attempt >= job.max_attempts);
    }
    clearInterval(renew);
    await this.settle(job, registration.everyMs).catch((err) => this.options.onError(err, { id: job.id, kind: job.kind, attempt }));
  }

  private async renew(id: string): Promise<void> {
    const p = new SqlParams(this.db.dialect);
    await this.db
      .run(`UPDATE "_jobs" SET "lease_until" = ${p.add(this.leaseEnd())} WHERE "id" = ${p.add(id)} AND "locked_by" = ${p.add(this.workerId)}`, p.values)
      .catch(() => {});
  }

  /** Done: removed, or (periodic) queued again for its next run. Only while this worker holds it. */
  private async settle(job: ClaimedJob, everyMs: number | undefined): Promise<void> {
    const p = new SqlParams(this.db.dialect);
    if (everyMs === undefined) {
      await this.db.run(`DELETE FROM "_jobs" WHERE "id" = ${p.add(job.id)} AND "locked_by" = ${p.add(this.workerId)}`, p.values);
      return;
    }
    const next = p.add(new Date(Date.now() + everyMs).toISOString());
    await this.db.run(
      `UPDATE "_jobs" SET "state" = 'queued', "attempts" = 0, "run_at" = ${next}, "lease_until" = NULL, "locked_by" = NULL, "last_error" = NULL
       WHERE "id" = ${p.add(job.id)} AND "locked_by" = ${p.add(this.workerId)}`,
      p.values,
    );
  }

  private async fail(job: ClaimedJob, err: unknown, dead: boolean): Promise<void> {
    const message = (err instanceof Error ? err.message : String(err)).slice(0, 1000);
    const p = new SqlParams(this.db.dialect);
    const delay = Math.min(MAX_BACKOFF_MS, this.options.backoffMs * 2 ** (job.attempts - 1)) * (0.75 + Math.random() * 0.5);
    const state = dead ? `'dead'` : `'queued'`;
    await this.db
      .run(
        `UPDATE "_jobs" SET "state" = ${state}, "run_at" = ${p.add(new Date(Date.now() + delay).toISOString())}, "lease_until" = NULL, "locked_by" = NULL, "last_error" = ${p.add(message)}
         WHERE "id" = ${p.add(job.id)} AND "locked_by" = ${p.add(this.workerId)}`,
        p.values,
      )
      .catch((e) => this.options.onError(e, { id: job.id, kind: job.kind, attempt: job.attempts }));
    // Look again when the retry is due rather than up to a poll interval later.
    if (!dead) setTimeout(() => this.wake(), delay + 5).unref();
  }

  /** Jobs given up on, newest first (for operators and tests). */
  async dead(limit = 100): Promise<DeadJob[]> {
    const p = new SqlParams(this.db.dialect);
    const rows = await this.db.all<{ id: string; kind: string; payload: unknown; attempts: number; last_error: string | null }>(
      `SELECT "id", "kind", "payload", "attempts", "last_error" FROM "_jobs" WHERE "state" = 'dead' ORDER BY "run_at" DESC LIMIT ${p.add(limit)}`,
      p.values,
    );
    return rows.map((r) => ({ id: r.id, kind: r.kind, payload: typeof r.payload === 'string' ? JSON.parse(r.payload) : r.payload, attempts: Number(r.attempts), lastError: r.last_error }));
  }

  /** Jobs waiting or running (the queue depth). */
  async pending(): Promise<number> {
    const row = await this.db.get<{ n: number }>(`SELECT COUNT(*) AS n FROM "_jobs" WHERE "state" <> 'dead'`);
    return Number(row?.n ?? 0);
  }
}
