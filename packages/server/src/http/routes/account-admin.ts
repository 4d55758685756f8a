// Superuser endpoints for accounts: setting a user's roles (`PATCH /auth/users/:id`) and reading
// the audit log (`GET /audit`, listed with the record list machinery: filter, sort, cursor, fields).

import type { FastifyInstance } from 'fastify';
import { AUDIT_COLLECTION } from '../../core/audit.ts';
import type { AuthService } from '../../core/auth.ts';
import type { RecordService } from '../../core/records.ts';
import { requireSuperuser, sessionMeta } from '../session.ts';
import { parseListQuery } from './records.ts';

const byId = { type: 'object', properties: { id: { type: 'string', maxLength: 64 } }, required: ['id'] } as const;
const rolesBody = { type: 'object', required: ['roles'], properties: { roles: {} }, additionalProperties: false } as const;

export async function accountAdminRoutes(app: FastifyInstance, deps: { auth: AuthService; records: RecordService }): Promise<void> {
  app.patch('/api/v1/auth/users/:id', { schema: { params: byId, body: rolesBody } }, async (request) => {
    requireSuperuser(request);
    const { id } = request.params as { id: string };
    const user = await deps.auth.setRoles(request.caller.user!, id, (request.body as { roles: unknown }).roles, sessionMeta(request));
    return { user };
  });

  app.get('/api/v1/audit', async (request, reply) => {
    requireSuperuser(request);
    reply.header('cache-control', 'private, no-store');
    return deps.records.listOf(request.caller, AUDIT_COLLECTION, parseListQuery(request.query as Record<string, unknown>));
  });
}
