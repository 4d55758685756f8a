// GET /api/v1/health: 200 once the database answers, 503 (with Retry-After) when it does not.

import type { FastifyInstance } from 'fastify';
import { ApiError } from '../../core/api-error.ts';
import type { Database } from '../../db/database.ts';

const PING_TIMEOUT_MS = 2000;

export async function healthRoutes(app: FastifyInstance, deps: { db: Database }): Promise<void> {
  app.get('/api/v1/health', async (_request, reply) => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('timeout')), PING_TIMEOUT_MS);
    });
    try {
      await Promise.race([deps.db.ping(), timeout]);
    } catch {
      throw new ApiError('unavailable', 'the database is not answering', undefined, { headers: { 'retry-after': '5' } });
    } finally {
      clearTimeout(timer);
    }
    reply.header('cache-control', 'no-store');
    return { status: 'ok' };
  });
}
