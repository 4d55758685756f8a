// /api/v1/auth: registration, password login (a session token in the body and in the httpOnly
// cookie, or the `mfaRequired` step for a user with MFA), logout (the session dies server-side at
// once) and the current user.

import type { FastifyInstance } from 'fastify';
import { ApiError } from '../../core/api-error.ts';
import type { AuthService } from '../../core/auth.ts';
import type { SignInService } from '../../core/sign-in.ts';
import { SESSION_COOKIE, sendSession } from '../session.ts';

const loginBody = {
  type: 'object',
  required: ['email', 'password'],
  properties: { email: { type: 'string', maxLength: 254 }, password: { type: 'string', maxLength: 1024 } },
} as const;

/** Shape only: the service reports every invalid field at once, with its own codes. */
const registerBody = { type: 'object' } as const;

export async function authRoutes(app: FastifyInstance, deps: { auth: AuthService; signIn: SignInService; secureCookies: boolean }): Promise<void> {
  app.post('/api/v1/auth/register', { schema: { body: registerBody } }, async (request, reply) => {
    // A new account has no second factor yet: registration opens a session at once.
    const result = await deps.auth.register(request.body as Record<string, unknown>, { userAgent: request.headers['user-agent'], ip: request.ip });
    return reply.code(201).send(sendSession(reply, result, deps.secureCookies));
  });

  app.post('/api/v1/auth/login', { schema: { body: loginBody } }, async (request, reply) => {
    const { email, password } = request.body as { email: string; password: string };
    const user = await deps.auth.verifyCredentials(email, password);
    const outcome = await deps.signIn.complete(user, { userAgent: request.headers['user-agent'], ip: request.ip });
    if ('mfaRequired' in outcome) {
      reply.header('cache-control', 'no-store');
      return outcome;
    }
    return sendSession(reply, outcome, deps.secureCookies);
  });

  app.post('/api/v1/auth/logout', async (request, reply) => {
    if (!request.sessionToken) throw new ApiError('unauthenticated', 'there is no session to end');
    await deps.auth.logout(request.sessionToken);
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return reply.code(204).send();
  });

  app.get('/api/v1/auth/me', async (request, reply) => {
    if (!request.caller.user) throw new ApiError('unauthenticated', 'sign in first');
    reply.header('cache-control', 'private, no-store');
    return { user: request.caller.user };
  });
}
