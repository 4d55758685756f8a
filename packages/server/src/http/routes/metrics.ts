// GET /metrics: the Prometheus text exposition, for superusers and for scrapers holding
// GALLEY_METRICS_TOKEN (as `Authorization: Bearer`, compared in constant time). And
// GET /api/v1/metrics/summary: the same registry as JSON for the dashboard (superusers).

import crypto from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Metrics } from '../../core/metrics.ts';
import { summarizeMetrics } from '../../core/metrics-summary.ts';
import { requireSuperuser } from '../session.ts';

function holdsToken(request: FastifyRequest, token: string | undefined): boolean {
  const header = request.headers.authorization;
  if (!token || !header?.startsWith('Bearer ')) return false;
  const given = crypto.hash('sha256', header.slice(7), 'buffer');
  return crypto.timingSafeEqual(given, crypto.hash('sha256', token, 'buffer'));
}

export async function metricsRoutes(app: FastifyInstance, deps: { metrics: Metrics; token?: string }): Promise<void> {
  app.get('/metrics', { config: { ownBearerToken: true } }, async (request, reply) => {
    if (!holdsToken(request, deps.token)) requireSuperuser(request);
    const { contentType, body } = await deps.metrics.text();
    return reply.header('cache-control', 'no-store').type(contentType).send(body);
  });

  app.get('/api/v1/metrics/summary', async (request, reply) => {
    requireSuperuser(request);
    reply.header('cache-control', 'no-store');
    return summarizeMetrics(deps.metrics);
  });
}
