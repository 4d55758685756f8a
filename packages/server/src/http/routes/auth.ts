// /api/v1/auth: registration, password login (a session token in the body and in the httpOnly
// cookie, or the `mfaRequired` step for a user with MFA), logout (the session dies server-side at
// once), the current user, and the password change.

import type { FastifyInstance } from 'fastify';
import { ApiError } from '../../core/api-error.ts';
import type { AuthService } from '../../core/auth.ts';
import type { Registration } from '../../core/registration.ts';
import type { SignInService } from '../../core/sign-in.ts';
import { SESSION_COOKIE, sendSession, sessionMeta } from '../session.ts';

const loginBody = {
  type: 'object',
  required: ['email', 'password'],
  properties: { email: { type: 'string', maxLength: 254 }, password: { type: 'string', maxLength: 1024 } },
} as const;

/** Shape only: the services report every invalid field at once, with their own codes. */
const objectBody = { type: 'object' } as const;

export async function authRoutes(
  app: FastifyInstance,
  deps: { auth: AuthService; signIn: SignInService; registration: Registration; secureCookies: boolean },
): Promise<void> {
  app.post('/api/v1/auth/register', { schema: { body: objectBody } }, async (request, reply) => {
    // A new account has no second factor yet: registration opens a session at once (unless accounts are hidden).
    const outcome = await deps.registration.register(request.body as Record<string, unknown>, sessionMeta(request));
    if (outcome.status === 202) return reply.code(202).send();
    return reply.code(201).send(sendSession(reply, { user: outcome.user, token: outcome.token }, deps.secureCookies));
  });

  app.post('/api/v1/auth/login', { schema: { body: loginBody } }, async (request, reply) => {
    const { email, password } = request.body as { email: string; password: string };
    const meta = sessionMeta(request);
    const user = await deps.auth.verifyCredentials(email, password, meta);
    const outcome = await deps.signIn.complete(user, meta);
    if ('mfaRequired' in outcome) {
      reply.header('cache-control', 'no-store');
      return outcome;
    }
    return sendSession(reply, outcome, deps.secureCookies);
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
    return sendSession(reply, await deps.auth.changePassword(user, currentPassword, password, sessionMeta(request)), deps.secureCookies);
  });
}
