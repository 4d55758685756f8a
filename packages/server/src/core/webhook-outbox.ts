// The webhook outbox: turns committed changes of the log into delivery rows. Its position is the
// row `webhooks` of `_change_consumers`; each step reads the changes after it, inserts one
// delivery per matching webhook and moves the position, all in one transaction — so a change is
// turned into deliveries exactly once, nothing is made for a rolled-back write (it never reached
// the log), and nothing is lost if the process dies (the step rolls back and is done again).
//
// With several instances on PostgreSQL, the position row is locked FOR UPDATE SKIP LOCKED: one
// instance makes the deliveries, the others skip the step (they are woken again by later changes,
// and poll as a safety net). SQLite has one process.

import crypto from 'node:crypto';
import type { Change, ChangeLog } from './changes.ts';
import { matchesEvent, WEBHOOK_DELIVERIES_CHANNEL } from './webhooks.ts';
import { SqlParams, type Database, type Transaction } from '../db/database.ts';

export const WEBHOOK_CONSUMER = 'webhooks';
/** Changes taken per transaction. */
const STEP_CHANGES = 200;
/** Delivery rows per INSERT statement (well below SQLite's 32,766 parameters). */
const INSERT_CHUNK = 100;
const POLL_MS = 5000;
/** With no active webhook, the position moves to the head at most this often (a write per commit would double the writes). */
const IDLE_ADVANCE_MS = 1000;

/** What a receiver gets (docs/webhooks.md), stored as the text that is signed and sent. */
export interface WebhookPayload {
  /** The delivery id: the idempotency key (a redelivery by hand sends the same body). */
  id: string;
  event: string;
  collection: string;
  action: Change['action'];
  seq: number;
  record: Change['record'];
  time: string;
}

interface ActiveWebhook {
  id: string;
  events: string[];
  fromSeq: number;
}

export class WebhookOutbox {
  private draining = false;
  private again = false;
  private stopped = false;
  private pollTimer: NodeJS.Timeout | undefined;
  /** When the position last moved to the head with no webhook to deliver to. */
  private idleAdvanced = 0;

  constructor(
    private readonly db: Database,
    private readonly changes: ChangeLog,
    private readonly options: { onError(err: unknown): void; onQueued(): void },
  ) {}

  /** Creates the position at the current head on first start (webhooks hear of changes from then on), then catches up. */
  async start(): Promise<void> {
    this.stopped = false;
    const head = await this.changes.head();
    const p = new SqlParams(this.db.dialect);
    await this.db.run(`INSERT INTO "_change_consumers" ("name", "position") VALUES (${p.add(WEBHOOK_CONSUMER)}, ${p.add(head)}) ON CONFLICT ("name") DO NOTHING`, p.values);
    this.pollTimer = setInterval(() => this.wake(), POLL_MS).unref();
    this.wake();
  }

  /** Resolves once the step in progress (if any) has finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.pollTimer);
    while (this.draining) await new Promise((r) => setTimeout(r, 5));
  }

  /** A webhook was made active on this instance: the idle spell ends now, so its first deliveries are not held back. */
  webhookActivated(): void {
    this.idleAdvanced = 0;
    this.wake();
  }

  /** Makes deliveries for whatever the log holds beyond the position; overlapping wake-ups coalesce. */
  wake(): void {
    if (this.stopped) return;
    if (this.draining) {
      this.again = true;
      return;
    }
    this.draining = true;
    void (async () => {
      try {
        do {
          this.again = false;
          while (!this.stopped && (await this.step())) {
            // More changes wait beyond this step's batch.
          }
        } while (this.again && !this.stopped);
      } catch (err) {
        this.options.onError(err);
      } finally {
        this.draining = false;
      }
    })();
  }

  /** The position: the last change turned into deliveries. */
  async position(): Promise<number> {
    const p = new SqlParams(this.db.dialect);
    const row = await this.db.get<{ position: number }>(`SELECT "position" FROM "_change_consumers" WHERE "name" = ${p.add(WEBHOOK_CONSUMER)}`, p.values);
    return Number(row?.position ?? 0);
  }

  /** One transaction: claim the position, read a batch, insert its deliveries, move on. True when a full batch was taken. */
  private async step(): Promise<boolean> {
    // Idle (no active webhook when the position last moved to the head, less than a second ago):
    // nothing to do, not even a read — that was one statement per write. The position only holds
    // back pruning, so lagging a second (or a poll) behind costs nothing. A webhook made active here
    // ends the spell at once (webhookActivated); one made active on another instance is seen by the
    // next step after the spell, or at once by that instance's own outbox. Its `from_seq` keeps its
    // deliveries exact either way.
    if (Date.now() - this.idleAdvanced < IDLE_ADVANCE_MS) return false;
    return this.db.transaction(async (tx) => {
      const p = new SqlParams(tx.dialect);
      const lock = tx.dialect === 'postgres' ? ' FOR UPDATE SKIP LOCKED' : '';
      const row = await tx.get<{ position: number }>(`SELECT "position" FROM "_change_consumers" WHERE "name" = ${p.add(WEBHOOK_CONSUMER)}${lock}`, p.values);
      // Another instance holds the position: it is making these deliveries.
      if (!row) return false;
      const position = Number(row.position);
      const webhooks = await this.activeWebhooks(tx);
      // Nothing to deliver to: move to the head without reading (and parsing) the changes. A
      // webhook created later starts from the head of its own creation (`from_seq`) anyway.
      if (webhooks.length === 0) {
        const u = new SqlParams(tx.dialect);
        await tx.run(
          `UPDATE "_change_consumers" SET "position" = h."seq" FROM "_changes_head" h WHERE h."id" = 1 AND "name" = ${u.add(WEBHOOK_CONSUMER)} AND "position" < h."seq"`,
          u.values,
        );
        tx.afterCommit(() => void (this.idleAdvanced = Date.now()));
        return false;
      }
      const { changes, complete } = await this.changes.read(position, STEP_CHANGES, tx);
      // The outbox fell behind the log's retention (it was stopped for longer than that): say so, and go on from what is left.
      if (!complete) this.options.onError(new Error(`the change log was pruned past the webhook outbox's position ${position}: those changes are not delivered`));
      if (changes.length === 0) return false;
      const made = await this.insertDeliveries(tx, changes, webhooks);
      const u = new SqlParams(tx.dialect);
      await tx.run(`UPDATE "_change_consumers" SET "position" = ${u.add(changes.at(-1)!.seq)} WHERE "name" = ${u.add(WEBHOOK_CONSUMER)}`, u.values);
      if (made > 0) {
        await tx.notify(WEBHOOK_DELIVERIES_CHANNEL);
        tx.afterCommit(() => this.options.onQueued());
      }
      return changes.length === STEP_CHANGES;
    });
  }

  private async activeWebhooks(tx: Transaction): Promise<ActiveWebhook[]> {
    const rows = await tx.all<{ id: string; events: string; from_seq: number }>(`SELECT "id", "events", "from_seq" FROM "_webhooks" WHERE "status" = 'active'`);
    return rows.map((r) => ({ id: r.id, events: JSON.parse(r.events) as string[], fromSeq: Number(r.from_seq) }));
  }

  private async insertDeliveries(tx: Transaction, changes: Change[], webhooks: ActiveWebhook[]): Promise<number> {
    const now = new Date().toISOString();
    const rows: unknown[][] = [];
    for (const change of changes) {
      const event = `${change.collection}.${change.action}`;
      for (const webhook of webhooks) {
        if (change.seq <= webhook.fromSeq || !matchesEvent(webhook.events, change.collection, change.action)) continue;
        const id = crypto.randomUUID();
        const payload: WebhookPayload = { id, event, collection: change.collection, action: change.action, seq: change.seq, record: change.record, time: change.time };
        rows.push([id, webhook.id, change.seq, event, JSON.stringify(payload), now]);
      }
    }
    for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
      const p = new SqlParams(tx.dialect);
      const values = rows
        .slice(i, i + INSERT_CHUNK)
        .map(([id, webhookId, seq, event, payload, created]) => `(${p.add(id)}, ${p.add(webhookId)}, ${p.add(seq)}, ${p.add(event)}, ${p.add(payload)}, 'pending', 0, ${p.add(created)}, ${p.add(created)}, ${p.add(created)})`);
      await tx.run(
        `INSERT INTO "_webhook_deliveries" ("id", "webhook_id", "seq", "event", "payload", "status", "attempts", "next_attempt", "created", "updated") VALUES ${values.join(', ')}`,
        p.values,
      );
    }
    return rows.length;
  }
}
