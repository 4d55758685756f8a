// /api/v1/collections: define, change (migrating the table in place) and remove collections.
// Superusers only.

import type { FastifyInstance } from 'fastify';
import type { CollectionDef } from '../../core/collection-model.ts';
import type { CollectionService } from '../../core/collections.ts';
import type { SearchIndexBuilder } from '../../core/search-builds.ts';
import { requireSuperuser } from '../session.ts';

export async function collectionRoutes(app: FastifyInstance, deps: { collections: CollectionService; searchBuilds: SearchIndexBuilder }): Promise<void> {
  const { collections, searchBuilds } = deps;
  app.addHook('onRequest', async (request) => requireSuperuser(request));

  // Every collection answer says how far its search index is (a copy: the definition stays as stored).
  const withSearchIndex = async (def: CollectionDef): Promise<CollectionDef> => {
    const searchIndex = await searchBuilds.state(def);
    return searchIndex ? { ...def, searchIndex } : def;
  };

  app.get('/api/v1/collections', async () => {
    const defs = collections.list();
    const states = await searchBuilds.states(defs);
    return { items: defs.map((def) => (states.has(def.name) ? { ...def, searchIndex: states.get(def.name) } : def)) };
  });

  app.post('/api/v1/collections', async (request, reply) => {
    const created = await collections.create(request.body);
    reply.header('location', `/api/v1/collections/${created.name}`);
    return reply.code(201).send(await withSearchIndex(created));
  });

  app.get<{ Params: { name: string } }>('/api/v1/collections/:name', async (request) => withSearchIndex(collections.require(request.params.name)));

  app.patch<{ Params: { name: string } }>('/api/v1/collections/:name', async (request) =>
    withSearchIndex(await collections.update(request.params.name, request.body ?? {})));

  app.delete<{ Params: { name: string } }>('/api/v1/collections/:name', async (request, reply) => {
    await collections.delete(request.params.name);
    return reply.code(204).send();
  });
}
