// Webhook subscriptions and their delivery log (superusers manage them over /api/v1/webhooks).
// A webhook names a URL and the events it wants (`posts.create`, `posts.*`, `*`); its signing
// secret is shown once, at creation and on rotation, and kept sealed (AES-GCM) at rest.
// Deliveries are made by core/webhook-outbox.ts and sent by core/webhook-sender.ts.

import crypto from 'node:crypto';
import type { DeliveryPage, DeliveryStatus, FieldError, Webhook, WebhookDelivery, WebhookStatus } from '@galley/protocol';
import { ApiError } from './api-error.ts';
import type { ChangeAction, ChangeLog } from './changes.ts';
import type { CollectionService } from './collections.ts';
import { badCursor, packCursor, unpackCursor } from './record-query.ts';
import { seal, unseal } from './sealing.ts';
import type { WebhookTargets } from './webhook-targets.ts';
import { SqlParams, type Database, type Queryable } from '../db/database.ts';

/** The database notification that deliveries are due (heard by every instance's sender). */
export const WEBHOOK_DELIVERIES_CHANNEL = 'galley_webhook_deliveries';
export const WEBHOOK_ACTIONS: readonly ChangeAction[] = ['create', 'update', 'delete'];
export const MAX_WEBHOOK_EVENTS = 50;
export const MAX_WEBHOOK_URL = 2048;
export const MAX_WEBHOOK_DESCRIPTION = 500;
export const MAX_DELIVERY_PAGE = 100;
/** Why a webhook was turned off by a superuser (the sender writes its own reason). */
export const DISABLED_BY_SUPERUSER = 'disabled by a superuser';

interface WebhookRow {
  id: string;
  url: string;
  events: string;
  description: string | null;
  status: WebhookStatus;
  failures: number;
  disabled_reason: string | null;
  created: string;
  updated: string;
}

interface DeliveryRow {
  id: string;
  event: string;
  seq: number;
  status: DeliveryStatus;
  attempts: number;
  response_status: number | null;
  error: string | null;
  duration_ms: number | null;
  created: string;
  last_attempt: string | null;
  next_attempt: string;
}

const WEBHOOK_COLUMNS = `"id", "url", "events", "description", "status", "failures", "disabled_reason", "created", "updated"`;
const iso = (value: string | Date | null) => (value === null ? null : new Date(value).toISOString());

function toWebhook(row: WebhookRow): Webhook {
  return {
    id: row.id,
    url: row.url,
    events: JSON.parse(row.events) as string[],
    description: row.description,
    enabled: row.status === 'active',
    status: row.status,
    disabledReason: row.disabled_reason,
    failures: Number(row.failures),
    created: iso(row.created)!,
    updated: iso(row.updated)!,
  };
}

function toDelivery(row: DeliveryRow): WebhookDelivery {
  const waiting = row.status === 'pending' || row.status === 'failed';
  return {
    id: row.id,
    event: row.event,
    seq: Number(row.seq),
    status: row.status,
    attempts: Number(row.attempts),
    responseStatus: row.response_status === null ? null : Number(row.response_status),
    error: row.error,
    durationMs: row.duration_ms === null ? null : Number(row.duration_ms),
    created: iso(row.created)!,
    lastAttemptAt: iso(row.last_attempt),
    nextAttemptAt: waiting ? iso(row.next_attempt) : null,
  };
}

/** Whether a webhook subscribed to `events` wants `collection.action`. */
export function matchesEvent(events: readonly string[], collection: string, action: ChangeAction): boolean {
  return events.some((e) => e === '*' || e === `${collection}.*` || e === `${collection}.${action}`);
}

function newSecret(): string {
  return `whsec_${crypto.randomBytes(32).toString('base64url')}`;
}

const sealContext = (id: string) => `webhook:${id}`;

export class WebhookService {
  private readonly queued = new Set<() => void>();
  private readonly activated = new Set<() => void>();

  constructor(
    private readonly db: Database,
    private readonly collections: CollectionService,
    private readonly changes: ChangeLog,
    private readonly targets: WebhookTargets,
    /** The key secrets are sealed with (services.secret.key('webhooks')). */
    private readonly sealKey: Buffer,
  ) {}

  async create(input: unknown): Promise<{ webhook: Webhook; secret: string }> {
    const body = await this.validate(input, true);
    const id = crypto.randomUUID();
    const secret = newSecret();
    const now = new Date().toISOString();
    // A webhook hears only of changes after it exists.
    const fromSeq = await this.changes.head();
    const p = new SqlParams(this.db.dialect);
    await this.db.run(
      `INSERT INTO "_webhooks" ("id", "url", "events", "description", "status", "failures", "disabled_reason", "secret", "from_seq", "created", "updated")
       VALUES (${p.add(id)}, ${p.add(body.url)}, ${p.add(JSON.stringify(body.events))}, ${p.add(body.description ?? null)}, ${p.add(body.enabled === false ? 'disabled' : 'active')}, 0,
               ${p.add(body.enabled === false ? DISABLED_BY_SUPERUSER : null)}, ${p.add(seal(this.sealKey, secret, sealContext(id)))}, ${p.add(fromSeq)}, ${p.add(now)}, ${p.add(now)})`,
      p.values,
    );
    if (body.enabled !== false) this.activated.forEach((fn) => fn());
    return { webhook: await this.get(id), secret };
  }

  async list(): Promise<Webhook[]> {
    const rows = await this.db.all<WebhookRow>(`SELECT ${WEBHOOK_COLUMNS} FROM "_webhooks" ORDER BY "created", "id"`);
    return rows.map(toWebhook);
  }

  async get(id: string, q: Queryable = this.db): Promise<Webhook> {
    const p = new SqlParams(q.dialect);
    const row = await q.get<WebhookRow>(`SELECT ${WEBHOOK_COLUMNS} FROM "_webhooks" WHERE "id" = ${p.add(id)}`, p.values);
    if (!row) throw ApiError.notFound('The webhook');
    return toWebhook(row);
  }

  /** Changes url, events, description or enabled; enabling again clears the failure count and reason. */
  async update(id: string, input: unknown): Promise<Webhook> {
    const body = await this.validate(input, false);
    const head = await this.changes.head();
    return this.db.transaction(async (tx) => {
      const current = await this.get(id, tx);
      const sets: string[] = [];
      const p = new SqlParams(tx.dialect);
      if (body.url !== undefined) sets.push(`"url" = ${p.add(body.url)}`);
      if (body.events !== undefined) sets.push(`"events" = ${p.add(JSON.stringify(body.events))}`);
      if (body.description !== undefined) sets.push(`"description" = ${p.add(body.description)}`);
      if (body.enabled === true && !current.enabled) {
        // What happened while it was off is not sent: it starts again from now.
        sets.push(`"status" = 'active'`, `"failures" = 0`, `"disabled_reason" = NULL`, `"from_seq" = ${p.add(head)}`);
        tx.afterCommit(() => this.activated.forEach((fn) => fn()));
      } else if (body.enabled === false && current.enabled) {
        sets.push(`"status" = 'disabled'`, `"disabled_reason" = ${p.add(DISABLED_BY_SUPERUSER)}`);
      }
      sets.push(`"updated" = ${p.add(new Date().toISOString())}`);
      await tx.run(`UPDATE "_webhooks" SET ${sets.join(', ')} WHERE "id" = ${p.add(id)}`, p.values);
      return this.get(id, tx);
    });
  }

  /** Removes the webhook and its delivery log; deliveries not yet sent are never sent. */
  async delete(id: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      const p = new SqlParams(tx.dialect);
      const removed = await tx.run(`DELETE FROM "_webhooks" WHERE "id" = ${p.add(id)}`, p.values);
      if (removed.changes === 0) throw ApiError.notFound('The webhook');
      const d = new SqlParams(tx.dialect);
      await tx.run(`DELETE FROM "_webhook_deliveries" WHERE "webhook_id" = ${d.add(id)}`, d.values);
    });
  }

  /** A new secret, returned this once; the old one stops signing at once. */
  async rotateSecret(id: string): Promise<{ webhook: Webhook; secret: string }> {
    const secret = newSecret();
    const p = new SqlParams(this.db.dialect);
    const result = await this.db.run(
      `UPDATE "_webhooks" SET "secret" = ${p.add(seal(this.sealKey, secret, sealContext(id)))}, "updated" = ${p.add(new Date().toISOString())} WHERE "id" = ${p.add(id)}`,
      p.values,
    );
    if (result.changes === 0) throw ApiError.notFound('The webhook');
    return { webhook: await this.get(id), secret };
  }

  /** The signing secret of a webhook, for the sender; undefined if the sealed value does not open. */
  openSecret(id: string, sealed: string): string | undefined {
    return unseal(this.sealKey, sealed, sealContext(id));
  }

  /** A page of a webhook's deliveries, newest first. */
  async deliveries(id: string, options: { limit?: number; cursor?: string }): Promise<DeliveryPage> {
    await this.get(id);
    const limit = options.limit ?? 20;
    const p = new SqlParams(this.db.dialect);
    const where = [`"webhook_id" = ${p.add(id)}`];
    if (options.cursor) {
      const [created, seq, lastId] = unpackCursor('deliveries', options.cursor, 3);
      if (typeof created !== 'string' || Number.isNaN(Date.parse(created)) || !Number.isSafeInteger(seq) || typeof lastId !== 'string') throw badCursor();
      where.push(`("created", "seq", "id") < (${p.add(created)}, ${p.add(seq)}, ${p.add(lastId)})`);
    }
    // Newest first; deliveries made in one step share `created` and follow the log's order.
    const rows = await this.db.all<DeliveryRow>(
      `SELECT "id", "event", "seq", "status", "attempts", "response_status", "error", "duration_ms", "created", "last_attempt", "next_attempt"
       FROM "_webhook_deliveries" WHERE ${where.join(' AND ')} ORDER BY "created" DESC, "seq" DESC, "id" DESC LIMIT ${p.add(limit + 1)}`,
      p.values,
    );
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    const nextCursor = rows.length > limit && last ? packCursor('deliveries', [iso(last.created), Number(last.seq), last.id]) : null;
    return { items: page.map(toDelivery), nextCursor };
  }

  /** Queues a new delivery of the same payload (a new delivery id; the body's `id` stays the original's). */
  async redeliver(id: string, deliveryId: string): Promise<WebhookDelivery> {
    return this.db.transaction(async (tx) => {
      const p = new SqlParams(tx.dialect);
      const original = await tx.get<{ seq: number; event: string; payload: string }>(
        `SELECT "seq", "event", "payload" FROM "_webhook_deliveries" WHERE "id" = ${p.add(deliveryId)} AND "webhook_id" = ${p.add(id)}`,
        p.values,
      );
      if (!original) throw ApiError.notFound('The delivery');
      const copy = crypto.randomUUID();
      const now = new Date().toISOString();
      const i = new SqlParams(tx.dialect);
      await tx.run(
        `INSERT INTO "_webhook_deliveries" ("id", "webhook_id", "seq", "event", "payload", "status", "attempts", "next_attempt", "created", "updated")
         VALUES (${i.add(copy)}, ${i.add(id)}, ${i.add(original.seq)}, ${i.add(original.event)}, ${i.add(original.payload)}, 'pending', 0, ${i.add(now)}, ${i.add(now)}, ${i.add(now)})`,
        i.values,
      );
      await tx.notify(WEBHOOK_DELIVERIES_CHANNEL);
      const g = new SqlParams(tx.dialect);
      const row = await tx.get<DeliveryRow>(
        `SELECT "id", "event", "seq", "status", "attempts", "response_status", "error", "duration_ms", "created", "last_attempt", "next_attempt" FROM "_webhook_deliveries" WHERE "id" = ${g.add(copy)}`,
        g.values,
      );
      tx.afterCommit(() => this.queued.forEach((fn) => fn()));
      return toDelivery(row!);
    });
  }

  /** Calls `listener` after this process made a webhook active (created, or enabled again): the outbox stops idling. */
  onActivated(listener: () => void): void {
    this.activated.add(listener);
  }

  /** Calls `listener` after this process queued a delivery by hand (the sender wakes up). */
  onQueued(listener: () => void): void {
    this.queued.add(listener);
  }

  /** Deletes finished deliveries (succeeded or dead) created more than `days` before `now`; returns how many. */
  async pruneDeliveries(days: number, now = Date.now()): Promise<number> {
    const p = new SqlParams(this.db.dialect);
    const result = await this.db.run(
      `DELETE FROM "_webhook_deliveries" WHERE "status" IN ('succeeded', 'dead') AND "created" < ${p.add(new Date(now - days * 86_400_000).toISOString())}`,
      p.values,
    );
    return result.changes;
  }

  /** Checks a create (`full`) or update body; every problem is reported at once. */
  private async validate(input: unknown, full: boolean): Promise<{ url?: string; events?: string[]; description?: string | null; enabled?: boolean }> {
    if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new ApiError('bad_request', 'the body must be a JSON object');
    const { url, events, description, enabled, ...rest } = input as Record<string, unknown>;
    const errors: FieldError[] = [];
    for (const key of Object.keys(rest)) errors.push({ field: key, code: 'unknown_field', message: 'is not a webhook property' });
    if (url === undefined) {
      if (full) errors.push({ field: 'url', code: 'required', message: 'is required' });
    } else if (typeof url !== 'string') {
      errors.push({ field: 'url', code: 'invalid_type', message: 'must be a string' });
    } else if (url.length > MAX_WEBHOOK_URL) {
      errors.push({ field: 'url', code: 'too_long', message: `must be at most ${MAX_WEBHOOK_URL} characters` });
    } else {
      const problem = await this.targets.problemWith(url);
      if (problem) errors.push({ field: 'url', code: 'invalid_value', message: problem });
    }
    if (events === undefined) {
      if (full) errors.push({ field: 'events', code: 'required', message: 'is required' });
    } else if (!Array.isArray(events) || events.length === 0 || events.length > MAX_WEBHOOK_EVENTS) {
      errors.push({ field: 'events', code: 'invalid_value', message: `must be a list of 1 to ${MAX_WEBHOOK_EVENTS} events` });
    } else {
      events.forEach((event, i) => {
        const problem = this.eventProblem(event);
        if (problem) errors.push({ field: `events[${i}]`, code: 'invalid_value', message: problem });
      });
    }
    if (description !== undefined && description !== null && (typeof description !== 'string' || description.length > MAX_WEBHOOK_DESCRIPTION)) {
      errors.push({ field: 'description', code: 'invalid_value', message: `must be a string of at most ${MAX_WEBHOOK_DESCRIPTION} characters, or null` });
    }
    if (enabled !== undefined && typeof enabled !== 'boolean') errors.push({ field: 'enabled', code: 'invalid_type', message: 'must be true or false' });
    if (errors.length) throw ApiError.validation(errors);
    return {
      url: url as string | undefined,
      events: events === undefined ? undefined : [...new Set(events as string[])],
      description: description as string | null | undefined,
      enabled: enabled as boolean | undefined,
    };
  }

  private eventProblem(event: unknown): string | undefined {
    if (typeof event !== 'string') return 'must be a string such as "posts.create", "posts.*" or "*"';
    if (event === '*') return undefined;
    const dot = event.lastIndexOf('.');
    const collection = event.slice(0, dot);
    const action = event.slice(dot + 1);
    if (dot <= 0) return `"${event.slice(0, 100)}" is not of the form collection.action (or collection.*, or *)`;
    if (!this.collections.get(collection)) return `there is no collection "${collection.slice(0, 100)}"`;
    if (action !== '*' && !(WEBHOOK_ACTIONS as readonly string[]).includes(action)) return `"${action.slice(0, 100)}" is not an action: create, update, delete or *`;
    return undefined;
  }
}
