// /api/v1/webhooks (superusers only): webhook subscriptions, their signing secrets (shown once),
// their delivery log, and redelivery by hand. The work is core/webhooks.ts's.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../../core/api-error.ts';
import { MAX_DELIVERY_PAGE, type WebhookService } from '../../core/webhooks.ts';
import { requireSuperuser } from '../session.ts';

const byId = { type: 'object', properties: { id: { type: 'string', maxLength: 64 } }, required: ['id'] } as const;
const byDelivery = {
  type: 'object',
  properties: { id: { type: 'string', maxLength: 64 }, deliveryId: { type: 'string', maxLength: 64 } },
  required: ['id', 'deliveryId'],
} as const;

/** Superusers only, and nothing here is cached anywhere (secrets and delivery state). */
function guard(request: FastifyRequest, reply: FastifyReply): void {
  requireSuperuser(request);
  reply.header('cache-control', 'private, no-store');
}

function parsePage(query: Record<string, unknown>): { limit?: number; cursor?: string } {
  for (const [key, value] of Object.entries(query)) {
    if (key !== 'limit' && key !== 'cursor') throw new ApiError('bad_request', `unknown query parameter "${key.slice(0, 100)}"`);
    if (typeof value !== 'string') throw new ApiError('bad_request', `query parameter "${key}" is given more than once`);
  }
  const { limit, cursor } = query as { limit?: string; cursor?: string };
  const n = limit === undefined ? undefined : Number(limit);
  if (n !== undefined && (!Number.isInteger(n) || n < 1 || n > MAX_DELIVERY_PAGE)) throw new ApiError('bad_request', `limit must be an integer from 1 to ${MAX_DELIVERY_PAGE}`);
  return { limit: n, cursor: cursor || undefined };
}

export async function webhookRoutes(app: FastifyInstance, deps: { webhooks: WebhookService }): Promise<void> {
  const { webhooks } = deps;

  app.post('/api/v1/webhooks', async (request, reply) => {
    guard(request, reply);
    const { webhook, secret } = await webhooks.create(request.body);
    reply.code(201).header('location', `/api/v1/webhooks/${webhook.id}`);
    return { ...webhook, secret };
  });

  app.get('/api/v1/webhooks', async (request, reply) => {
    guard(request, reply);
    return { items: await webhooks.list() };
  });

  app.get('/api/v1/webhooks/:id', { schema: { params: byId } }, async (request, reply) => {
    guard(request, reply);
    return webhooks.get((request.params as { id: string }).id);
  });

  app.patch('/api/v1/webhooks/:id', { schema: { params: byId } }, async (request, reply) => {
    guard(request, reply);
    return webhooks.update((request.params as { id: string }).id, request.body);
  });

  app.delete('/api/v1/webhooks/:id', { schema: { params: byId } }, async (request, reply) => {
    guard(request, reply);
    await webhooks.delete((request.params as { id: string }).id);
    return reply.code(204).send();
  });

  app.post('/api/v1/webhooks/:id/rotate-secret', { schema: { params: byId } }, async (request, reply) => {
    guard(request, reply);
    const { webhook, secret } = await webhooks.rotateSecret((request.params as { id: string }).id);
    return { ...webhook, secret };
  });

  app.get('/api/v1/webhooks/:id/deliveries', { schema: { params: byId } }, async (request, reply) => {
    guard(request, reply);
    return webhooks.deliveries((request.params as { id: string }).id, parsePage(request.query as Record<string, unknown>));
  });

  app.post('/api/v1/webhooks/:id/deliveries/:deliveryId/redeliver', { schema: { params: byDelivery } }, async (request, reply) => {
    guard(request, reply);
    const { id, deliveryId } = request.params as { id: string; deliveryId: string };
    reply.code(202);
    return webhooks.redeliver(id, deliveryId);
  });
}
