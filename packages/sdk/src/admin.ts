// What superusers manage besides collections (docs/accounts.md, docs/operations.md): accounts with
// their roles and verified flag (`galley.users`), the audit log (`galley.audit`) and the metrics
// (`galley.metrics`).

import type { AuditEntry, ListResponse, MetricsSummary, User, UserPage } from '@galley/protocol';
import { apiPath, type Transport } from './transport.ts';

type Options = { signal?: AbortSignal };

export class UsersApi {
  constructor(private readonly transport: Transport) {}

  /** By email; `search` matches anywhere in the email. Pass `nextCursor` back as `cursor`. */
  list(query: { search?: string; cursor?: string; limit?: number } = {}, options: Options = {}): Promise<UserPage> {
    return this.transport.json('GET', '/api/v1/auth/users', { query, signal: options.signal });
  }

  /** Sets a user's roles (`admin` makes a superuser); every session of theirs is revoked. */
  async setRoles(id: string, roles: string[], options: Options = {}): Promise<User> {
    return (await this.transport.json<{ user: User }>('PATCH', apiPath('auth', 'users', id), { body: { roles }, signal: options.signal })).user;
  }

  /** Whether the user's email counts as verified (`@request.auth.verified`); ends no session. */
  async setVerified(id: string, verified: boolean, options: Options = {}): Promise<User> {
    return (await this.transport.json<{ user: User }>('PATCH', apiPath('auth', 'users', id), { body: { verified }, signal: options.signal })).user;
  }

  /** Ends every session of the user at once. */
  async revokeSessions(id: string, options: Options = {}): Promise<void> {
    await this.transport.send('DELETE', apiPath('auth', 'users', id, 'sessions'), options);
  }
}

export class AuditApi {
  constructor(private readonly transport: Transport) {}

  /** Newest first by default; `filter` and `sort` as for records (fields: action, user, email, ip, …). */
  list(query: { filter?: string; sort?: string; limit?: number; cursor?: string; expand?: string } = {}, options: Options = {}): Promise<ListResponse<AuditEntry>> {
    return this.transport.json('GET', '/api/v1/audit', { query, signal: options.signal });
  }
}

export class MetricsApi {
  constructor(private readonly transport: Transport) {}

  /** A reading of the server's counters and gauges; two readings give rates. */
  summary(options: Options = {}): Promise<MetricsSummary> {
    return this.transport.json('GET', '/api/v1/metrics/summary', options);
  }
}
