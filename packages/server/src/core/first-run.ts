// First run: while no superuser exists, the dashboard may create one (`/api/v1/setup`). Only a
// request from this machine may do so, or one holding the one-time setup token this instance
// printed in its log at start. Whoever reaches the server first would otherwise own it.

import crypto from 'node:crypto';
import { ApiError } from './api-error.ts';
import type { AuthService, SessionMeta } from './auth.ts';
import type { AuthUser } from './caller.ts';
import { SqlParams, type Database, type Queryable } from '../db/database.ts';

/** Where the request came from, as the socket (never a proxy header) says. */
export interface SetupOrigin {
  /** The TCP peer's address. */
  remoteAddress: string | undefined;
  /** The Host header: a loopback request must also name a loopback host (see isLocalRequest). */
  host: string | undefined;
  /** True when the request carries Forwarded, X-Forwarded-For or X-Real-IP. */
  forwarded: boolean;
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return v4 === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}

/**
 * From this machine: a loopback peer, no proxy header (a reverse proxy on the same host makes every
 * visitor a loopback peer), and a loopback Host (a DNS-rebinding page reaches 127.0.0.1 under its
 * own name; its Origin and Host agree, so the CSRF check alone would let it through).
 */
export function isLocalRequest(origin: SetupOrigin): boolean {
  if (origin.forwarded || !isLoopbackAddress(origin.remoteAddress) || !origin.host) return false;
  const hostname = origin.host.toLowerCase().replace(/:\d+$/, '');
  return LOOPBACK_HOSTS.has(hostname) || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

const sha256 = (text: string) => crypto.hash('sha256', text, 'buffer');

export class FirstRun {
  /** This instance's setup token; null once used or when a superuser existed at start. */
  private token: string | null = null;

  constructor(
    private readonly db: Database,
    private readonly auth: AuthService,
  ) {}

  /** Whether some account holds the role `admin`. */
  async hasSuperuser(via: Queryable = this.db): Promise<boolean> {
    const p = new SqlParams(via.dialect);
    const holdsAdmin = via.dialect === 'postgres'
      ? `"roles" @> ${p.add(JSON.stringify(['admin']))}::jsonb`
      : `EXISTS (SELECT 1 FROM json_each("roles") WHERE "value" = ${p.add('admin')})`;
    return Boolean(await via.get(`SELECT 1 AS x FROM "users" WHERE ${holdsAdmin} LIMIT 1`, p.values));
  }

  /** At start: a fresh token when no superuser exists (the caller logs it), else undefined. */
  async issueToken(): Promise<string | undefined> {
    if (await this.hasSuperuser()) return undefined;
    this.token = crypto.randomBytes(24).toString('base64url');
    return this.token;
  }

  private tokenMatches(given: unknown): boolean {
    if (this.token === null || typeof given !== 'string' || given.length > 200) return false;
    return crypto.timingSafeEqual(sha256(given), sha256(this.token));
  }

  /**
   * Creates the first superuser (verified, role `admin`) and signs them in. 409 once any superuser
   * exists; 403 for a request that is neither local nor holds the token. The check and the insert
   * run in one transaction (under an advisory lock on PostgreSQL), so two racing requests cannot
   * both create one.
   */
  async createSuperuser(input: { email: unknown; password: unknown; setupToken?: unknown }, origin: SetupOrigin, meta: SessionMeta): Promise<{ user: AuthUser; token: string }> {
    if (await this.hasSuperuser()) throw new ApiError('conflict', 'a superuser exists already: sign in instead');
    const local = isLocalRequest(origin);
    if (!local && !this.tokenMatches(input.setupToken)) {
      throw new ApiError('forbidden', 'the first superuser can be created only from this machine (http://127.0.0.1 or localhost), or with the setup token printed in the server log');
    }
    const user = await this.db.transaction(async (tx) => {
      if (tx.dialect === 'postgres') await tx.exec('SELECT pg_advisory_xact_lock(7311003)');
      if (await this.hasSuperuser(tx)) throw new ApiError('conflict', 'a superuser exists already: sign in instead');
      return this.auth.createUser({ email: input.email, password: input.password, roles: ['admin'], verified: true }, tx);
    });
    this.token = null;
    await this.auth.audit.record({ action: 'superuser.created', user: user.id, meta, detail: { via: local ? 'local' : 'setup_token' } });
    return this.auth.signIn(user, meta);
  }
}
