// The change log: every record write appends a row to `_changes` in its own transaction, numbered
// by a gap-free `seq` in commit order. Realtime, webhooks and other consumers read it from a position.
//
// The number is taken from the one-row counter `_changes_head` in a before-commit hook: on
// PostgreSQL the counter's row lock is then held only from the last statement to COMMIT, and a
// second writer waits for the first to become visible before it takes the next number — so a
// reader that has seen `seq` n has seen every number below it. SQLite has one writer at a time.

import type { ApiRecord } from './record-rows.ts';
import { SqlParams, type Database, type Queryable, type Transaction } from '../db/database.ts';

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

/** Rows looked at per pruning statement, so one pass never holds a long lock or a huge transaction. */
const PRUNE_CHUNK = 10_000;
const PRUNE_INTERVAL_MS = 60_000;

export class ChangeLog {
  private readonly pending = new WeakMap<Transaction, Pending>();
  private readonly committedListeners = new Set<(head: number) => void>();
  private pruneTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Database,
    private readonly retention: ChangeRetention,
  ) {}

  /** Records a change made in `tx`; it is numbered and written just before `tx` commits. */
  append(tx: Transaction, collection: string, action: ChangeAction, record: ApiRecord): void {
    let batch = this.pending.get(tx);
    if (!batch) {
      const created: Pending = (batch = []);
      this.pending.set(tx, created);
      let head = 0;
      tx.beforeCommit(async () => {
        head = await this.write(tx, created);
      });
      tx.afterCommit(() => this.committedListeners.forEach((fn) => fn(head)));
    }
    batch.push({ collection, recordId: record.id, action, record: JSON.stringify(record) });
  }

  /** Calls `listener` with the new head after every commit of this process that appended changes. */
  onCommitted(listener: (head: number) => void): () => void {
    this.committedListeners.add(listener);
    return () => this.committedListeners.delete(listener);
  }

  /** Numbers the changes and inserts them; returns the new head (the last number taken). */
  private async write(tx: Queryable, changes: Pending): Promise<number> {
    const time = new Date().toISOString();
    const n = changes.length;
    if (tx.dialect === 'postgres') {
      // One round trip: take n numbers and insert n rows.
      const row = await tx.get<{ head: number }>(
        `WITH head AS (UPDATE "_changes_head" SET "seq" = "seq" + $1 WHERE "id" = 1 RETURNING "seq")
         INSERT INTO "_changes" ("seq", "collection", "record_id", "action", "record", "time")
         SELECT head."seq" - $1 + c.ord, c.collection, c.record_id, c.action, c.record, $6
         FROM head, unnest($2::text[], $3::text[], $4::text[], $5::text[]) WITH ORDINALITY AS c(collection, record_id, action, record, ord)
         RETURNING (SELECT "seq" FROM head) AS head`,
        [n, changes.map((c) => c.collection), changes.map((c) => c.recordId), changes.map((c) => c.action), changes.map((c) => c.record), time],
      );
      return row!.head;
    }
    const taken = await tx.get<{ seq: number }>(`UPDATE "_changes_head" SET "seq" = "seq" + ? WHERE "id" = 1 RETURNING "seq"`, [n]);
    const head = taken!.seq;
    const params = new SqlParams(tx.dialect);
    const rows = changes.map(
      (c, i) => `(${params.add(head - n + i + 1)}, ${params.add(c.collection)}, ${params.add(c.recordId)}, ${params.add(c.action)}, ${params.add(c.record)}, ${params.add(time)})`,
    );
    await tx.run(`INSERT INTO "_changes" ("seq", "collection", "record_id", "action", "record", "time") VALUES ${rows.join(', ')}`, params.values);
    return head;
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
    const rows = await q.all<{ seq: number; collection: string; record_id: string; action: ChangeAction; record: string | null; time: string; pruned: number }>(
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
      changes.push({
        seq: Number(row.seq),
        collection: row.collection,
        recordId: row.record_id,
        action: row.action,
        record: row.record === null ? null : (JSON.parse(row.record) as ApiRecord),
        time: new Date(row.time).toISOString(),
      });
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
        const row = await tx.get<{ cut: number | null; head: number; pruned: number }>(
          `SELECT h."seq" AS head, h."pruned" AS pruned, (
             SELECT MAX(o."seq") FROM (SELECT "seq", "time" FROM "_changes" ORDER BY "seq" LIMIT ${p.add(PRUNE_CHUNK)}) o WHERE o."time" < ${p.add(cutoff)}
           ) AS cut FROM "_changes_head" h WHERE h."id" = 1`,
          p.values,
        );
        const byAge = row?.cut === null || row?.cut === undefined ? 0 : Number(row.cut);
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
