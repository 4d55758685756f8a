// Idempotency keys for creates: the first response for a (caller, key) is stored in the same
// transaction as the record, and replayed for the same body; another body under that key is 409.

import crypto from 'node:crypto';
import { ApiError } from './api-error.ts';
import { SqlParams, type Database, type Queryable } from '../db/database.ts';

export interface StoredResponse {
  status: number;
  body: string;
  location: string | null;
}

/** Keys are kept this long; a retry after that creates again. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
export const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

export function requestHash(method: string, path: string, body: unknown): string {
  return crypto.createHash('sha256').update(`${method} ${path}\n${JSON.stringify(body)}`).digest('hex');
}

export class IdempotencyStore {
  constructor(private readonly db: Database) {}

  /** The stored response for this key, if any; 409 when the key was used for another request. */
  async find(scope: string, key: string, hash: string): Promise<StoredResponse | undefined> {
    const p = new SqlParams(this.db.dialect);
    const cutoff = new Date(Date.now() - IDEMPOTENCY_TTL_MS).toISOString();
    const row = await this.db.get<{ request_hash: string; status: number; body: string; location: string | null }>(
      `SELECT "request_hash", "status", "body", "location" FROM "_idempotency" WHERE "scope" = ${p.add(scope)} AND "key" = ${p.add(key)} AND "created" > ${p.add(cutoff)}`,
      p.values,
    );
    if (!row) return undefined;
    if (row.request_hash !== hash) {
      throw new ApiError('conflict', 'this Idempotency-Key was already used for a different request', [
        { field: 'Idempotency-Key', code: 'idempotency_key_reused', message: 'was used with another body; use a new key for a new request' },
      ]);
    }
    return { status: Number(row.status), body: row.body, location: row.location };
  }

  async saveIn(tx: Queryable, scope: string, key: string, hash: string, response: StoredResponse): Promise<void> {
    const p = new SqlParams(tx.dialect);
    const now = new Date().toISOString();
    // An expired entry for the same key is replaced.
    await tx.run(`DELETE FROM "_idempotency" WHERE "scope" = ${p.add(scope)} AND "key" = ${p.add(key)} AND "created" <= ${p.add(new Date(Date.now() - IDEMPOTENCY_TTL_MS).toISOString())}`, p.values);
    const q = new SqlParams(tx.dialect);
    await tx.run(
      `INSERT INTO "_idempotency" ("scope", "key", "request_hash", "status", "body", "location", "created") VALUES (${q.add(scope)}, ${q.add(key)}, ${q.add(hash)}, ${q.add(response.status)}, ${q.add(response.body)}, ${q.add(response.location)}, ${q.add(now)})`,
      q.values,
    );
  }
}
