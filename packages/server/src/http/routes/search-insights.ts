// GET /api/v1/search-insights: what people search for and how much they find, per collection and
// term — above all the searches that find nothing (`zeroResults=true`). Superusers only.

import type { FastifyInstance } from 'fastify';
import { ApiError } from '../../core/api-error.ts';
import type { SearchInsights } from '../../core/search-insights.ts';
import { requireSuperuser } from '../session.ts';

const PARAMS = new Set(['collection', 'zeroResults', 'limit']);
export const MAX_INSIGHTS = 500;

export async function searchInsightRoutes(app: FastifyInstance, deps: { insights: SearchInsights }): Promise<void> {
  app.get('/api/v1/search-insights', async (request) => {
    requireSuperuser(request);
    const query = request.query as Record<string, unknown>;
    for (const [key, value] of Object.entries(query)) {
      if (!PARAMS.has(key)) throw new ApiError('bad_request', `unknown query parameter "${key.slice(0, 100)}"`);
      if (typeof value !== 'string') throw new ApiError('bad_request', `query parameter "${key}" is given more than once`);
    }
    const { collection, zeroResults, limit } = query as Record<string, string | undefined>;
    if (zeroResults !== undefined && zeroResults !== 'true' && zeroResults !== 'false') throw new ApiError('bad_request', 'zeroResults must be true or false');
    const n = limit === undefined ? 100 : Number(limit);
    if (!Number.isInteger(n) || n < 1 || n > MAX_INSIGHTS) throw new ApiError('bad_request', `limit must be an integer from 1 to ${MAX_INSIGHTS}`);
    return { items: await deps.insights.list({ collection, zeroOnly: zeroResults === 'true', limit: n }) };
  });
}
