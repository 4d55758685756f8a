// /api/v1/auth/password-reset and /verify-email: ask for a link by mail (always 202, whether or not
// the account exists), then confirm with the token from the link; /email-change: the signed-in
// user asks for a link to the new address, and the account moves when it is followed.

import type { FastifyInstance } from 'fastify';
import { ApiError } from '../../core/api-error.ts';
import type { AccountMail } from '../../core/account-mail.ts';
import { isApiKeyCaller } from '../../core/api-keys.ts';
import { sessionMeta } from '../session.ts';

const objectBody = { type: 'object' } as const;

export async function accountMailRoutes(app: FastifyInstance, deps: { accountMail: AccountMail }): Promise<void> {
  app.post('/api/v1/auth/password-reset', { schema: { body: objectBody } }, async (request, reply) => {
    await deps.accountMail.requestPasswordReset((request.body as Record<string, unknown>).email, sessionMeta(request));
    return reply.code(202).send();
  });

  app.post('/api/v1/auth/password-reset/confirm', { schema: { body: objectBody } }, async (request, reply) => {
    const { token, password } = request.body as Record<string, unknown>;
    await deps.accountMail.confirmPasswordReset(token, password, sessionMeta(request));
    return reply.code(204).send();
  });

  // Without a body (or with `{}`) for the signed-in caller; `{email}` for anyone.
  app.post('/api/v1/auth/verify-email', async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, unknown>;
    // An API key has no address to verify: it asks like anyone, by `email`.
    const caller = isApiKeyCaller(request.caller.user) ? null : request.caller.user;
    await deps.accountMail.requestVerification(caller, typeof body === 'object' ? body.email : undefined, sessionMeta(request));
    return reply.code(202).send();
  });

  app.post('/api/v1/auth/verify-email/confirm', { schema: { body: objectBody } }, async (request, reply) => {
    await deps.accountMail.confirmVerification((request.body as Record<string, unknown>).token, sessionMeta(request));
    return reply.code(204).send();
  });

  app.post('/api/v1/auth/email-change', { schema: { body: objectBody } }, async (request, reply) => {
    const user = request.caller.user;
    // A person's own session: an API key has no address, and a key alone must not move an account.
    if (!user || !request.sessionToken || isApiKeyCaller(user)) throw new ApiError('unauthenticated', 'sign in first');
    const { email, currentPassword } = request.body as Record<string, unknown>;
    await deps.accountMail.requestEmailChange(user, email, currentPassword, sessionMeta(request));
    return reply.code(202).send();
  });

  app.post('/api/v1/auth/email-change/confirm', { schema: { body: objectBody } }, async (request, reply) => {
    await deps.accountMail.confirmEmailChange((request.body as Record<string, unknown>).token, sessionMeta(request));
    return reply.code(204).send();
  });
}
