// /api/v1/setup: the first run. While no superuser exists, GET says so and POST creates one and
// signs them in (core/first-run.ts decides who may). Afterwards GET is 404 (nothing to set up) and
// POST 409 (a superuser exists).

import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from '../../core/api-error.ts';
import type { FirstRun, SetupOrigin } from '../../core/first-run.ts';
import { sendSession, sessionMeta } from '../session.ts';

const setupBody = {
  type: 'object',
  required: ['email', 'password'],
  properties: { email: { type: 'string', maxLength: 254 }, password: { type: 'string', maxLength: 1024 }, setupToken: { type: 'string', maxLength: 200 } },
  additionalProperties: false,
} as const;

/** The socket's peer and the headers a proxy would add; `request.ip` is deliberately not used. */
function setupOrigin(request: FastifyRequest): SetupOrigin {
  const h = request.headers;
  return {
    remoteAddress: request.raw.socket.remoteAddress,
    host: h.host,
    forwarded: h.forwarded !== undefined || h['x-forwarded-for'] !== undefined || h['x-real-ip'] !== undefined,
  };
}

export async function setupRoutes(app: FastifyInstance, deps: { firstRun: FirstRun; secureCookies: boolean }): Promise<void> {
  app.get('/api/v1/setup', async (_request, reply) => {
    reply.header('cache-control', 'no-store');
    if (await deps.firstRun.hasSuperuser()) throw new ApiError('not_found', 'a superuser exists: there is nothing to set up');
    return { needsSuperuser: true };
  });

  app.post('/api/v1/setup', { schema: { body: setupBody } }, async (request, reply) => {
    const session = await deps.firstRun.createSuperuser(request.body as { email: string; password: string; setupToken?: string }, setupOrigin(request), sessionMeta(request));
    return reply.code(201).send(sendSession(reply, session, deps.secureCookies));
  });
}
