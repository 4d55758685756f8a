// Sends webhook deliveries: claims due ones with a lease (FOR UPDATE SKIP LOCKED on PostgreSQL,
// like core/jobs.ts, so each attempt is made by one instance), POSTs the stored body signed with
// HMAC-SHA256, and records the outcome. A 2xx answer is a success; anything else, a timeout or a
// refused address is a failure, retried after the configured delays (with jitter) and then kept
// as `dead`. After GALLEY_WEBHOOK_DISABLE_AFTER consecutive dead deliveries the webhook is
// disabled, with the reason. A worker that dies mid-attempt leaves its lease to lapse; the
// delivery is then attempted again (at-least-once: receivers deduplicate on the delivery id).

import crypto from 'node:crypto';
import { Agent, request } from 'undici';
import { ClaimLoop, newWorkerId } from './claim-loop.ts';
import type { WebhookConfig } from '../config/config.ts';
import type { WebhookTargets } from './webhook-targets.ts';
import { WEBHOOK_DELIVERIES_CHANNEL, type WebhookService } from './webhooks.ts';
import { SqlParams, type Database } from '../db/database.ts';

/** Bytes of a response body kept with the delivery, for whoever debugs the receiver. */
const EXCERPT_BYTES = 512;
const POLL_MS = 2000;
const USER_AGENT = 'Galley-Webhooks/1';

export interface WebhookSenderOptions extends Omit<WebhookConfig, 'allow' | 'deliveryRetentionDays'> {
  /** Attempts in flight at once on this instance. */
  concurrency: number;
  onError(err: unknown): void;
}

/** `v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`: the Galley-Signature header. */
export function webhookSignature(secret: string, timestamp: number, body: string): string {
  return `v1=${crypto.createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

interface Claimed {
  id: string;
  webhook_id: string;
  event: string;
  payload: string;
  attempts: number;
  url: string;
  secret: string | null;
}

interface Outcome {
  ok: boolean;
  status: number | null;
  error: string | null;
  durationMs: number;
  excerpt: string | null;
  started: string;
}

export class WebhookSender {
  readonly workerId = newWorkerId();
  readonly #agent: Agent;
  readonly #leaseMs: number;
  readonly #loop: ClaimLoop<Claimed>;
  #started = false;

  constructor(
    private readonly db: Database,
    private readonly webhooks: WebhookService,
    private readonly targets: WebhookTargets,
    private readonly options: WebhookSenderOptions,
  ) {
    // Every connection's address is checked as it is resolved (DNS rebinding cannot slip past a
    // check made earlier); redirects are never followed (undici's request does not).
    this.#agent = new Agent({
      connect: { lookup: targets.lookup, timeout: options.timeoutMs },
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      keepAliveTimeout: 4000,
    });
    // Longer than any attempt can take, so a live attempt is never taken over.
    this.#leaseMs = 2 * options.timeoutMs + 1000;
    this.#loop = new ClaimLoop({
      concurrency: options.concurrency,
      pollMs: POLL_MS,
      claim: (limit) => this.claim(limit),
      run: (delivery) => this.attempt(delivery),
      onError: options.onError,
    });
  }

  get maxAttempts(): number {
    return this.options.retryDelaysMs.length + 1;
  }

  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    await this.db.listen(WEBHOOK_DELIVERIES_CHANNEL, () => this.wake());
    this.#loop.start();
  }

  /** Stops claiming, waits for the attempts in flight, closes connections. */
  async stop(): Promise<void> {
    await this.#loop.stop();
    await this.#agent.close();
  }

  wake(): void {
    this.#loop.wake();
  }

  /** Takes up to `limit` due deliveries of active webhooks: waiting and due, or with a lapsed lease. */
  private async claim(limit: number): Promise<Claimed[]> {
    const p = new SqlParams(this.db.dialect);
    const now = new Date().toISOString();
    // Placeholders in text order (SQLite's `?` are positional).
    const set = `"locked_until" = ${p.add(new Date(Date.now() + this.#leaseMs).toISOString())}, "locked_by" = ${p.add(this.workerId)}, "attempts" = "_webhook_deliveries"."attempts" + 1`;
    const nowA = p.add(now);
    const nowB = p.add(now);
    const due = `SELECT d."id" FROM "_webhook_deliveries" d JOIN "_webhooks" w ON w."id" = d."webhook_id"
      WHERE d."status" IN ('pending', 'failed') AND d."next_attempt" <= ${nowA} AND (d."locked_until" IS NULL OR d."locked_until" < ${nowB}) AND w."status" = 'active'
      ORDER BY d."next_attempt", d."seq" LIMIT ${p.add(limit)}`;
    const returning = `RETURNING "_webhook_deliveries"."id", "_webhook_deliveries"."webhook_id", "_webhook_deliveries"."event", "_webhook_deliveries"."payload", "_webhook_deliveries"."attempts"`;
    const sql =
      this.db.dialect === 'postgres'
        ? `WITH due AS MATERIALIZED (${due} FOR UPDATE OF d SKIP LOCKED) UPDATE "_webhook_deliveries" SET ${set} FROM due WHERE "_webhook_deliveries"."id" = due."id" ${returning}`
        : `UPDATE "_webhook_deliveries" SET ${set} WHERE "id" IN (${due}) ${returning}`;
    const rows = await this.db.all<Omit<Claimed, 'url' | 'secret'>>(sql, p.values);
    if (rows.length === 0) return [];
    const w = new SqlParams(this.db.dialect);
    const ids = [...new Set(rows.map((r) => r.webhook_id))];
    const hooks = await this.db.all<{ id: string; url: string; secret: string | null }>(
      `SELECT "id", "url", "secret" FROM "_webhooks" WHERE "id" IN (${ids.map((id) => w.add(id)).join(', ')})`,
      w.values,
    );
    const byId = new Map(hooks.map((h) => [h.id, h]));
    // A webhook deleted between the claim and now takes its deliveries with it.
    return rows.flatMap((r) => {
      const hook = byId.get(r.webhook_id);
      return hook ? [{ ...r, attempts: Number(r.attempts), url: hook.url, secret: hook.secret }] : [];
    });
  }

  private async attempt(delivery: Claimed): Promise<void> {
    try {
      // Claimed again after the last attempt's lease lapsed: the worker died on it every time.
      const outcome =
        delivery.attempts > this.maxAttempts
          ? { ok: false, status: null, error: `the lease lapsed on every one of ${this.maxAttempts} attempts`, durationMs: 0, excerpt: null, started: new Date().toISOString() }
          : await this.send(delivery);
      await this.record(delivery, outcome);
    } catch (err) {
      this.options.onError(err);
    }
  }

  private async send(delivery: Claimed): Promise<Outcome> {
    const started = new Date().toISOString();
    const t0 = performance.now();
    const done = (o: Omit<Outcome, 'durationMs' | 'started'>): Outcome => ({ ...o, durationMs: Math.round(performance.now() - t0), started });
    const secret = delivery.secret === null ? undefined : this.webhooks.openSecret(delivery.webhook_id, delivery.secret);
    if (secret === undefined) return done({ ok: false, status: null, error: 'the signing secret could not be opened (was GALLEY_SECRET changed?): rotate the secret', excerpt: null });
    let url: URL;
    try {
      url = new URL(delivery.url);
    } catch {
      return done({ ok: false, status: null, error: 'the URL is not valid', excerpt: null });
    }
    const refused = this.targets.refusedLiteral(url);
    if (refused) return done({ ok: false, status: null, error: refused, excerpt: null });
    const timestamp = Math.floor(Date.now() / 1000);
    try {
      const res = await request(url, {
        method: 'POST',
        dispatcher: this.#agent,
        headers: {
          'content-type': 'application/json',
          'user-agent': USER_AGENT,
          'galley-webhook-id': delivery.webhook_id,
          'galley-delivery-id': delivery.id,
          'galley-event': delivery.event,
          'galley-timestamp': String(timestamp),
          'galley-signature': webhookSignature(secret, timestamp, delivery.payload),
        },
        body: delivery.payload,
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      const excerpt = await readExcerpt(res.body);
      const ok = res.statusCode >= 200 && res.statusCode < 300;
      return done({ ok, status: res.statusCode, error: ok ? null : `the receiver answered ${res.statusCode}`, excerpt });
    } catch (err) {
      return done({ ok: false, status: null, error: describeFailure(err, this.options.timeoutMs), excerpt: null });
    }
  }

  /** Writes the outcome, only while this worker still holds the lease; a dead delivery counts against its webhook. */
  private async record(delivery: Claimed, outcome: Outcome): Promise<void> {
    const now = new Date().toISOString();
    const dead = !outcome.ok && delivery.attempts >= this.maxAttempts;
    const status = outcome.ok ? 'succeeded' : dead ? 'dead' : 'failed';
    const delay = outcome.ok || dead ? 0 : this.options.retryDelaysMs[delivery.attempts - 1]! * (0.8 + Math.random() * 0.4);
    await this.db.transaction(async (tx) => {
      const p = new SqlParams(tx.dialect);
      const updated = await tx.run(
        `UPDATE "_webhook_deliveries" SET "status" = ${p.add(status)}, "response_status" = ${p.add(outcome.status)}, "error" = ${p.add(outcome.error?.slice(0, 1000) ?? null)},
           "duration_ms" = ${p.add(outcome.durationMs)}, "last_attempt" = ${p.add(outcome.started)}, "response_excerpt" = ${p.add(outcome.excerpt)},
           "next_attempt" = ${p.add(new Date(Date.now() + delay).toISOString())}, "locked_until" = NULL, "locked_by" = NULL, "updated" = ${p.add(now)}
         WHERE "id" = ${p.add(delivery.id)} AND "locked_by" = ${p.add(this.workerId)}`,
        p.values,
      );
      // The lease lapsed and another worker took the delivery over: its outcome is the one kept.
      if (updated.changes === 0) return;
      const w = new SqlParams(tx.dialect);
      if (outcome.ok) {
        await tx.run(`UPDATE "_webhooks" SET "failures" = 0 WHERE "id" = ${w.add(delivery.webhook_id)} AND "failures" <> 0`, w.values);
      } else if (dead) {
        const limit = this.options.disableAfter;
        const reason = `disabled after ${limit} consecutive deliveries failed every attempt (last: ${(outcome.error ?? 'failed').slice(0, 200)})`;
        // Both sides read the row as it was before this statement, on both databases.
        await tx.run(
          `UPDATE "_webhooks" SET "failures" = "failures" + 1,
             "disabled_reason" = CASE WHEN "status" = 'active' AND "failures" + 1 >= ${w.add(limit)} THEN ${w.add(reason)} ELSE "disabled_reason" END,
             "status" = CASE WHEN "failures" + 1 >= ${w.add(limit)} THEN 'disabled' ELSE "status" END,
             "updated" = ${w.add(now)}
           WHERE "id" = ${w.add(delivery.webhook_id)}`,
          w.values,
        );
      }
    });
    // Look again when the retry is due rather than up to a poll interval later.
    if (status === 'failed') setTimeout(() => this.wake(), delay + 5).unref();
  }
}

/** The first bytes of a response body as text; the rest is discarded unread. */
async function readExcerpt(body: AsyncIterable<Buffer> & { destroy(): void }): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= EXCERPT_BYTES) break;
    }
  } catch {
    // A body cut short still tells what arrived.
  } finally {
    body.destroy();
  }
  if (size === 0) return null;
  return Buffer.concat(chunks).subarray(0, EXCERPT_BYTES).toString('utf8');
}

function describeFailure(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; code?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError' || e.code === 'UND_ERR_HEADERS_TIMEOUT' || e.code === 'UND_ERR_BODY_TIMEOUT' || e.code === 'UND_ERR_CONNECT_TIMEOUT') {
    return `no answer within ${timeoutMs / 1000} s`;
  }
  const message = e.cause?.message ?? e.message ?? String(err);
  return message.slice(0, 500);
}
