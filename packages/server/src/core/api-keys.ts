// API keys for servers and scripts (contract §3): named, with roles and an optional expiry. The
// secret is shown once and stored only as its SHA-256 hash; every request looks the key up, so a
// revoked or expired key fails on the very next one. Knows nothing of HTTP.

import type { ApiKey, FieldError } from '@galley/protocol';
import { ApiError } from './api-error.ts';
import type { AuditLog } from './audit.ts';
import { hashToken, newOpaqueToken } from './auth-tokens.ts';
import type { AuthUser } from './caller.ts';
import { toIsoDate } from './dates.ts';
import { newRecordId } from './record-rows.ts';
import { validateRoles } from './roles.ts';
import type { SessionMeta } from './sessions.ts';
import { decodeTimestamp } from '../db/column-types.ts';
import { SqlParams, type Database } from '../db/database.ts';

/**
 * Every secret starts with this, so a key is recognisable (secret scanners, log reviews) and never
 * mistaken for a session token: `gk_` and 43 base64url characters, 46 in all, where session
 * tokens are exactly 43 characters.
 */
export const API_KEY_PREFIX = 'gk_';
export const API_KEY_PATTERN = /^gk_[A-Za-z0-9_-]{43}$/;
/**
 * A whole key anywhere in a text (a query string). Bounded on both sides, so a key-like run inside
 * some other base64url value (a file token's signature) is not mistaken for one.
 */
export const API_KEY_LOOKALIKE = /(?<![A-Za-z0-9_-])gk_[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])/;

export const MAX_API_KEY_NAME = 100;
/** last_used is written at most this often per key, to keep authenticated reads cheap. */
const TOUCH_INTERVAL_MS = 60 * 1000;

/** What `@request.auth.type` is for a key; users have none (it is a reserved field of `users`). */
export const API_KEY_AUTH_TYPE = 'api_key';

interface ApiKeyRow {
  id: string;
  name: string;
  secret_hash: string;
  roles: unknown;
  created: unknown;
  expires: unknown;
  last_used: unknown;
  created_by: string | null;
}

const COLUMNS = `"id", "name", "secret_hash", "roles", "created", "expires", "last_used", "created_by"`;

function toInfo(row: ApiKeyRow): ApiKey {
  return {
    id: row.id,
    name: row.name,
    roles: typeof row.roles === 'string' ? (JSON.parse(row.roles) as string[]) : (row.roles as string[]),
    created: decodeTimestamp(row.created)!,
    expires: decodeTimestamp(row.expires),
    lastUsed: decodeTimestamp(row.last_used),
    createdBy: row.created_by,
  };
}

/**
 * The caller a key acts as, as rules see it (`@request.auth.*`): `id` is the key's id, `type` is
 * `api_key`, `roles` its roles (`admin` makes it a superuser); it has no email and is not verified.
 */
export function apiKeyCaller(key: ApiKey): AuthUser {
  return { id: key.id, type: API_KEY_AUTH_TYPE, name: key.name, email: '', verified: false, roles: key.roles };
}

export function isApiKeyCaller(user: AuthUser | null): boolean {
  return user?.type === API_KEY_AUTH_TYPE;
}

function checkName(value: unknown, errors: FieldError[]): string {
  if (typeof value !== 'string') {
    errors.push({ field: 'name', code: value === undefined ? 'required' : 'invalid_type', message: 'must be a text' });
    return '';
  }
  const name = value.trim();
  if (!name) errors.push({ field: 'name', code: 'required', message: 'is required' });
  else if (name.length > MAX_API_KEY_NAME) errors.push({ field: 'name', code: 'too_long', message: `must be at most ${MAX_API_KEY_NAME} characters` });
  else if (/[\u0000-\u001f\u007f]/.test(name)) errors.push({ field: 'name', code: 'invalid_value', message: 'must not contain control characters' });
  return name;
}

function checkExpiry(value: unknown, now: number, errors: FieldError[]): string | null {
  if (value === undefined || value === null) return null;
  const iso = typeof value === 'string' ? toIsoDate(value) : undefined;
  if (!iso) errors.push({ field: 'expiresAt', code: 'invalid_format', message: 'must be an ISO 8601 date-time' });
  else if (new Date(iso).getTime() <= now) errors.push({ field: 'expiresAt', code: 'too_small', message: 'must be in the future' });
  return iso ?? null;
}

export class ApiKeyService {
  constructor(
    private readonly db: Database,
    private readonly audit: AuditLog,
  ) {}

  /** A new key; the secret is in the answer and nowhere else, ever. */
  async create(actor: AuthUser, input: Record<string, unknown>, meta: SessionMeta): Promise<{ key: ApiKey; secret: string }> {
    const now = Date.now();
    const errors: FieldError[] = [];
    for (const field of Object.keys(input)) {
      if (!['name', 'roles', 'expiresAt'].includes(field)) errors.push({ field, code: 'unknown_field', message: 'is not a property of an API key' });
    }
    const name = checkName(input.name, errors);
    const roles = input.roles === undefined ? (errors.push({ field: 'roles', code: 'required', message: 'is required (may be empty)' }), []) : validateRoles(input.roles, errors);
    const expires = checkExpiry(input.expiresAt, now, errors);
    if (errors.length) throw ApiError.validation(errors);
    const secret = API_KEY_PREFIX + newOpaqueToken();
    const id = newRecordId();
    const created = new Date(now).toISOString();
    const p = new SqlParams(this.db.dialect);
    await this.db.run(
      `INSERT INTO "_api_keys" (${COLUMNS}) VALUES (${p.add(id)}, ${p.add(name)}, ${p.add(hashToken(secret))}, ${p.add(JSON.stringify(roles))}, ${p.add(created)}, ${p.add(expires)}, ${p.add(null)}, ${p.add(actor.id)})`,
      p.values,
    );
    await this.audit.record({ action: 'api_key.created', actor: actor.id, meta, detail: { key: id, name, roles, expires } });
    return { key: { id, name, roles, created, expires, lastUsed: null, createdBy: actor.id }, secret };
  }

  /** Every key, newest first, expired ones too (they say so by `expires`). */
  async list(): Promise<ApiKey[]> {
    const rows = await this.db.all<ApiKeyRow>(`SELECT ${COLUMNS} FROM "_api_keys" ORDER BY "created" DESC, "id"`);
    return rows.map(toInfo);
  }

  /** Deletes a key; the hash of its secret (to close connections opened with it), or undefined when there is none. */
  async revoke(actor: AuthUser, id: string, meta: SessionMeta): Promise<string | undefined> {
    const p = new SqlParams(this.db.dialect);
    const row = await this.db.get<{ secret_hash: string; name: string }>(`DELETE FROM "_api_keys" WHERE "id" = ${p.add(id)} RETURNING "secret_hash", "name"`, p.values);
    if (!row) return undefined;
    await this.audit.record({ action: 'api_key.revoked', actor: actor.id, meta, detail: { key: id, name: row.name } });
    return row.secret_hash;
  }

  /** A key by its id (a file token names it), or null when it is revoked or expired. */
  async byId(id: string): Promise<ApiKey | null> {
    const p = new SqlParams(this.db.dialect);
    const row = await this.db.get<ApiKeyRow>(`SELECT ${COLUMNS} FROM "_api_keys" WHERE "id" = ${p.add(id)}`, p.values);
    const key = row && toInfo(row);
    return key && !(key.expires && new Date(key.expires).getTime() <= Date.now()) ? key : null;
  }

  /** The key a secret opens, or null when it is unknown, revoked or expired. */
  async authenticate(secret: string): Promise<ApiKey | null> {
    if (!API_KEY_PATTERN.test(secret)) return null;
    const p = new SqlParams(this.db.dialect);
    const row = await this.db.get<ApiKeyRow>(`SELECT ${COLUMNS} FROM "_api_keys" WHERE "secret_hash" = ${p.add(hashToken(secret))}`, p.values);
    if (!row) return null;
    const key = toInfo(row);
    const now = Date.now();
    if (key.expires && new Date(key.expires).getTime() <= now) return null;
    if (!key.lastUsed || now - new Date(key.lastUsed).getTime() > TOUCH_INTERVAL_MS) {
      const u = new SqlParams(this.db.dialect);
      await this.db.run(`UPDATE "_api_keys" SET "last_used" = ${u.add(new Date(now).toISOString())} WHERE "id" = ${u.add(key.id)}`, u.values);
    }
    return key;
  }
}
