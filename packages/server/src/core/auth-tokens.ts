// Single-use, expiring tokens for mail links (password reset, email verification, email change). Only a hash is
// stored; a token is bound to the address it was mailed to, and consuming it deletes it in the same
// statement, so two concurrent uses cannot both succeed.

import crypto from 'node:crypto';
import { SqlParams, type Database } from '../db/database.ts';

export type TokenPurpose = 'password_reset' | 'verify_email' | 'email_change';

export const TOKEN_LIFETIME_MS: Record<TokenPurpose, number> = {
  password_reset: 60 * 60 * 1000,
  verify_email: 24 * 60 * 60 * 1000,
  // The link moves the account to another address: as short-lived as a reset link.
  email_change: 60 * 60 * 1000,
};

/** 32 random bytes in base64url. */
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** Tokens are stored only as this hash: a leaked table opens nothing. */
export const hashToken = (token: string) => crypto.createHash('sha256').update(token).digest('hex');

/** A new opaque token: 32 random bytes, 43 characters of base64url. */
export const newOpaqueToken = () => crypto.randomBytes(32).toString('base64url');

export class AuthTokenStore {
  constructor(private readonly db: Database) {}

  /** A new token for the user; earlier ones of the same purpose stop working (only the latest mail counts). */
  async issue(purpose: TokenPurpose, userId: string, email: string): Promise<string> {
    const token = newOpaqueToken();
    const now = Date.now();
    await this.db.transaction(async (tx) => {
      const del = new SqlParams(tx.dialect);
      await tx.run(`DELETE FROM "_auth_tokens" WHERE ("user_id" = ${del.add(userId)} AND "purpose" = ${del.add(purpose)}) OR "expires" <= ${del.add(new Date(now).toISOString())}`, del.values);
      const p = new SqlParams(tx.dialect);
      await tx.run(
        `INSERT INTO "_auth_tokens" ("token_hash", "purpose", "user_id", "email", "created", "expires") VALUES (${p.add(hashToken(token))}, ${p.add(purpose)}, ${p.add(userId)}, ${p.add(email)}, ${p.add(new Date(now).toISOString())}, ${p.add(new Date(now + TOKEN_LIFETIME_MS[purpose]).toISOString())})`,
        p.values,
      );
    });
    return token;
  }

  /** Uses a token up: its user and address if it was valid, unexpired and unused; undefined otherwise. */
  async consume(purpose: TokenPurpose, token: unknown): Promise<{ userId: string; email: string } | undefined> {
    if (typeof token !== 'string' || !TOKEN_PATTERN.test(token)) return undefined;
    const p = new SqlParams(this.db.dialect);
    const row = await this.db.get<{ user_id: string; email: string; expires: unknown }>(
      `DELETE FROM "_auth_tokens" WHERE "token_hash" = ${p.add(hashToken(token))} AND "purpose" = ${p.add(purpose)} RETURNING "user_id", "email", "expires"`,
      p.values,
    );
    if (!row || new Date(row.expires as string).getTime() <= Date.now()) return undefined;
    return { userId: row.user_id, email: row.email };
  }
}
