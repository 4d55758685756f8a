// Resolves who is calling (Bearer token or the `galley_session` cookie) and enforces the CSRF rule:
// cookie-authenticated unsafe requests must come from an allowed Origin. Bearer requests need none.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../core/api-error.ts';
import { ANONYMOUS, callerFor, type Caller } from '../core/caller.ts';
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
function isSameOrigin(origin: string, host: string | undefined): boolean {
  if (!host) return false;
  try {
    return new URL(origin).host === host.toLowerCase();
  } catch {
    return false;
  }
}

export function registerSession(app: FastifyInstance, deps: { auth: AuthService; allowedOrigins: string[] }): void {
  const allowed = new Set(deps.allowedOrigins);
  app.decorateRequest('caller', null as unknown as Caller);
  async function resolveCaller(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const header = request.headers.authorization;
    if (header !== undefined) {
      const match = /^Bearer ([A-Za-z0-9_-]{20,200})$/.exec(header);
      const session = match ? await deps.auth.authenticateSession(match[1]!) : null;
      if (!session && request.routeOptions.config.ownBearerToken) return;
      if (!session) throw new ApiError('unauthenticated', 'the bearer token is invalid or expired', undefined, { headers: { 'www-authenticate': 'Bearer' } });
      request.caller = callerFor(session.user);
      request.sessionToken = match![1];
      request.sessionId = session.sessionId;
      request.authVia = 'bearer';
      return;
    }
    const cookie = request.cookies?.[SESSION_COOKIE];
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
        request.authVia = 'cookie';
      } else {
        reply.clearCookie(SESSION_COOKIE, { path: '/' });
      }
    }
  }

  app.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void) => {
    request.caller = ANONYMOUS;
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
