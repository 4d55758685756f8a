// The audit log: security-relevant events (sign-ins ok and failed, rate-limit lockouts, password
// and role changes, session and API key revocations…) with time, user, client address and user
// agent. The `_audit` table is shaped like a collection table, so superusers list it with the record
// list machinery (filter, sort, cursor); entries older than the retention are deleted.

import type { CollectionDef } from './collection-model.ts';
import { newRecordId } from './record-rows.ts';
import type { SessionMeta } from './sessions.ts';
import { SqlParams, type Database } from '../db/database.ts';

export type AuditAction =
  | 'login.succeeded'
  | 'login.failed'
  | 'login.rate_limited'
  | 'logout'
  | 'user.registered'
  | 'user.deleted'
  | 'password.changed'
  | 'password.reset'
  | 'email.verified'
  | 'email.change_requested'
  | 'email.changed'
  | 'roles.changed'
  | 'session.revoked'
  | 'api_key.created'
  | 'api_key.revoked'
  | (string & {});

export interface AuditEntry {
  action: AuditAction;
  /** The account the event is about. */
  user?: string | null;
  /** Who did it, when not the user themself (a superuser changing roles, an API key). */
  actor?: string | null;
  /** The address tried, for failed sign-ins of accounts that may not exist. */
  email?: string | null;
  meta?: SessionMeta;
  detail?: Record<string, unknown>;
}

/** `_audit` as a read-only collection: its fields are what filters, sorts and `fields=` may name. */
export const AUDIT_COLLECTION: CollectionDef = {
  name: '_audit',
  fields: [
    { name: 'action', type: 'text' },
    { name: 'user', type: 'relation', collection: 'users' },
    { name: 'actor', type: 'text' },
    { name: 'email', type: 'text' },
    { name: 'ip', type: 'text' },
    { name: 'user_agent', type: 'text' },
    { name: 'detail', type: 'json' },
  ],
  indexes: [],
  search: [],
  rules: { list: null, view: null, create: null, update: null, delete: null },
};

const DAY_MS = 24 * 60 * 60 * 1000;
const PRUNE_INTERVAL_MS = 60 * 60 * 1000;

export class AuditLog {
  private pruneTimer: NodeJS.Timeout | undefined;

  constructor(private readonly db: Database) {}

  /** Prunes now and then hourly (every instance may: the delete is idempotent). */
  startPruning(retentionDays: number, onError: (err: unknown) => void): void {
    if (this.pruneTimer) return;
    void this.prune(retentionDays).catch(onError);
    this.pruneTimer = setInterval(() => void this.prune(retentionDays).catch(onError), PRUNE_INTERVAL_MS).unref();
  }

  stop(): void {
    clearInterval(this.pruneTimer);
    this.pruneTimer = undefined;
  }

  async record(entry: AuditEntry): Promise<void> {
    const now = new Date().toISOString();
    const p = new SqlParams(this.db.dialect);
    await this.db.run(
      `INSERT INTO "_audit" ("id", "created", "updated", "action", "user", "actor", "email", "ip", "user_agent", "detail") VALUES (${p.add(newRecordId())}, ${p.add(now)}, ${p.add(now)}, ${p.add(entry.action)}, ${p.add(entry.user ?? null)}, ${p.add(entry.actor ?? null)}, ${p.add(entry.email?.slice(0, 320) ?? null)}, ${p.add(entry.meta?.ip ?? null)}, ${p.add(entry.meta?.userAgent?.slice(0, 512) ?? null)}, ${p.add(entry.detail ? JSON.stringify(entry.detail) : null)})`,
      p.values,
    );
  }

  /** Deletes entries older than the retention; the number deleted. */
  async prune(retentionDays: number): Promise<number> {
    const p = new SqlParams(this.db.dialect);
    return (await this.db.run(`DELETE FROM "_audit" WHERE "created" < ${p.add(new Date(Date.now() - retentionDays * DAY_MS).toISOString())}`, p.values)).changes;
  }
}
