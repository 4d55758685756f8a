// POST /api/v1/batch: up to 100 creates, updates and deletes in one transaction — all succeed or
// none does. The response lists each operation's result; a failure names the operation that failed.

import type { FastifyInstance } from 'fastify';
import { ApiError } from '../../core/api-error.ts';
import type { RecordService } from '../../core/records.ts';
import type { Database } from '../../db/database.ts';
import { requireObjectBody } from './records.ts';

export const MAX_BATCH_OPERATIONS = 100;

interface Operation {
  action: 'create' | 'update' | 'delete';
  collection: string;
  id?: string;
  body?: Record<string, unknown>;
  ifMatch?: string;
}

function parseOperations(raw: unknown): Operation[] {
  const body = requireObjectBody(raw);
  const ops = body.operations;
  if (!Array.isArray(ops) || ops.length === 0 || ops.length > MAX_BATCH_OPERATIONS) {
    throw ApiError.validation([{ field: 'operations', code: 'invalid_value', message: `must be a list of 1 to ${MAX_BATCH_OPERATIONS} operations` }]);
  }
  const errors = [];
  for (const key of Object.keys(body)) if (key !== 'operations') errors.push({ field: key, code: 'unknown_field', message: 'is not accepted here' });
  const parsed: Operation[] = [];
  for (const [i, op] of ops.entries()) {
    const at = `operations[${i}]`;
    if (typeof op !== 'object' || op === null || Array.isArray(op)) {
      errors.push({ field: at, code: 'invalid_type', message: 'must be an object' });
      continue;
    }
    const { action, collection, id, body: opBody, ifMatch, ...rest } = op as Record<string, unknown>;
    for (const key of Object.keys(rest)) errors.push({ field: `${at}.${key}`, code: 'unknown_field', message: 'is not an operation property' });
    if (action !== 'create' && action !== 'update' && action !== 'delete') errors.push({ field: `${at}.action`, code: 'invalid_value', message: 'must be create, update or delete' });
    if (typeof collection !== 'string') errors.push({ field: `${at}.collection`, code: 'required', message: 'must name a collection' });
    if (action !== 'create' && typeof id !== 'string') errors.push({ field: `${at}.id`, code: 'required', message: `is required to ${String(action)}` });
    if (action !== 'delete' && (typeof opBody !== 'object' || opBody === null || Array.isArray(opBody))) errors.push({ field: `${at}.body`, code: 'required', message: 'must be an object' });
    if (ifMatch !== undefined && typeof ifMatch !== 'string') errors.push({ field: `${at}.ifMatch`, code: 'invalid_type', message: 'must be an ETag string' });
    parsed.push({ action, collection, id, body: opBody, ifMatch } as Operation);
  }
  if (errors.length) throw ApiError.validation(errors);
  return parsed;
}

export async function batchRoutes(app: FastifyInstance, deps: { db: Database; records: RecordService }): Promise<void> {
  app.post('/api/v1/batch', async (request) => {
    const operations = parseOperations(request.body);
    const caller = request.caller;
    const results = await deps.db.transaction(async (tx) => {
      const out: Array<{ status: number; body?: unknown }> = [];
      for (const [i, op] of operations.entries()) {
        try {
          if (op.action === 'create') out.push({ status: 201, body: (await deps.records.createIn(tx, caller, op.collection, op.body!)).record });
          else if (op.action === 'update') out.push({ status: 200, body: (await deps.records.updateIn(tx, caller, op.collection, op.id!, op.body!, op.ifMatch)).record });
          else {
            await deps.records.deleteIn(tx, caller, op.collection, op.id!, op.ifMatch);
            out.push({ status: 204 });
          }
        } catch (err) {
          if (!(err instanceof ApiError)) throw err;
          // Rolled back as a whole; the problem names the operation so the client can fix it.
          throw new ApiError(err.code, `operation ${i} (${op.action} in ${op.collection}) failed: ${err.detail}; nothing was changed`, err.fieldErrors, {
            status: err.status, position: err.position, extra: { operation: i },
          });
        }
      }
      return out;
    });
    return { results };
  });
}
