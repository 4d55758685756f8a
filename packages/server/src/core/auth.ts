// Accounts and sessions: password login, opaque session tokens stored only as hashes, with idle
// and absolute expiry, logout, and the superuser bootstrap. Knows nothing of cookies or HTTP.

import crypto from 'node:crypto';
import { ApiError } from './api-error.ts';
import type { AuthUser } from './caller.ts';
import type { CollectionService } from './collections.ts';
import { checkEmail, MAX_EMAIL_LENGTH, normaliseEmail } from './emails.ts';
import { dummyPasswordHash, hashPassword, MAX_PASSWORD_LENGTH, passwordProblem, verifyPassword } from './passwords.ts';
import { newRecordId, rowToRecord, selectColumns } from './record-rows.ts';
import { validateRecordBody } from './record-validation.ts';
import { encodeValue } from '../db/column-types.ts';
import { quoteIdent as q, SqlParams, UniqueViolationError, type Database, type Queryable, type Transaction } from '../db/database.ts';

export const SESSION_ABSOLUTE_MS = 30 * 24 * 60 * 60 * 1000;
export const SESSION_IDLE_MS = 7 * 24 * 60 * 60 * 1000;
/** The password_hash of an account that has none (created through OAuth): no password verifies against it. */
const NO_PASSWORD = '';
/** last_seen is written at most this often per session, to keep reads cheap. */
const TOUCH_INTERVAL_MS = 60 * 1000;

export interface SessionMeta {
  userAgent?: string;
  ip?: string;
}

/** The profile fields a registration may set (contract §3: `{email, password, name?}`). */
const REGISTRATION_PROFILE_FIELDS = new Set(['name']);

/** Opaque tokens (sessions, MFA tickets) are stored only as this hash: high-entropy, so SHA-256 suffices. */
export const hashToken = (token: string) => crypto.createHash('sha256').update(token).digest('hex');

/** The stored (hashed) form of a session token: how sessions are named when they end, never the token itself. */
export const sessionTokenHash = hashToken;

/** Sessions that just ended: one, by its token hash (logout), or any of a user's (revocations, resets). */
export type SessionsEnded = { tokenHash: string } | { userId: string };

export class AuthService {
  private readonly endedListeners = new Set<(ended: SessionsEnded) => Promise<void>>();

  constructor(
    private readonly db: Database,
    private readonly collections: CollectionService,
  ) {}

  private async findUser(column: 'id' | 'email', value: string, via: Queryable = this.db): Promise<(AuthUser & { passwordHash: string }) | undefined> {
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

  async userById(id: string): Promise<AuthUser | undefined> {
    const user = await this.findUser('id', id);
    return user && AuthService.publicUser(user);
  }

  async userByEmail(email: string): Promise<AuthUser | undefined> {
    const user = await this.findUser('email', normaliseEmail(email));
    return user && AuthService.publicUser(user);
  }

  /**
   * Creates an account. `profile` holds fields of the `users` collection (validated by its schema);
   * every problem with the email, the password and the profile is reported at once.
   * `password: null` creates an account without a password (signed up through OAuth): it cannot
   * sign in with a password until one is set.
   */
  async createUser(
    input: { email: unknown; password: unknown; profile?: Record<string, unknown>; roles?: string[]; verified?: boolean },
    via: Queryable = this.db,
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
    try {
      await via.run(`INSERT INTO "users" (${cols.join(', ')}) VALUES (${vals.join(', ')})`, p.values);
    } catch (err) {
      if (err instanceof UniqueViolationError) throw new ApiError('conflict', 'an account with this email exists', [{ field: 'email', code: 'not_unique', message: 'is taken' }]);
      throw err;
    }
    return AuthService.publicUser((await this.findUser('id', id, via))!);
  }

  /** Self-service sign-up (`POST /register`): an unverified account without roles, and a session. */
  async register(body: Record<string, unknown>, meta: SessionMeta): Promise<{ user: AuthUser; token: string }> {
    const { email, password, ...profile } = body;
    const unknown = Object.keys(profile).filter((k) => !REGISTRATION_PROFILE_FIELDS.has(k));
    if (unknown.length) throw ApiError.validation(unknown.map((field) => ({ field, code: 'unknown_field', message: 'is not accepted here' })));
    const user = await this.createUser({ email, password, profile });
    return this.signIn(user, meta);
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
   * when the user has one.
   */
  async verifyCredentials(email: unknown, password: unknown): Promise<AuthUser> {
    if (typeof email !== 'string' || typeof password !== 'string' || email.length > MAX_EMAIL_LENGTH + 64 || password.length > MAX_PASSWORD_LENGTH) {
      throw new ApiError('invalid_credentials', 'the email or password is wrong');
    }
    const user = await this.findUser('email', normaliseEmail(email));
    // Verify against a dummy hash for unknown accounts so the answer takes as long either way.
    const ok = await verifyPassword(user?.passwordHash || (await dummyPasswordHash()), password);
    if (!user || user.passwordHash === NO_PASSWORD || !ok) throw new ApiError('invalid_credentials', 'the email or password is wrong');
    return AuthService.publicUser(user);
  }

  /** Opens a session for a user whose identity is proven (password, second factor, OAuth…). */
  async signIn(user: AuthUser, meta: SessionMeta): Promise<{ user: AuthUser; token: string }> {
    return { user, token: await this.createSession(user.id, meta) };
  }

  async createSession(userId: string, meta: SessionMeta): Promise<string> {
    const token = crypto.randomBytes(32).toString('base64url');
    const now = Date.now();
    const p = new SqlParams(this.db.dialect);
    await this.db.run(
      `INSERT INTO "_sessions" ("id", "token_hash", "user_id", "created", "last_seen", "expires", "user_agent", "ip") VALUES (${p.add(newRecordId())}, ${p.add(hashToken(token))}, ${p.add(userId)}, ${p.add(new Date(now).toISOString())}, ${p.add(new Date(now).toISOString())}, ${p.add(new Date(now + SESSION_ABSOLUTE_MS).toISOString())}, ${p.add(meta.userAgent?.slice(0, 512) ?? null)}, ${p.add(meta.ip ?? null)})`,
      p.values,
    );
    return token;
  }

  /** The user a session token belongs to, or null if the token is unknown, expired or idle too long. */
  async authenticate(token: string): Promise<AuthUser | null> {
    if (token.length < 20 || token.length > 200) return null;
    const p = new SqlParams(this.db.dialect);
    const session = await this.db.get<{ id: string; user_id: string; last_seen: unknown; expires: unknown }>(
      `SELECT "id", "user_id", "last_seen", "expires" FROM "_sessions" WHERE "token_hash" = ${p.add(hashToken(token))}`,
      p.values,
    );
    if (!session) return null;
    const now = Date.now();
    const lastSeen = new Date(session.last_seen as string).getTime();
    if (new Date(session.expires as string).getTime() <= now || lastSeen + SESSION_IDLE_MS <= now) return null;
    if (now - lastSeen > TOUCH_INTERVAL_MS) {
      const u = new SqlParams(this.db.dialect);
      await this.db.run(`UPDATE "_sessions" SET "last_seen" = ${u.add(new Date(now).toISOString())} WHERE "id" = ${u.add(session.id)}`, u.values);
    }
    const user = await this.findUser('id', session.user_id);
    return user ? AuthService.publicUser(user) : null;
  }

  /** Ends every session of a user (their account was taken over by its proven owner, for example). */
  async revokeSessions(userId: string, via: Queryable | Transaction = this.db): Promise<void> {
    const p = new SqlParams(this.db.dialect);
    await via.run(`DELETE FROM "_sessions" WHERE "user_id" = ${p.add(userId)}`, p.values);
    // Inside a transaction the sessions are gone only once it commits: say so then.
    if ('afterCommit' in via) via.afterCommit(() => void this.sessionsEnded({ userId }));
    else await this.sessionsEnded({ userId });
  }

  async logout(token: string): Promise<void> {
    const p = new SqlParams(this.db.dialect);
    await this.db.run(`DELETE FROM "_sessions" WHERE "token_hash" = ${p.add(hashToken(token))}`, p.values);
    await this.sessionsEnded({ tokenHash: hashToken(token) });
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
