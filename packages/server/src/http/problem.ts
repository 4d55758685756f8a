// Turns every error into an RFC 9457 problem+json response (contract §2). Unknown errors are
// logged with the request id and answered as a bare 500: no stack, SQL, path or dependency name.

import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorCode, FieldError } from '@galley/protocol';
import { ApiError } from '../core/api-error.ts';
import { DatabaseUnavailableError } from '../db/database.ts';
import { RateLimitUnavailableError } from '../core/rate-limit.ts';
import { StorageUnavailableError } from '../storage/storage.ts';

export function sendProblem(reply: FastifyReply, error: ApiError): FastifyReply {
  const body = error.toProblem(String(reply.request.id));
  for (const [name, value] of Object.entries(error.headers)) reply.header(name, value);
  return reply.code(error.status).header('content-type', 'application/problem+json').send(JSON.stringify(body));
}

/** Fastify's own errors that a client caused, by their code. */
const FASTIFY_ERRORS: Record<string, [ErrorCode, string]> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: ['unsupported_media_type', 'this endpoint takes application/json'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: ['bad_request', 'the Content-Length header does not match the body'],
  FST_ERR_CTP_EMPTY_JSON_BODY: ['bad_request', 'the JSON body is empty'],
  FST_ERR_CTP_BODY_TOO_LARGE: ['payload_too_large', 'the body is larger than this server accepts'],
  FST_ERR_CTP_INVALID_TYPE: ['bad_request', 'the Content-Type header is malformed'],
  FST_ERR_CTP_INVALID_JSON_BODY: ['bad_request', 'the body is not valid JSON'],
  FST_ERR_BAD_URL: ['bad_request', 'the URL is malformed'],
  // A path segment that long cannot name any collection or record.
  FST_ERR_MAX_PARAM_LENGTH: ['not_found', 'no such resource'],
  FST_ERR_ASYNC_CONSTRAINT: ['bad_request', 'the request is malformed'],
};

export function toApiError(error: unknown): ApiError | undefined {
  if (error instanceof ApiError) return error;
  if (error instanceof DatabaseUnavailableError) {
    return new ApiError('unavailable', 'the database is not answering; try again shortly', undefined, { headers: { 'retry-after': '5' } });
  }
  if (error instanceof RateLimitUnavailableError) {
    return new ApiError('unavailable', 'a service this endpoint needs is not answering; try again shortly', undefined, { headers: { 'retry-after': '5' } });
  }
  if (error instanceof StorageUnavailableError) {
    return new ApiError('unavailable', 'file storage is not answering; try again shortly', undefined, { headers: { 'retry-after': '5' } });
  }
  const e = error as FastifyError & { validation?: Array<{ instancePath?: string; message?: string; params?: Record<string, unknown> }>; validationContext?: string };
  if (e && typeof e === 'object') {
    if (e.validation) {
      const context = e.validationContext ?? 'body';
      const errors: FieldError[] = e.validation.map((v) => {
        const missing = v.params?.missingProperty as string | undefined;
        const extra = v.params?.additionalProperty as string | undefined;
        const path = (v.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.');
        const field = missing ?? extra ?? path;
        return { field: field || context, code: missing ? 'required' : extra ? 'unknown_field' : 'invalid_value', message: extra ? 'is not accepted here' : v.message ?? 'is invalid' };
      });
      return context === 'body' ? ApiError.validation(errors) : new ApiError('bad_request', `invalid ${context}: ${errors.map((x) => `${x.field} ${x.message}`).join('; ')}`, errors);
    }
    const known = e.code ? FASTIFY_ERRORS[e.code] : undefined;
    if (known) return new ApiError(known[0], known[1]);
    if (typeof e.statusCode === 'number' && e.statusCode === 413) return new ApiError('payload_too_large', 'the body is larger than this server accepts');
  }
  return undefined;
}

/** For Fastify's `frameworkErrors`: errors raised before routing (bad URLs, overlong parameters). */
export function frameworkErrorHandler(error: Error, _request: FastifyRequest, reply: FastifyReply): void {
  void sendProblem(reply, toApiError(error) ?? new ApiError('bad_request', 'the request is malformed'));
}

export function registerProblemHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const known = toApiError(error);
    if (known) {
      if (known.status >= 500) request.log.error({ err: error }, known.detail);
      return sendProblem(reply, known);
    }
    request.log.error({ err: error }, 'unexpected error');
    return sendProblem(reply, new ApiError('internal', 'an unexpected error occurred; the server log has the details under this requestId'));
  });
  app.setNotFoundHandler((request: FastifyRequest, reply: FastifyReply) =>
    sendProblem(reply, new ApiError('not_found', `no route for ${request.method} ${request.url.split('?')[0]!.slice(0, 200)}`)),
  );
}

