// Short-lived file tokens (`POST /api/v1/files/token`, then `?token=`): they let an <img> or a
// download link carry the caller's identity to protected files, where no header can be set.
// HMAC-SHA256 over who and until when, with the server secret's `file-tokens` key.

import crypto from 'node:crypto';

/** Two minutes: long enough to render a page's images, short enough that a leaked URL soon dies. */
export const FILE_TOKEN_TTL_SECONDS = 120;

/** Whom a token speaks for: a user, an API key (a script rendering a page), or nobody (anonymous). */
export type FileTokenSubject = { userId: string } | { apiKeyId: string } | null;

interface Claims {
  /** The user id, or null for an anonymous caller (or an API key). */
  u: string | null;
  /** The API key id, when a key asked for the token. */
  k?: string;
  /** Expiry, in seconds since the epoch. */
  e: number;
}

export class FileTokens {
  constructor(private readonly key: Buffer) {}

  private sign(payload: string): string {
    return crypto.createHmac('sha256', this.key).update(payload).digest('base64url');
  }

  issue(subject: FileTokenSubject, now = Date.now()): { token: string; expires: string } {
    const e = Math.floor(now / 1000) + FILE_TOKEN_TTL_SECONDS;
    const claims: Claims = subject && 'apiKeyId' in subject ? { u: null, k: subject.apiKeyId, e } : { u: subject?.userId ?? null, e };
    const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
    return { token: `${payload}.${this.sign(payload)}`, expires: new Date(e * 1000).toISOString() };
  }

  /** Whom the token was issued to, or undefined if it is forged or expired. */
  verify(token: string, now = Date.now()): { subject: FileTokenSubject } | undefined {
    const dot = token.indexOf('.');
    if (dot <= 0 || token.length > 512) return undefined;
    const payload = token.slice(0, dot);
    const given = Buffer.from(token.slice(dot + 1), 'base64url');
    const expected = Buffer.from(this.sign(payload), 'base64url');
    if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) return undefined;
    let claims: Claims;
    try {
      claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Claims;
    } catch {
      return undefined;
    }
    if (typeof claims.e !== 'number' || claims.e * 1000 <= now) return undefined;
    if (claims.k !== undefined) return typeof claims.k === 'string' ? { subject: { apiKeyId: claims.k } } : undefined;
    if (claims.u !== null && typeof claims.u !== 'string') return undefined;
    return { subject: claims.u === null ? null : { userId: claims.u } };
  }
}
