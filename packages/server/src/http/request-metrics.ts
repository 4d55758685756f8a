// Counts every HTTP answer and times it, labelled by the route template (`/api/v1/collections/:name/records`),
// never by the concrete URL, so the number of series stays bounded whatever clients request.

import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../core/metrics.ts';

export function registerRequestMetrics(app: FastifyInstance, metrics: Metrics): void {
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.httpRequests.inc({ method: request.method, route, status: String(reply.statusCode) });
    metrics.httpDuration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
    done();
  });
}
