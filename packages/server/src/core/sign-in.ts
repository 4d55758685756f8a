// The last steps of every sign-in, after the first factor (password, OAuth) proved who the user
// is: a session at once, or — for a user with MFA — a short-lived, single-use ticket that buys a
// session only together with a second-factor code (contract §3, `mfaRequired`).

import crypto from 'node:crypto';
import { ApiError } from './api-error.ts';
import { hashToken, type AuthService, type SessionMeta } from './auth.ts';
import type { AuthUser } from './caller.ts';
import type { MfaService } from './mfa.ts';
import { SqlParams, type Database } from '../db/database.ts';

/** Long enough to open an authenticator app and type a code; short enough to be useless later. */
export const MFA_TICKET_TTL_MS = 5 * 60 * 1000;
/** Wrong codes a ticket survives; then the password (or OAuth) step must be done again. */
export const MFA_TICKET_ATTEMPTS = 5;

export type SignInOutcome = { user: AuthUser; token: string } | { mfaRequired: true; ticket: string };

const ticketRefused = () => new ApiError('unauthenticated', 'the sign-in ticket is invalid, used or expired: sign in again');

export class SignInService {
  constructor(
    private readonly db: Database,
    private readonly auth: AuthService,
    private readonly mfa: MfaService,
  ) {}

  /** Called once the first factor succeeded. */
  async complete(user: AuthUser, meta: SessionMeta, method = 'password'): Promise<SignInOutcome> {
    if (!(await this.mfa.required(user.id))) return this.auth.signIn(user, meta, method);
    return { mfaRequired: true, ticket: await this.issueTicket(user.id) };
  }

  /** Trades a ticket and a valid second-factor code for a session. The ticket is used up. */
  async verifySecondFactor(ticket: string, code: string, meta: SessionMeta): Promise<{ user: AuthUser; token: string }> {
    const hash = hashToken(ticket);
    const p = new SqlParams(this.db.dialect);
    const row = await this.db.get<{ user_id: string; expires: unknown; attempts: number }>(
      `SELECT "user_id", "expires", "attempts" FROM "_mfa_tickets" WHERE "token_hash" = ${p.add(hash)}`,
      p.values,
    );
    if (!row || new Date(row.expires as string).getTime() <= Date.now() || row.attempts >= MFA_TICKET_ATTEMPTS) throw ticketRefused();
    try {
      await this.mfa.verify(row.user_id, code, meta);
    } catch (err) {
      if (err instanceof ApiError && err.code === 'invalid_credentials') {
        const u = new SqlParams(this.db.dialect);
        await this.db.run(`UPDATE "_mfa_tickets" SET "attempts" = "attempts" + 1 WHERE "token_hash" = ${u.add(hash)}`, u.values);
      }
      throw err;
    }
    // Only one of two concurrent verifications with the same ticket gets past this delete.
    const d = new SqlParams(this.db.dialect);
    if ((await this.db.run(`DELETE FROM "_mfa_tickets" WHERE "token_hash" = ${d.add(hash)}`, d.values)).changes !== 1) throw ticketRefused();
    const user = await this.auth.userById(row.user_id);
    if (!user) throw ticketRefused();
    return this.auth.signIn(user, meta, 'mfa');
  }

  private async issueTicket(userId: string): Promise<string> {
    const now = Date.now();
    // Expired tickets are dropped here rather than by a job: issuing is the only thing that adds them.
    const cleanup = new SqlParams(this.db.dialect);
    await this.db.run(`DELETE FROM "_mfa_tickets" WHERE "expires" < ${cleanup.add(new Date(now).toISOString())}`, cleanup.values);
    const ticket = crypto.randomBytes(32).toString('base64url');
    const p = new SqlParams(this.db.dialect);
    await this.db.run(
      `INSERT INTO "_mfa_tickets" ("token_hash", "user_id", "expires", "attempts", "created") VALUES (${p.add(hashToken(ticket))}, ${p.add(userId)}, ${p.add(new Date(now + MFA_TICKET_TTL_MS).toISOString())}, 0, ${p.add(new Date(now).toISOString())})`,
      p.values,
    );
    return ticket;
  }
}
