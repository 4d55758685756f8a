// Superuser endpoints for accounts: listing users with their account fields (`GET /auth/users`),
// setting a user's roles or verified flag (`PATCH /auth/users/:id`), ending their sessions
// (`DELETE /auth/users/:id/sessions`) and reading the audit log (`GET /audit`, listed with the
// record list machinery: filter, sort, cursor, fields).

import type { FastifyInstance } from 'fastify';
import { ApiError } from '../../core/api-error.ts';
import { AUDIT_COLLECTION } from '../../core/audit.ts';
import type { AuthService } from '../../core/auth.ts';
import type { RecordService } from '../../core/records.ts';
import { MAX_USER_PAGE, type UserDirectory } from '../../core/user-directory.ts';
import { requireSuperuser, sessionMeta } from '../session.ts';
import { parseListQuery } from './records.ts';

const byId = { type: 'object', properties: { id: { type: 'string', maxLength: 64 } }, required: ['id'] } as const;
const userListQuery = {
  type: 'object',
  properties: { search: { type: 'string', maxLength: 254 }, cursor: { type: 'string', maxLength: 400 }, limit: { type: 'string', pattern: '^[1-9][0-9]{0,2}$' } },
  additionalProperties: false,
} as const;
// Unknown keys are refused here; the values are checked by AuthService.updateAccount.
const accountBody = { type: 'object', properties: { roles: {}, verified: {} }, additionalProperties: false } as const;

export async function accountAdminRoutes(app: FastifyInstance, deps: { auth: AuthService; records: RecordService; directory: UserDirectory }): Promise<void> {
  app.get('/api/v1/auth/users', { schema: { querystring: userListQuery } }, async (request, reply) => {
    requireSuperuser(request);
    reply.header('cache-control', 'private, no-store');
    const { search, cursor, limit } = request.query as { search?: string; cursor?: string; limit?: string };
    if (limit !== undefined && Number(limit) > MAX_USER_PAGE) throw new ApiError('bad_request', `limit is at most ${MAX_USER_PAGE}`);
    return deps.directory.list({ search, cursor, limit: limit === undefined ? undefined : Number(limit) });
  });

  app.delete('/api/v1/auth/users/:id/sessions', { schema: { params: byId } }, async (request, reply) => {
    requireSuperuser(request);
    await deps.directory.revokeSessions(request.caller.user!, (request.params as { id: string }).id, sessionMeta(request));
    return reply.code(204).send();
  });

  app.patch('/api/v1/auth/users/:id', { schema: { params: byId, body: accountBody } }, async (request) => {
    requireSuperuser(request);
    const { id } = request.params as { id: string };
    const user = await deps.auth.updateAccount(request.caller.user!, id, request.body as Record<string, unknown>, sessionMeta(request));
    return { user };
  });

  app.get('/api/v1/audit', async (request, reply) => {
    requireSuperuser(request);
    reply.header('cache-control', 'private, no-store');
    return deps.records.listOf(request.caller, AUDIT_COLLECTION, parseListQuery(request.query as Record<string, unknown>));
  });
}
