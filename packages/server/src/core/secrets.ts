// The server secret: one random key shared by every instance, from which each purpose (file
// tokens, MFA secrets at rest, OAuth state, webhook signing…) derives its own key with HKDF, so
// a key leaked for one purpose opens nothing else.
//
// GALLEY_SECRET (≥ 32 characters) wins when set. Otherwise the first instance to start generates
// one into the `_secrets` table — in the data folder's database with SQLite, shared through
// PostgreSQL when scaled out — and every later start (or other instance) reads the same row.

import crypto from 'node:crypto';
import { SqlParams, type Database } from '../db/database.ts';

export class ServerSecret {
  readonly #root: Buffer;
  readonly #derived = new Map<string, Buffer>();

  constructor(root: Buffer) {
    this.#root = root;
  }

  /** A 32-byte key for one purpose, e.g. `key('file-tokens')`. */
  key(purpose: string): Buffer {
    let key = this.#derived.get(purpose);
    if (!key) {
      key = Buffer.from(crypto.hkdfSync('sha256', this.#root, Buffer.alloc(0), `galley:${purpose}`, 32));
      this.#derived.set(purpose, key);
    }
    return key;
  }
}

export async function loadServerSecret(db: Database, fromEnv?: string): Promise<ServerSecret> {
  if (fromEnv) return new ServerSecret(Buffer.from(fromEnv, 'utf8'));
  const insert = new SqlParams(db.dialect);
  const generated = crypto.randomBytes(32).toString('base64url');
  // ON CONFLICT DO NOTHING: when two instances start at once, the first insert wins and both read it.
  await db.run(
    `INSERT INTO "_secrets" ("name", "value", "created") VALUES (${insert.add('root')}, ${insert.add(generated)}, ${insert.add(new Date().toISOString())}) ON CONFLICT ("name") DO NOTHING`,
    insert.values,
  );
  const read = new SqlParams(db.dialect);
  const row = await db.get<{ value: string }>(`SELECT "value" FROM "_secrets" WHERE "name" = ${read.add('root')}`, read.values);
  if (!row) throw new Error('the server secret could not be stored');
  return new ServerSecret(Buffer.from(row.value, 'base64url'));
}
