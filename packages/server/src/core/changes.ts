// The change log: every record write appends a row to `_changes` in its own transaction, numbered
// by a gap-free `seq` in commit order. Realtime, webhooks and other consumers read it from a position.
//
// Numbers come from the one-row counter `_changes_head`. On SQLite (one writer at a time) a write
// takes its numbers just before it commits. On PostgreSQL that would hold the counter's row lock
// through every COMMIT's WAL flush and so serialise all writes behind the disk. There a write instead
// adds its changes to `_changes_pending` (no lock) and, once committed, moves every pending change
// into `_changes` under the counter's lock, in one statement for many writes: the numbers
// stay gap-free and become visible in order (each move commits a consecutive range after the one
// before), and `transaction()` resolves only once its changes are numbered, so a reader that
// starts after a write has returned sees it in the log. Changes of a process that died between its
// commit and the move are moved by the next move of any instance (the change feed polls).

import type { ApiRecord } from './record-rows.ts';
import { SqlParams, type Database, type Queryable, type Statement, type Transaction } from '../db/database.ts';

export type ChangeAction = 'create' | 'update' | 'delete';

export interface Change {
  seq: number;
  collection: string;
  recordId: string;
  action: ChangeAction;
  /** The record after the change; for a delete, the record as it was (rules need it, clients get the id only). */
  record: ApiRecord | null;
  time: string;
}

export interface ChangeRetention {
  /** Changes older than this are pruned. */
  hours: number;
  /** At most this many of the newest changes are kept. */
  rows: number;
}

/** What a reader gets: the changes after its position, and whether the log still reaches back that far. */
export interface ChangeRead {
  changes: Change[];
  /** False when changes after the position were already pruned: the reader must resynchronise. */
  complete: boolean;
}

type Pending = Array<{ collection: string; recordId: string; action: ChangeAction; record: string | null }>;

/**
 * Told after a commit of this process: the new head and, when known, the changes numbered
 * `head - changes.length + 1 … head` — on SQLite the commit's own, on PostgreSQL those a move of
 * this process numbered (other writes' too) —; otherwise none (another instance numbered them).
 */
export type CommittedListener = (head: number, changes: readonly Change[]) => void;

/** A row of `_changes` as read back (PostgreSQL gives `time` as an ISO string, SQLite as stored text). */
interface ChangeRow {
  seq: number;
  collection: string;
  record_id: string;
  action: ChangeAction;
  record: string | null;
  time: string;
}

/** What one numbering run did: the head it left, and how many changes it moved. */
interface NumberingRun {
  head: number;
  moved: number;
}

/** Rows looked at per pruning statement, so one pass never holds a long lock or a huge transaction. */
const PRUNE_CHUNK = 10_000;
const PRUNE_INTERVAL_MS = 60_000;

/** Pending changes moved per numbering statement (PostgreSQL). */
const NUMBER_BATCH = 1000;

/**
 * PostgreSQL: moves up to $1 pending changes into `_changes`, numbered after the head, oldest ticket
 * first, and returns them — one autocommit statement, so no BEGIN/COMMIT round trips. Its order:
 * - `locked` takes the counter's row lock, and only when something is pending (an idle run takes no
 *   lock, so it commits without writing). The condition that needs it is a one-time filter in each
 *   later step, so nothing is read or deleted before the lock is held. Waiting for another mover,
 *   FOR UPDATE returns the row as that mover committed it (READ COMMITTED), so `seq` is the head.
 * - `taken` locks the pending rows to move: rows another mover deleted since this statement's
 *   snapshot are skipped before LIMIT counts them. Rows committed after the snapshot stay for the
 *   next run, which starts after their writers asked (ChangeLog.numberingRun).
 */
const MOVE_PENDING = `
  WITH locked AS MATERIALIZED (
    SELECT "seq" FROM "_changes_head" WHERE "id" = 1 AND EXISTS (SELECT 1 FROM "_changes_pending") FOR UPDATE
  ), taken AS MATERIALIZED (
    SELECT "ticket" FROM "_changes_pending" WHERE EXISTS (SELECT 1 FROM locked) ORDER BY "ticket" LIMIT $1 FOR UPDATE
  ), moved AS (
    DELETE FROM "_changes_pending" p USING taken WHERE p."ticket" = taken."ticket"
    RETURNING p."ticket", p."collection", p."record_id", p."action", p."record", p."time"
  ), numbered AS (
    INSERT INTO "_changes" ("seq", "collection", "record_id", "action", "record", "time")
    SELECT (SELECT "seq" FROM locked) + row_number() OVER (ORDER BY "ticket"), "collection", "record_id", "action", "record", "time" FROM moved
    RETURNING "seq", "collection", "record_id", "action", "record", "time"
  ), advanced AS (
    UPDATE "_changes_head" SET "seq" = (SELECT "seq" FROM locked) + (SELECT count(*) FROM numbered) WHERE "id" = 1 AND EXISTS (SELECT 1 FROM locked)
  )
  SELECT * FROM numbered ORDER BY "seq"`;

function toChange(row: ChangeRow): Change {
  return {
    seq: Number(row.seq),
    collection: row.collection,
    recordId: row.record_id,
    action: row.action,
    record: row.record === null ? null : (JSON.parse(row.record) as ApiRecord),
    time: new Date(row.time).toISOString(),
  };
}

export class ChangeLog {
  private readonly pending = new WeakMap<Transaction, Pending>();
  private readonly committedListeners = new Set<CommittedListener>();
  private pruneTimer: NodeJS.Timeout | undefined;
  /** The numbering run under way (PostgreSQL), and the one queued behind it. */
  private numbering: Promise<NumberingRun> | undefined;
  private numberingNext: Promise<NumberingRun> | undefined;
  private lastHead = 0;

  constructor(
    private readonly db: Database,
    private readonly retention: ChangeRetention,
    /** Hears numbering failures (the write itself has committed; the next move numbers its changes). */
    private readonly onError: (err: unknown) => void = () => {},
  ) {}

  /**
   * Records a change made in `tx`; it is written (and on SQLite numbered) just before `tx` commits.
   * `json`: `record` already serialised, when the caller has it.
   */
  append(tx: Transaction, collection: string, action: ChangeAction, record: ApiRecord, json = JSON.stringify(record)): void {
    let batch = this.pending.get(tx);
    if (!batch) {
      const created: Pending = (batch = []);
      this.pending.set(tx, created);
      let head = 0;
      if (tx.dialect === 'postgres') {
        tx.commitWith(() => this.pendingInsert(created));
        tx.afterCommit(async () => {
          // A run that moved changes told the listeners itself; one that found none moved (another
          // instance numbered them) still says that the log grew.
          const run = await this.numberingRun();
          if (run.moved === 0) this.tell(run.head, []);
        });
      } else {
        let time = '';
        tx.beforeCommit(async () => {
          time = new Date().toISOString();
          head = await this.write(tx, created, time);
        });
        tx.afterCommit(() => {
          if (this.committedListeners.size === 0) return;
          // As read() would return them: each listener may keep or change its own copy of a record.
          const changes = created.map((c, i): Change => ({
            seq: head - created.length + i + 1, collection: c.collection, recordId: c.recordId, action: c.action,
            record: c.record === null ? null : (JSON.parse(c.record) as ApiRecord), time,
          }));
          this.tell(head, changes);
        });
      }
    }
    batch.push({ collection, recordId: record.id, action, record: json });
  }

  /** Calls `listener` with the new head after every commit of this process that appended changes. */
  onCommitted(listener: CommittedListener): () => void {
    this.committedListeners.add(listener);
    return () => this.committedListeners.delete(listener);
  }

  private tell(head: number, changes: readonly Change[]): void {
    this.committedListeners.forEach((fn) => fn(head, changes));
  }

  /** SQLite: numbers the changes and inserts them; returns the new head (the last number taken). */
  private async write(tx: Queryable, changes: Pending, time: string): Promise<number> {
    const n = changes.length;
    const taken = await tx.get<{ seq: number }>(`UPDATE "_changes_head" SET "seq" = "seq" + ? WHERE "id" = 1 RETURNING "seq"`, [n]);
    const head = taken!.seq;
    const params = new SqlParams(tx.dialect);
    const rows = changes.map(
      (c, i) => `(${params.add(head - n + i + 1)}, ${params.add(c.collection)}, ${params.add(c.recordId)}, ${params.add(c.action)}, ${params.add(c.record)}, ${params.add(time)})`,
    );
    await tx.run(`INSERT INTO "_changes" ("seq", "collection", "record_id", "action", "record", "time") VALUES ${rows.join(', ')}`, params.values);
    return head;
  }

  /**
   * PostgreSQL: adds the transaction's changes to `_changes_pending`, in order (tickets grow with it);
   * the transaction's last statement, sent with its COMMIT.
   */
  private pendingInsert(changes: Pending): Statement {
    // The common case, one change: plain values (arrays would be serialised, the record escaped, for nothing).
    if (changes.length === 1) {
      const [c] = changes as [Pending[number]];
      return {
        sql: `INSERT INTO "_changes_pending" ("collection", "record_id", "action", "record", "time") VALUES ($1, $2, $3, $4, $5)`,
        params: [c.collection, c.recordId, c.action, c.record, new Date().toISOString()],
      };
    }
    return {
      sql: `INSERT INTO "_changes_pending" ("collection", "record_id", "action", "record", "time")
       SELECT c.collection, c.record_id, c.action, c.record, $5
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS c(collection, record_id, action, record, ord)
       ORDER BY c.ord`,
      params: [changes.map((c) => c.collection), changes.map((c) => c.recordId), changes.map((c) => c.action), changes.map((c) => c.record), new Date().toISOString()],
    };
  }

  /**
   * Numbers every change committed so far (PostgreSQL; a no-op on SQLite) and resolves to the head.
   * Never rejects: failures go to `onError`, and the next run, or the change feed's poll, numbers what is left.
   */
  async numberCommitted(): Promise<number> {
    return (await this.numberingRun()).head;
  }

  /**
   * Runs coalesce: a caller arriving while a run is under way (which may have started before its
   * commit) waits for the next run, which all such callers share.
   */
  private numberingRun(): Promise<NumberingRun> {
    if (this.db.dialect !== 'postgres') return Promise.resolve({ head: this.lastHead, moved: 0 });
    if (!this.numbering) {
      const run: Promise<NumberingRun> = this.numberPending()
        .catch((err: unknown) => {
          this.onError(err);
          return { head: this.lastHead, moved: 0 };
        })
        .finally(() => {
          if (this.numbering === run) this.numbering = undefined;
        });
      this.numbering = run;
      return run;
    }
    this.numberingNext ??= this.numbering.then(() => {
      this.numberingNext = undefined;
      return this.numberingRun();
    });
    return this.numberingNext;
  }

  /** Moves pending changes into `_changes` a batch per statement, and tells the listeners of each batch. */
  private async numberPending(): Promise<NumberingRun> {
    let moved = 0;
    for (;;) {
      const rows = await this.db.all<ChangeRow>(MOVE_PENDING, [NUMBER_BATCH]);
      if (rows.length === 0) return { head: this.lastHead, moved };
      this.lastHead = Number(rows.at(-1)!.seq);
      moved += rows.length;
      // As read() would return them; parsed only when someone listens.
      if (this.committedListeners.size > 0) this.tell(this.lastHead, rows.map(toChange));
      if (rows.length < NUMBER_BATCH) return { head: this.lastHead, moved };
    }
  }

  /** The number of the last committed change (0 before the first). */
  async head(): Promise<number> {
    return (await this.bounds()).head;
  }

  /** The last committed number, and the last pruned one: readers may resume from any position in between. */
  async bounds(): Promise<{ head: number; pruned: number }> {
    const row = await this.db.get<{ seq: number; pruned: number }>(`SELECT "seq", "pruned" FROM "_changes_head" WHERE "id" = 1`);
    return { head: Number(row!.seq), pruned: Number(row!.pruned) };
  }

  /** Up to `limit` changes after `after`, in order; `q` reads inside a caller's transaction. */
  async read(after: number, limit: number, q: Queryable = this.db): Promise<ChangeRead> {
    const params = new SqlParams(q.dialect);
    const rows = await q.all<ChangeRow & { pruned: number }>(
      `SELECT c."seq", c."collection", c."record_id", c."action", c."record", c."time", h."pruned"
       FROM "_changes_head" h LEFT JOIN "_changes" c ON c."seq" > ${params.add(after)}
       WHERE h."id" = 1 ORDER BY c."seq" LIMIT ${params.add(limit)}`,
      params.values,
    );
    // The pruning mark comes from the same snapshot as the rows (one statement), so a prune
    // between two reads can never pass for a complete answer.
    const pruned = Number(rows[0]?.pruned ?? 0);
    const changes: Change[] = [];
    for (const row of rows) {
      if (row.seq === null || row.seq === undefined) continue;
      changes.push(toChange(row));
    }
    return { changes, complete: after >= pruned };
  }

  /**
   * Deletes changes past retention (older than `hours`, or beyond the newest `rows`), a chunk per
   * statement, and advances the pruning mark; returns how many were deleted.
   */
  async prune(now = Date.now()): Promise<number> {
    const cutoff = new Date(now - this.retention.hours * 3_600_000).toISOString();
    let total = 0;
    for (;;) {
      const deleted = await this.db.transaction(async (tx) => {
        const p = new SqlParams(tx.dialect);
        // The last number to drop: the newest among the oldest chunk that is too old, or whatever
        // lies beyond the row budget. Times grow with seq, so the oldest chunk is where old rows are.
        const row = await tx.get<{ cut: number | null; head: number; pruned: number; held: number | null }>(
          `SELECT h."seq" AS head, h."pruned" AS pruned, (
             SELECT MAX(o."seq") FROM (SELECT "seq", "time" FROM "_changes" ORDER BY "seq" LIMIT ${p.add(PRUNE_CHUNK)}) o WHERE o."time" < ${p.add(cutoff)}
           ) AS cut, (SELECT MIN("position") FROM "_change_consumers") AS held FROM "_changes_head" h WHERE h."id" = 1`,
          p.values,
        );
        // Age gives way to durable consumers (the webhook outbox after a long outage): what they have
        // not read yet stays. The row budget does not, so a consumer that never moves cannot grow the log without bound.
        const oldEnough = row?.cut === null || row?.cut === undefined ? 0 : Number(row.cut);
        const byAge = row?.held === null || row?.held === undefined ? oldEnough : Math.min(oldEnough, Number(row.held));
        const byRows = Math.min(Number(row!.head) - this.retention.rows, Number(row!.pruned) + PRUNE_CHUNK);
        const cut = Math.max(byAge, byRows);
        if (cut <= Number(row!.pruned)) return 0;
        const d = new SqlParams(tx.dialect);
        const result = await tx.run(`DELETE FROM "_changes" WHERE "seq" <= ${d.add(cut)}`, d.values);
        const u = new SqlParams(tx.dialect);
        await tx.run(`UPDATE "_changes_head" SET "pruned" = ${u.add(cut)} WHERE "id" = 1 AND "pruned" < ${u.add(cut)}`, u.values);
        return result.changes;
      });
      total += deleted;
      if (deleted < PRUNE_CHUNK) return total;
    }
  }

  /** Prunes now and then in the background; `onError` hears failures (the next round retries). */
  startPruning(onError: (err: unknown) => void, intervalMs = PRUNE_INTERVAL_MS): void {
    this.pruneTimer ??= setInterval(() => void this.prune().catch(onError), intervalMs).unref();
  }

  stop(): void {
    clearInterval(this.pruneTimer);
    this.pruneTimer = undefined;
  }
}
