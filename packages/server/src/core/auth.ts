// Accounts: users with their account columns (email, password hash, verified, roles), password
// login, the password change, and the superuser bootstrap. Sessions live in sessions.ts; this
// service opens and ends them. Knows nothing of cookies or HTTP.

import type { FieldError } from '@galley/protocol';
import { ApiError } from './api-error.ts';
import { apiKeyCaller, ApiKeyService, API_KEY_PATTERN } from './api-keys.ts';
import { validateRoles } from './roles.ts';
import { AuditLog } from './audit.ts';
import { POLICIES, RateLimiter } from './rate-limit.ts';
import { MemoryRateLimitStore } from '../rate-limit/memory.ts';
import type { AuthUser, Caller } from './caller.ts';
import type { CollectionService } from './collections.ts';
import { checkEmail, MAX_EMAIL_LENGTH, normaliseEmail } from './emails.ts';
import { dummyPasswordHash, hashPassword, MAX_PASSWORD_LENGTH, passwordProblem, verifyPassword } from './passwords.ts';
import { newRecordId, rowToRecord, selectColumns, type ApiRecord } from './record-rows.ts';
import { validateRecordBody } from './record-validation.ts';
import { SessionStore, type SessionMeta } from './sessions.ts';
import type { ChangeLog } from './changes.ts';
import { encodeValue } from '../db/column-types.ts';
import { quoteIdent as q, SqlParams, UniqueViolationError, type Database, type Queryable, type Transaction } from '../db/database.ts';

export { SESSION_ABSOLUTE_MS, SESSION_IDLE_MS, type SessionMeta } from './sessions.ts';
import { hashToken } from './auth-tokens.ts';

export { hashToken };

/** The password_hash of an account that has none (created through OAuth): no password verifies against it. */
const NO_PASSWORD = '';

type StoredUser = AuthUser & { passwordHash: string };

const isTransaction = (via: Queryable | Transaction): via is Transaction => 'afterCommit' in via;
/** What an account owns besides its sessions, keyed by "user_id": deleted with it. */
const ACCOUNT_TABLES = ['_auth_tokens', '_mfa_totp', '_mfa_recovery_codes', '_mfa_tickets', '_oauth_identities'];

export const emailTaken = () => new ApiError('conflict', 'an account with this email exists', [{ field: 'email', code: 'not_unique', message: 'is taken' }]);

/** The stored (hashed) form of a session token: how sessions are named when they end, never the token itself. */
export const sessionTokenHash = hashToken;

/** Sessions that just ended: one, by its token hash (logout), or any of a user's (revocations, resets). */
export type SessionsEnded = { tokenHash: string } | { userId: string };

export class AuthService {
  readonly sessions: SessionStore;
  readonly apiKeys: ApiKeyService;
  private readonly endedListeners = new Set<(ended: SessionsEnded) => Promise<void>>();

  constructor(
    private readonly db: Database,
    private readonly collections: CollectionService,
    /** New accounts are record creates of `users`: realtime, webhooks and the read cache hear of them. */
    private readonly changes: ChangeLog,
    readonly audit: AuditLog = new AuditLog(db),
    readonly limiter: RateLimiter = new RateLimiter(new MemoryRateLimitStore()),
  ) {
    this.sessions = new SessionStore(db);
    this.apiKeys = new ApiKeyService(db, audit);
  }

  private async findUser(column: 'id' | 'email', value: string, via: Queryable = this.db): Promise<StoredUser | undefined> {
    const users = this.collections.require('users');
    const p = new SqlParams(this.db.dialect);
    const row = await via.get(
      `SELECT ${selectColumns(users, 'u')}, u."password_hash", u."verified", u."roles" FROM "users" u WHERE u.${q(column)} = ${p.add(value)}`,
      p.values,
    );
    if (!row) return undefined;
    const record = rowToRecord(users, row, this.db.dialect);
    const roles = typeof row.roles === 'string' ? (JSON.parse(row.roles) as string[]) : (row.roles as string[]);
    return { ...record, email: row.email as string, verified: row.verified === true || row.verified === 1, roles, passwordHash: row.password_hash as string };
  }

  /** The public shape of a user (no hash). */
  static publicUser(user: AuthUser & { passwordHash?: string }): AuthUser {
    const { passwordHash: _omit, ...rest } = user;
    return rest;
  }

  /**
   * Creates an account. `profile` holds fields of the `users` collection (validated by its schema);
   * every problem with the email, the password and the profile is reported at once.
   * `password: null` creates an account without a password (signed up through OAuth): it cannot
   * sign in with a password until one is set.
   */
  async createUser(
    input: { email: unknown; password: unknown; profile?: Record<string, unknown>; roles?: string[]; verified?: boolean },
    via: Queryable | Transaction = this.db,
  ): Promise<AuthUser> {
    const users = this.collections.require('users');
    const errors = [];
    const email = checkEmail(input.email);
    if ('error' in email) errors.push(email.error);
    const passwordError = input.password === null ? undefined : passwordProblem(input.password);
    if (passwordError) errors.push(passwordError);
    const profile = validateRecordBody(users, input.profile ?? {}, false);
    errors.push(...profile.errors);
    if (errors.length || 'error' in email) throw ApiError.validation(errors);
    const now = new Date().toISOString();
    const id = newRecordId();
    const p = new SqlParams(this.db.dialect);
    const roles = JSON.stringify(input.roles ?? []);
    const cols = ['"id"', '"created"', '"updated"', '"email"', '"password_hash"', '"verified"', '"roles"'];
    const passwordHash = input.password === null ? NO_PASSWORD : await hashPassword(input.password as string);
    const vals = [p.add(id), p.add(now), p.add(now), p.add(email.email), p.add(passwordHash), p.add(input.verified ?? false), p.add(roles)];
    for (const f of users.fields) {
      cols.push(q(f.name));
      vals.push(p.add(encodeValue(f, profile.values[f.name], this.db.dialect)));
    }
    const insert = async (tx: Transaction): Promise<AuthUser> => {
      try {
        await tx.run(`INSERT INTO "users" (${cols.join(', ')}) VALUES (${vals.join(', ')})`, p.values);
      } catch (err) {
        if (err instanceof UniqueViolationError) throw emailTaken();
        throw err;
      }
      const read = new SqlParams(this.db.dialect);
      const row = await tx.get(`SELECT ${selectColumns(users, 'u')} FROM "users" u WHERE u."id" = ${read.add(id)}`, read.values);
      // The record as the records API shows it (with the email, which realtime shows only to its
      // owner): the hash, roles and verified flag never reach the change log.
      const record = rowToRecord(users, row!, this.db.dialect);
      this.changes.append(tx, users.name, 'create', record);
      return { ...record, email: email.email, verified: input.verified ?? false, roles: input.roles ?? [] };
    };
    return isTransaction(via) ? insert(via) : this.db.transaction(insert);
  }

  /** Creates the superuser from configuration if no account has that email (an existing one is left as is). */
  async ensureSuperuser(email: string, password: string): Promise<'created' | 'exists'> {
    if (await this.findUser('email', normaliseEmail(email))) return 'exists';
    try {
      await this.createUser({ email, password, roles: ['admin'], verified: true });
      return 'created';
    } catch (err) {
      // Another instance created it at the same moment.
      if (err instanceof ApiError && err.code === 'conflict') return 'exists';
      throw err;
    }
  }

  /**
   * Checks an email and password; the user when they match. Password login is
   * `verifyCredentials` then SignInService.complete, which asks for a second factor (MFA) first
   * when the user has one. A failure is written to the audit log.
   */
  async verifyCredentials(email: unknown, password: unknown, meta: SessionMeta = {}): Promise<AuthUser> {
    const client = meta.ip ?? 'unknown';
    const account = typeof email === 'string' ? normaliseEmail(email.slice(0, MAX_EMAIL_LENGTH + 64)) : '';
    // Checked before the password: a waiting client learns nothing, not even whether it was right.
    await this.limiter.check(POLICIES.loginClient, client);
    if (account) await this.limiter.check(POLICIES.loginAccount, account);
    const refuse = async (user?: StoredUser) => {
      await this.audit.record({ action: 'login.failed', user: user?.id, email: account || null, meta });
      await this.limiter.hit(POLICIES.loginClient, client);
      if (account && (await this.limiter.hit(POLICIES.loginAccount, account))) {
        await this.audit.record({ action: 'login.rate_limited', user: user?.id, email: account, meta });
      }
      return new ApiError('invalid_credentials', 'the email or password is wrong');
    };
    if (typeof email !== 'string' || typeof password !== 'string' || email.length > MAX_EMAIL_LENGTH + 64 || password.length > MAX_PASSWORD_LENGTH) {
      throw await refuse();
    }
    const user = await this.findUser('email', account);
    // Verify against a dummy hash for unknown accounts so the answer takes as long either way.
    const ok = await verifyPassword(user?.passwordHash || (await dummyPasswordHash()), password);
    if (!user || user.passwordHash === NO_PASSWORD || !ok) throw await refuse(user);
    await this.limiter.reset(POLICIES.loginAccount, account);
    return AuthService.publicUser(user);
  }

  /** Opens a session for a user whose identity is proven (password, second factor, OAuth…). */
  async signIn(user: AuthUser, meta: SessionMeta, method = 'password'): Promise<{ user: AuthUser; token: string }> {
    const token = await this.createSession(user.id, meta);
    await this.audit.record({ action: 'login.succeeded', user: user.id, meta, detail: { method } });
    return { user, token };
  }

  async createSession(userId: string, meta: SessionMeta): Promise<string> {
    return (await this.sessions.create(userId, meta)).token;
  }

  /**
   * Who a bearer credential is: a session's user, or the caller an API key acts as (told apart by
   * the key's prefix and length); null if it is unknown, revoked, expired or idle too long.
   * `expires`: when it stops working at the latest (a key without expiry: null). Realtime checks
   * its connections with this.
   */
  async authenticateBearer(token: string): Promise<{ user: AuthUser; expires: string | null; sessionId?: string; apiKeyId?: string } | null> {
    if (API_KEY_PATTERN.test(token)) {
      const key = await this.apiKeys.authenticate(token);
      return key ? { user: apiKeyCaller(key), expires: key.expires, apiKeyId: key.id } : null;
    }
    return this.authenticateSession(token);
  }

  /** A session token only (the cookie): its user, its id (for `GET /sessions` and revoking the others) and its expiry. */
  async authenticateSession(token: string): Promise<{ user: AuthUser; sessionId: string; expires: string } | null> {
    const session = await this.sessions.find(token);
    const user = session ? await this.findUser('id', session.userId) : undefined;
    return user ? { user: AuthService.publicUser(user), sessionId: session!.id, expires: session!.expires } : null;
  }

  /**
   * A `users` record is being deleted in `tx`: its sessions, mail tokens, second factor and OAuth
   * links go in the same transaction. Once it commits, the user's realtime connections are closed
   * and the deletion is audited (`user.deleted`), before the delete answers.
   */
  async accountDeletedIn(tx: Transaction, user: ApiRecord, caller: Caller): Promise<void> {
    for (const table of ACCOUNT_TABLES) {
      const p = new SqlParams(tx.dialect);
      await tx.run(`DELETE FROM ${q(table)} WHERE "user_id" = ${p.add(user.id)}`, p.values);
    }
    await this.revokeSessions(user.id, tx);
    const email = typeof user.email === 'string' ? user.email : undefined;
    tx.afterCommit(() =>
      this.audit.record({ action: 'user.deleted', user: user.id, actor: caller.user?.id, email }).catch(() => {
        // The account is gone either way; a lost audit entry must not turn the delete into an error.
      }),
    );
  }

  /** Ends every session of a user (their account was taken over by its proven owner, for example). */
  async revokeSessions(userId: string, via: Queryable | Transaction = this.db): Promise<void> {
    await this.sessions.revokeAll(userId, undefined, via);
    // Inside a transaction the sessions are gone only once it commits: say so then.
    if (isTransaction(via)) via.afterCommit(() => void this.sessionsEnded({ userId }));
    else await this.sessionsEnded({ userId });
  }

  async logout(token: string, meta: SessionMeta = {}): Promise<void> {
    const session = await this.sessions.find(token);
    await this.sessions.revokeToken(token);
    await this.sessionsEnded({ tokenHash: hashToken(token) });
    if (session) await this.audit.record({ action: 'logout', user: session.userId, meta });
  }

  async userById(id: string): Promise<AuthUser | undefined> {
    const user = await this.findUser('id', id);
    return user && AuthService.publicUser(user);
  }

  /** Looks an account up by any spelling of its email (normalised first). */
  async userByEmail(email: string): Promise<AuthUser | undefined> {
    const user = await this.findUser('email', normaliseEmail(email));
    return user && AuthService.publicUser(user);
  }

  /** Replaces a password (the policy applies); the caller decides which sessions survive. */
  async setPassword(userId: string, password: unknown): Promise<void> {
    const problem = passwordProblem(password);
    if (problem) throw ApiError.validation([problem]);
    const p = new SqlParams(this.db.dialect);
    await this.db.run(
      `UPDATE "users" SET "password_hash" = ${p.add(await hashPassword(password as string))}, "updated" = ${p.add(new Date().toISOString())} WHERE "id" = ${p.add(userId)}`,
      p.values,
    );
  }

  /**
   * The signed-in user changes their password, proving the current one. Every session is revoked
   * and the caller gets a fresh one (rotation): a stolen token dies with the old password.
   */
  async changePassword(user: AuthUser, currentPassword: unknown, password: unknown, meta: SessionMeta): Promise<{ user: AuthUser; token: string }> {
    const stored = await this.proveCurrentPassword(user, currentPassword);
    await this.setPassword(user.id, password);
    const revoked = await this.sessions.revokeAll(user.id);
    await this.sessionsEnded({ userId: user.id });
    await this.audit.record({ action: 'password.changed', user: user.id, meta, detail: { sessionsRevoked: revoked } });
    return this.signIn(AuthService.publicUser(stored), meta, 'password_change');
  }

  /**
   * The signed-in user's current password, proven again before a change that a stolen session must
   * not be able to make alone (password, email). An account without a password (OAuth) never passes:
   * it sets one through a password reset first.
   */
  async proveCurrentPassword(user: AuthUser, currentPassword: unknown): Promise<StoredUser> {
    const stored = await this.findUser('id', user.id);
    if (!stored || stored.passwordHash === NO_PASSWORD || typeof currentPassword !== 'string' || currentPassword.length > MAX_PASSWORD_LENGTH || !(await verifyPassword(stored.passwordHash, currentPassword))) {
      throw new ApiError('invalid_credentials', 'the current password is wrong');
    }
    return stored;
  }

  /**
   * Moves an account to a new address, if it still has the one it had when the change was asked
   * for; the new address is verified (the link mailed to it was followed). False when the account
   * moved meanwhile; `conflict` when another account took the address.
   */
  async changeEmail(userId: string, from: string, to: string): Promise<boolean> {
    const p = new SqlParams(this.db.dialect);
    try {
      const result = await this.db.run(
        `UPDATE "users" SET "email" = ${p.add(to)}, "verified" = ${p.add(true)}, "updated" = ${p.add(new Date().toISOString())} WHERE "id" = ${p.add(userId)} AND "email" = ${p.add(from)}`,
        p.values,
      );
      return result.changes > 0;
    } catch (err) {
      if (err instanceof UniqueViolationError) throw emailTaken();
      throw err;
    }
  }

  /**
   * A superuser sets a user's roles, whether their email counts as verified, or both
   * (`PATCH /auth/users/:id {roles?, verified?}`). A roles change revokes every session of that
   * user (rotation on privilege change): the next sign-in carries the new roles, and a stolen token
   * does not keep the old ones. `verified` alone ends no session: it grants no privilege of its own.
   */
  async updateAccount(actor: AuthUser, userId: string, input: Record<string, unknown>, meta: SessionMeta): Promise<AuthUser> {
    const errors: FieldError[] = [];
    const roles = input.roles === undefined ? undefined : validateRoles(input.roles, errors);
    const { verified } = input;
    if (verified !== undefined && typeof verified !== 'boolean') errors.push({ field: 'verified', code: 'invalid_type', message: 'must be true or false' });
    if (input.roles === undefined && verified === undefined) errors.push({ field: 'body', code: 'required', message: 'give roles, verified or both' });
    if (errors.length) throw ApiError.validation(errors);
    const before = await this.userById(userId);
    if (!before) throw ApiError.notFound('The user');
    const p = new SqlParams(this.db.dialect);
    const sets = [`"updated" = ${p.add(new Date().toISOString())}`];
    if (roles) sets.push(`"roles" = ${p.add(JSON.stringify(roles))}`);
    if (verified !== undefined) sets.push(`"verified" = ${p.add(verified)}`);
    await this.db.transaction(async (tx) => {
      await tx.run(`UPDATE "users" SET ${sets.join(', ')} WHERE "id" = ${p.add(userId)}`, p.values);
      if (roles) await this.sessions.revokeAll(userId, undefined, tx);
    });
    if (roles) {
      await this.sessionsEnded({ userId });
      await this.audit.record({ action: 'roles.changed', user: userId, actor: actor.id, meta, detail: { before: before.roles, after: roles } });
    }
    if (verified !== undefined) await this.audit.record({ action: 'verified.changed', user: userId, actor: actor.id, meta, detail: { before: before.verified, after: verified } });
    return (await this.userById(userId))!;
  }

  /** Marks the address verified, if the account still has the address the link was mailed to. */
  async markVerified(userId: string, email: string): Promise<boolean> {
    const p = new SqlParams(this.db.dialect);
    const result = await this.db.run(
      `UPDATE "users" SET "verified" = ${p.add(true)}, "updated" = ${p.add(new Date().toISOString())} WHERE "id" = ${p.add(userId)} AND "email" = ${p.add(email)}`,
      p.values,
    );
    return result.changes > 0;
  }

  /**
   * Hears about sessions that ended, so long-lived connections (realtime) lose their access at once.
   * Every path that deletes or invalidates sessions calls `sessionsEnded` after doing so.
   */
  onSessionsEnded(listener: (ended: SessionsEnded) => Promise<void>): void {
    this.endedListeners.add(listener);
  }

  /** Tells the listeners; resolves when they have acted (local connections are closed by then). */
  async sessionsEnded(ended: SessionsEnded): Promise<void> {
    await Promise.all([...this.endedListeners].map((fn) => fn(ended)));
  }
}
