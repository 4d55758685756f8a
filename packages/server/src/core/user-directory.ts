// The accounts as superusers manage them (the dashboard's People screen): users with their account
// fields (email, verified, roles), searched by email and paged by cursor, and ending all of one
// user's sessions. The records API shows `users` without roles and verified; this is the admin view.

import { ApiError } from './api-error.ts';
import type { AuthService, SessionMeta } from './auth.ts';
import type { AuthUser } from './caller.ts';
import type { CollectionService } from './collections.ts';
import { rowToRecord, selectColumns } from './record-rows.ts';
import { SqlParams, type Database } from '../db/database.ts';

export const MAX_USER_PAGE = 100;

export interface UserPage {
  items: AuthUser[];
  nextCursor: string | null;
}

const encodeCursor = (email: string) => Buffer.from(email, 'utf8').toString('base64url');

function decodeCursor(cursor: string): string {
  const email = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!email || encodeCursor(email) !== cursor) throw new ApiError('bad_request', 'the cursor is not one this server gave out');
  return email;
}

export class UserDirectory {
  constructor(
    private readonly db: Database,
    private readonly collections: CollectionService,
    private readonly auth: AuthService,
  ) {}

  /** By email, ascending; `search` matches anywhere in the email, case-insensitively. */
  async list(options: { search?: string; cursor?: string; limit?: number } = {}): Promise<UserPage> {
    const users = this.collections.require('users');
    const limit = options.limit ?? 50;
    const p = new SqlParams(this.db.dialect);
    const where: string[] = [];
    if (options.search) {
      // LIKE's own characters are escaped: the search is text, never a pattern.
      const pattern = `%${options.search.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      where.push(`lower(u."email") LIKE ${p.add(pattern)} ESCAPE '\\'`);
    }
    if (options.cursor) where.push(`u."email" > ${p.add(decodeCursor(options.cursor))}`);
    const rows = await this.db.all(
      `SELECT ${selectColumns(users, 'u')}, u."verified", u."roles" FROM "users" u ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY u."email" LIMIT ${p.add(limit + 1)}`,
      p.values,
    );
    const items = rows.slice(0, limit).map((row): AuthUser => ({
      ...rowToRecord(users, row, this.db.dialect),
      email: row.email as string,
      verified: row.verified === true || row.verified === 1,
      roles: typeof row.roles === 'string' ? (JSON.parse(row.roles) as string[]) : (row.roles as string[]),
    }));
    return { items, nextCursor: rows.length > limit ? encodeCursor(items.at(-1)!.email) : null };
  }

  /** Ends every session of a user at once (realtime connections included); written to the audit log. */
  async revokeSessions(actor: AuthUser, userId: string, meta: SessionMeta): Promise<void> {
    if (!(await this.auth.userById(userId))) throw ApiError.notFound('The user');
    await this.auth.revokeSessions(userId);
    await this.auth.audit.record({ action: 'sessions.revoked', user: userId, actor: actor.id, meta });
  }
}
