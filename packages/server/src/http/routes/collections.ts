// /api/v1/collections: define, change (migrating the table in place) and remove collections.
// Superusers only.

import type { FastifyInstance } from 'fastify';
import type { CollectionService } from '../../core/collections.ts';
import { requireSuperuser } from '../session.ts';

export async function collectionRoutes(app: FastifyInstance, deps: { collections: CollectionService }): Promise<void> {
  const { collections } = deps;
  app.addHook('onRequest', async (request) => requireSuperuser(request));

  app.get('/api/v1/collections', async () => ({ items: collections.list() }));

  app.post('/api/v1/collections', async (request, reply) => {
    const created = await collections.create(request.body);
    reply.header('location', `/api/v1/collections/${created.name}`);
    return reply.code(201).send(created);
  });

  app.get<{ Params: { name: string } }>('/api/v1/collections/:name', async (request) => collections.require(request.params.name));

  app.patch<{ Params: { name: string } }>('/api/v1/collections/:name', async (request) => collections.update(request.params.name, request.body ?? {}));

  app.delete<{ Params: { name: string } }>('/api/v1/collections/:name', async (request, reply) => {
    await collections.delete(request.params.name);
    return reply.code(204).send();
  });
}
