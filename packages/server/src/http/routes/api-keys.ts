// /api/v1/auth/api-keys: superusers create, list and revoke keys for servers and scripts. The
// secret is in the creation answer only; a revoked key fails on its next request, and realtime
// connections opened with it close at once (here and, through the bus, on other instances).

import type { FastifyInstance } from 'fastify';
import type { AuthService } from '../../core/auth.ts';
import { ApiError } from '../../core/api-error.ts';
import { requireSuperuser, sessionMeta } from '../session.ts';

const byId = { type: 'object', properties: { id: { type: 'string', maxLength: 64 } }, required: ['id'] } as const;
/** Shape only: the service reports every invalid field at once, with its own codes. */
const objectBody = { type: 'object' } as const;

export async function apiKeyRoutes(app: FastifyInstance, deps: { auth: AuthService }): Promise<void> {
  const { apiKeys } = deps.auth;

  app.post('/api/v1/auth/api-keys', { schema: { body: objectBody } }, async (request, reply) => {
    requireSuperuser(request);
    const { key, secret } = await apiKeys.create(request.caller.user!, request.body as Record<string, unknown>, sessionMeta(request));
    return reply.code(201).header('cache-control', 'no-store').header('location', `/api/v1/auth/api-keys/${key.id}`).send({ ...key, secret });
  });

  app.get('/api/v1/auth/api-keys', async (request, reply) => {
    requireSuperuser(request);
    reply.header('cache-control', 'private, no-store');
    return { items: await apiKeys.list() };
  });

  app.delete('/api/v1/auth/api-keys/:id', { schema: { params: byId } }, async (request, reply) => {
    requireSuperuser(request);
    const { id } = request.params as { id: string };
    const secretHash = await apiKeys.revoke(request.caller.user!, id, sessionMeta(request));
    if (!secretHash) throw ApiError.notFound('The API key');
    // The stored hash is what realtime connections are keyed by, as for session tokens.
    await deps.auth.sessionsEnded({ tokenHash: secretHash });
    return reply.code(204).send();
  });
}
