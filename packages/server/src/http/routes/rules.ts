// The rule tools of the collection editor (superusers): the rule tester, which evaluates each rule
// for a chosen caller and record and returns the evaluation trace, and the as-you-type check.

import type { FastifyInstance } from 'fastify';
import type { RuleTester } from '../../core/rule-tester.ts';
import { requireSuperuser } from '../session.ts';

type ByName = { Params: { name: string } };

export async function ruleRoutes(app: FastifyInstance, deps: { tester: RuleTester }): Promise<void> {
  app.post<ByName>('/api/v1/collections/:name/rules/test', async (request, reply) => {
    requireSuperuser(request);
    reply.header('cache-control', 'no-store');
    return deps.tester.test(request.params.name, request.body ?? {});
  });

  app.post<ByName>('/api/v1/collections/:name/rules/check', async (request) => {
    requireSuperuser(request);
    return deps.tester.check(request.params.name, request.body ?? {});
  });
}
