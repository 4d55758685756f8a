// Resolves who is calling (Bearer token or the `galley_session` cookie) and enforces the CSRF rule:
// cookie-authenticated unsafe requests must come from an allowed Origin. Bearer requests need none.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../core/api-error.ts';
import { ANONYMOUS, callerFor, type Caller } from '../core/caller.ts';
import { API_KEY_LOOKALIKE, API_KEY_PATTERN } from '../core/api-keys.ts';
import type { AuthService, SessionMeta } from '../core/auth.ts';
import { SESSION_ABSOLUTE_MS } from '../core/auth.ts';

export const SESSION_COOKIE = 'galley_session';
const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

declare module 'fastify' {
  interface FastifyRequest {
    caller: Caller;
    /** The session token the caller presented, for logout. */
    sessionToken?: string;
    /** The id of the caller's session (for `GET /sessions`). */
    sessionId?: string;
    authVia?: 'bearer' | 'cookie';
    /** The API key the caller presented (as a bearer token), for realtime connections opened with it. */
    apiKeySecret?: string;
    /** When the caller's session or API key stops working (null: a key that never expires). */
    credentialExpires?: string | null;
  }
  interface FastifyContextConfig {
    /** The route also takes a bearer token of its own (GET /metrics): one that is no session is left to it. */
    ownBearerToken?: boolean;
  }
}

/** What a new session records about the client (shown in `GET /sessions`, written to the audit log). */
export function sessionMeta(request: FastifyRequest): SessionMeta {
  return { userAgent: request.headers['user-agent'], ip: request.ip };
}

export function sessionCookieOptions(secure: boolean) {
  return { httpOnly: true, sameSite: 'lax' as const, path: '/', secure, maxAge: Math.floor(SESSION_ABSOLUTE_MS / 1000) };
}

/** Answers a new session: the token in the body and in the httpOnly cookie, never cached. */
export function sendSession<T extends { token: string }>(reply: FastifyReply, session: T, secure: boolean): T {
  reply.setCookie(SESSION_COOKIE, session.token, sessionCookieOptions(secure));
  reply.header('cache-control', 'no-store');
  return session;
}

/**
 * A page served by this server itself (the dashboard at /admin) calls it from its own origin, under
 * whatever name reached it (127.0.0.1, localhost, a LAN address). A browser sets both Origin and
 * Host, so a foreign page can never make them agree: such a request is not cross-site.
 */
export function isSameOrigin(origin: string, host: string | undefined): boolean {
  if (!host) return false;
  try {
    return new URL(origin).host === host.toLowerCase();
  } catch {
    return false;
  }
}

/** Query parameter names that only ever carry credentials. */
const CREDENTIAL_PARAMS = /(?:^|&)(?:api[_-]?key|apikey|access[_-]?token)=/i;

/**
 * A credential in a URL ends up in access logs, proxies, browser history and Referer headers, so it
 * is refused (never used) — whatever the endpoint, before anything else looks at the request.
 */
function refuseCredentialsInUrl(url: string): void {
  const mark = url.indexOf('?');
  if (mark === -1) return;
  let query = url.slice(mark + 1);
  if (query.includes('%')) {
    try {
      query = decodeURIComponent(query);
    } catch {
      // Not decodable: the raw text is checked, and the router answers the bad encoding itself.
    }
  }
  if (API_KEY_LOOKALIKE.test(query) || CREDENTIAL_PARAMS.test(query)) {
    throw new ApiError('bad_request', 'API keys are never accepted in a URL: send them as Authorization: Bearer <key> (and revoke a key that was put in a URL)');
  }
}

export function registerSession(app: FastifyInstance, deps: { auth: AuthService; allowedOrigins: string[] }): void {
  const allowed = new Set(deps.allowedOrigins);
  app.decorateRequest('caller', null as unknown as Caller);
  async function resolveCaller(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const header = request.headers.authorization;
    if (header !== undefined) {
      const match = /^Bearer ([A-Za-z0-9_-]{20,200})$/.exec(header);
      const bearer = match ? await deps.auth.authenticateBearer(match[1]!) : null;
      if (!bearer && request.routeOptions.config.ownBearerToken) return;
      if (!bearer) throw new ApiError('unauthenticated', 'the bearer token is invalid or expired', undefined, { headers: { 'www-authenticate': 'Bearer' } });
      request.caller = callerFor(bearer.user);
      request.credentialExpires = bearer.expires;
      if (bearer.sessionId) {
        request.sessionToken = match![1];
        request.sessionId = bearer.sessionId;
      } else request.apiKeySecret = match![1];
      request.authVia = 'bearer';
      return;
    }
    const cookie = request.cookies?.[SESSION_COOKIE];
    // A key in a cookie would ride along on every cross-site request: keys are Bearer only.
    if (cookie !== undefined && API_KEY_PATTERN.test(cookie)) throw new ApiError('bad_request', 'API keys are accepted only as Authorization: Bearer <key>, never in a cookie');
    if (UNSAFE.has(request.method) && (cookie !== undefined || request.headers.origin !== undefined)) {
      // Cookies ride along on cross-site requests: only allowed origins may make unsafe ones.
      const origin = request.headers.origin;
      if (origin === undefined && cookie !== undefined) throw new ApiError('forbidden', 'a cookie-authenticated request must send an Origin header');
      if (origin !== undefined && !allowed.has(origin) && !isSameOrigin(origin, request.headers.host)) {
        throw new ApiError('forbidden', `requests from origin ${origin.slice(0, 200)} are not allowed (GALLEY_ALLOWED_ORIGINS)`);
      }
    }
    if (cookie) {
      const session = await deps.auth.authenticateSession(cookie);
      if (session) {
        request.caller = callerFor(session.user);
        request.sessionToken = cookie;
        request.sessionId = session.sessionId;
        request.credentialExpires = session.expires;
        request.authVia = 'cookie';
      } else {
        reply.clearCookie(SESSION_COOKIE, { path: '/' });
      }
    }
  }

  app.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void) => {
    request.caller = ANONYMOUS;
    try {
      refuseCredentialsInUrl(request.url);
    } catch (err) {
      return done(err as Error);
    }
    const { authorization, cookie, origin } = request.headers;
    // The common anonymous read needs no promise at all.
    if (authorization === undefined && cookie === undefined && (origin === undefined || !UNSAFE.has(request.method))) return done();
    resolveCaller(request, reply).then(() => done(), done);
  });
}

/** 401 for anonymous callers, 403 for callers who are not superusers. */
export function requireSuperuser(request: FastifyRequest): void {
  if (!request.caller.user) throw new ApiError('unauthenticated', 'sign in as a superuser');
  if (!request.caller.superuser) throw new ApiError('forbidden', 'only superusers may do this');
}
