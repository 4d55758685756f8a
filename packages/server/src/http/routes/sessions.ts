// /api/v1/auth/sessions: the caller's own sessions (device, address, created, last seen) and
// revoking one — the current one too, which is a logout.

import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from '../../core/api-error.ts';
import type { AuthService } from '../../core/auth.ts';
import { SESSION_COOKIE, sessionMeta } from '../session.ts';

const byId = { type: 'object', properties: { id: { type: 'string', maxLength: 64 } }, required: ['id'] } as const;

function sessionOwner(request: FastifyRequest): string {
  if (!request.caller.user || !request.sessionId) throw new ApiError('unauthenticated', 'sign in with a session first');
  return request.caller.user.id;
}

export async function sessionRoutes(app: FastifyInstance, deps: { auth: AuthService }): Promise<void> {
  app.get('/api/v1/auth/sessions', async (request, reply) => {
    const userId = sessionOwner(request);
    const sessions = await deps.auth.sessions.list(userId);
    reply.header('cache-control', 'private, no-store');
    return {
      items: sessions.map((s) => ({ id: s.id, device: s.userAgent, ip: s.ip, created: s.created, lastSeen: s.lastSeen, expires: s.expires, current: s.id === request.sessionId })),
    };
  });

  app.delete('/api/v1/auth/sessions/:id', { schema: { params: byId } }, async (request, reply) => {
    const userId = sessionOwner(request);
    const { id } = request.params as { id: string };
    // Another user's session id answers like an unknown one.
    const tokenHash = await deps.auth.sessions.revoke(userId, id);
    if (!tokenHash) throw ApiError.notFound('The session');
    // Realtime connections opened with that session close at once.
    await deps.auth.sessionsEnded({ tokenHash });
    await deps.auth.audit.record({ action: 'session.revoked', user: userId, meta: sessionMeta(request), detail: { session: id, current: id === request.sessionId } });
    if (id === request.sessionId) reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return reply.code(204).send();
  });
}
