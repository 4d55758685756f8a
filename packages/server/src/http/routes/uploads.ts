// /api/v1/uploads: tus 1.0 resumable uploads (creation, termination, expiration) by @tus/server
// over the local upload store of core/uploads.ts. Uploads need a signed-in caller and are only
// ever seen by their owner; other ids are 404, as if they did not exist.

import crypto from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { EVENTS, Server } from '@tus/server';
import { ApiError } from '../../core/api-error.ts';
import type { CollectionService } from '../../core/collections.ts';
import { DEFAULT_MAX_FILE_SIZE } from '../../core/file-staging.ts';
import type { UploadService } from '../../core/uploads.ts';

export const UPLOADS_PATH = '/api/v1/uploads';

export async function uploadRoutes(app: FastifyInstance, deps: { uploads: UploadService; collections: CollectionService }): Promise<void> {
  const { uploads, collections } = deps;
  // Who sent each request handed to tus, so the creation hook knows the upload's owner.
  const owners = new WeakMap<object, string>();
  const tus = new Server({
    path: UPLOADS_PATH,
    datastore: uploads.store,
    relativeLocation: true,
    // No upload may be larger than the largest file any field takes.
    maxSize: () => Math.max(DEFAULT_MAX_FILE_SIZE, ...collections.list().flatMap((c) => c.fields.filter((f) => f.type === 'file').map((f) => f.maxSize ?? 0))),
    namingFunction: () => crypto.randomBytes(16).toString('hex'),
    onUploadCreate: async (req, upload) => {
      if (upload.size === undefined) throw { status_code: 400, body: 'Upload-Length is required (deferred lengths are not supported)\n' };
      const node = req.runtime?.node?.req;
      const owner = node && owners.get(node);
      if (!owner) throw { status_code: 401, body: 'sign in to upload files\n' };
      const filename = upload.metadata?.filename ?? upload.metadata?.name ?? 'file';
      await uploads.created(upload.id, owner, upload.size, filename.slice(0, 1000));
      return {};
    },
    onUploadFinish: async (_req, upload) => {
      await uploads.finished(upload.id);
      return {};
    },
  });
  tus.on(EVENTS.POST_TERMINATE, (_req, _res, id) => void uploads.remove([id]).catch((err) => app.log.error({ err }, 'removing a terminated upload failed')));

  // tus bodies are raw bytes: left unread here, for tus to stream into the upload store.
  app.addContentTypeParser('application/offset+octet-stream', (_request, _payload, done) => done(null));

  async function handle(request: FastifyRequest<{ Params: { id?: string } }>, reply: import('fastify').FastifyReply): Promise<void> {
    const user = request.caller.user;
    if (request.method !== 'OPTIONS') {
      if (!user) throw new ApiError('unauthenticated', 'sign in to upload files');
      if (request.params.id !== undefined) {
        const row = await uploads.find(request.params.id);
        if (!row || !uploads.mayUse(row, request.caller)) throw ApiError.notFound('The upload');
      }
    }
    if (user) owners.set(request.raw, user.id);
    reply.hijack();
    await tus.handle(request.raw, reply.raw);
  }

  for (const url of [UPLOADS_PATH, `${UPLOADS_PATH}/:id`]) {
    app.route({ method: ['POST', 'HEAD', 'PATCH', 'DELETE', 'OPTIONS'], url, handler: handle, exposeHeadRoute: false });
  }
}
