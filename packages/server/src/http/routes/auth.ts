// /api/v1/auth: registration, password login (a session token in the body and in the httpOnly
// cookie), logout (the session dies server-side at once), the current user, the password change.

import type { FastifyInstance, FastifyReply } from 'fastify';
import { ApiError } from '../../core/api-error.ts';
import type { AuthService } from '../../core/auth.ts';
import type { Registration } from '../../core/registration.ts';
import { SESSION_COOKIE, sessionCookieOptions, sessionMeta } from '../session.ts';

const loginBody = {
  type: 'object',
  required: ['email', 'password'],
  properties: { email: { type: 'string', maxLength: 254 }, password: { type: 'string', maxLength: 1024 } },
} as const;

/** Shape only: the services report every invalid field at once, with their own codes. */
const objectBody = { type: 'object' } as const;

export async function authRoutes(app: FastifyInstance, deps: { auth: AuthService; registration: Registration; secureCookies: boolean }): Promise<void> {
  const startSession = (reply: FastifyReply, token: string) => {
    reply.setCookie(SESSION_COOKIE, token, sessionCookieOptions(deps.secureCookies));
    reply.header('cache-control', 'no-store');
  };

  app.post('/api/v1/auth/register', { schema: { body: objectBody } }, async (request, reply) => {
    const outcome = await deps.registration.register(request.body as Record<string, unknown>, sessionMeta(request));
    if (outcome.status === 202) return reply.code(202).send();
    startSession(reply, outcome.token);
    return reply.code(201).send({ user: outcome.user, token: outcome.token });
  });

  app.post('/api/v1/auth/login', { schema: { body: loginBody } }, async (request, reply) => {
    const { email, password } = request.body as { email: string; password: string };
    const result = await deps.auth.login(email, password, sessionMeta(request));
    startSession(reply, result.token);
    return result;
  });

  app.post('/api/v1/auth/logout', async (request, reply) => {
    if (!request.sessionToken) throw new ApiError('unauthenticated', 'there is no session to end');
    await deps.auth.logout(request.sessionToken, sessionMeta(request));
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return reply.code(204).send();
  });

  app.get('/api/v1/auth/me', async (request, reply) => {
    if (!request.caller.user) throw new ApiError('unauthenticated', 'sign in first');
    reply.header('cache-control', 'private, no-store');
    return { user: request.caller.user };
  });

  app.post('/api/v1/auth/password', { schema: { body: objectBody } }, async (request, reply) => {
    const user = request.caller.user;
    if (!user || !request.sessionToken) throw new ApiError('unauthenticated', 'sign in first');
    const { currentPassword, password } = request.body as Record<string, unknown>;
    const result = await deps.auth.changePassword(user, currentPassword, password, sessionMeta(request));
    startSession(reply, result.token);
    return result;
  });
}
