// Sessions: opaque tokens stored only as hashes, with idle and absolute expiry; listed and revoked
// per user. A session dies server-side the moment it is revoked: every request looks it up.

import { hashToken, newOpaqueToken } from './auth-tokens.ts';
import { newRecordId } from './record-rows.ts';
import { decodeTimestamp } from '../db/column-types.ts';
import { SqlParams, type Database, type Queryable } from '../db/database.ts';

export const SESSION_ABSOLUTE_MS = 30 * 24 * 60 * 60 * 1000;
export const SESSION_IDLE_MS = 7 * 24 * 60 * 60 * 1000;
/** last_seen is written at most this often per session, to keep reads cheap. */
const TOUCH_INTERVAL_MS = 60 * 1000;

export interface SessionMeta {
  userAgent?: string;
  ip?: string;
}

/** A session as its owner sees it in `GET /sessions` (never the token). */
export interface SessionInfo {
  id: string;
  created: string;
  lastSeen: string;
  expires: string;
  userAgent: string | null;
  ip: string | null;
}

interface SessionRow {
  id: string;
  user_id: string;
  created: unknown;
  last_seen: unknown;
  expires: unknown;
  user_agent: string | null;
  ip: string | null;
}

export class SessionStore {
  constructor(private readonly db: Database) {}

  async create(userId: string, meta: SessionMeta): Promise<{ id: string; token: string }> {
    const token = newOpaqueToken();
    const id = newRecordId();
    const now = Date.now();
    const p = new SqlParams(this.db.dialect);
    await this.db.run(
      `INSERT INTO "_sessions" ("id", "token_hash", "user_id", "created", "last_seen", "expires", "user_agent", "ip") VALUES (${p.add(id)}, ${p.add(hashToken(token))}, ${p.add(userId)}, ${p.add(new Date(now).toISOString())}, ${p.add(new Date(now).toISOString())}, ${p.add(new Date(now + SESSION_ABSOLUTE_MS).toISOString())}, ${p.add(meta.userAgent?.slice(0, 512) ?? null)}, ${p.add(meta.ip ?? null)})`,
      p.values,
    );
    return { id, token };
  }

  /** The session a token opens, or null if the token is unknown, expired or idle too long. */
  async find(token: string): Promise<{ id: string; userId: string; expires: string } | null> {
    if (token.length < 20 || token.length > 200) return null;
    const p = new SqlParams(this.db.dialect);
    const session = await this.db.get<SessionRow>(`SELECT "id", "user_id", "last_seen", "expires" FROM "_sessions" WHERE "token_hash" = ${p.add(hashToken(token))}`, p.values);
    if (!session) return null;
    const now = Date.now();
    const lastSeen = new Date(session.last_seen as string).getTime();
    if (new Date(session.expires as string).getTime() <= now || lastSeen + SESSION_IDLE_MS <= now) return null;
    if (now - lastSeen > TOUCH_INTERVAL_MS) {
      const u = new SqlParams(this.db.dialect);
      await this.db.run(`UPDATE "_sessions" SET "last_seen" = ${u.add(new Date(now).toISOString())} WHERE "id" = ${u.add(session.id)}`, u.values);
    }
    return { id: session.id, userId: session.user_id, expires: decodeTimestamp(session.expires)! };
  }

  async revokeToken(token: string): Promise<void> {
    const p = new SqlParams(this.db.dialect);
    await this.db.run(`DELETE FROM "_sessions" WHERE "token_hash" = ${p.add(hashToken(token))}`, p.values);
  }

  /** The user's live sessions, most recently used first. */
  async list(userId: string): Promise<SessionInfo[]> {
    const p = new SqlParams(this.db.dialect);
    const now = Date.now();
    const rows = await this.db.all<SessionRow>(
      `SELECT "id", "user_id", "created", "last_seen", "expires", "user_agent", "ip" FROM "_sessions" WHERE "user_id" = ${p.add(userId)} AND "expires" > ${p.add(new Date(now).toISOString())} AND "last_seen" > ${p.add(new Date(now - SESSION_IDLE_MS).toISOString())} ORDER BY "last_seen" DESC, "id"`,
      p.values,
    );
    return rows.map((r) => ({
      id: r.id,
      created: decodeTimestamp(r.created)!,
      lastSeen: decodeTimestamp(r.last_seen)!,
      expires: decodeTimestamp(r.expires)!,
      userAgent: r.user_agent,
      ip: r.ip,
    }));
  }

  /** Revokes one of the user's sessions; its token hash, or undefined when the user has no such session. */
  async revoke(userId: string, sessionId: string): Promise<string | undefined> {
    const p = new SqlParams(this.db.dialect);
    const row = await this.db.get<{ token_hash: string }>(`DELETE FROM "_sessions" WHERE "id" = ${p.add(sessionId)} AND "user_id" = ${p.add(userId)} RETURNING "token_hash"`, p.values);
    return row?.token_hash;
  }

  /** Revokes every session of the user (but `keep`, when given); the number revoked. */
  async revokeAll(userId: string, keep?: string, via: Queryable = this.db): Promise<number> {
    const p = new SqlParams(this.db.dialect);
    const except = keep ? ` AND "id" <> ${p.add(keep)}` : '';
    return (await via.run(`DELETE FROM "_sessions" WHERE "user_id" = ${p.add(userId)}${except}`, p.values)).changes;
  }
}
