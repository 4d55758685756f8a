// The error side of the OpenAPI document: the RFC 9457 `Problem` schema (contract §2) and one
// reusable response per error status, each with an example body for every code it can carry.

import { ERROR_STATUS, ERROR_TITLES, type ErrorCode, type FieldError } from '@galley/protocol';

/** A JSON object of the document (an operation, a schema, a response …). */
export type OpenApiObject = Record<string, unknown>;

export const PROBLEM_MEDIA_TYPE = 'application/problem+json';

export const ref = (kind: 'schemas' | 'responses' | 'parameters' | 'headers', name: string): OpenApiObject => ({
  $ref: `#/components/${kind}/${name}`,
});

interface ProblemExample {
  summary: string;
  detail: string;
  errors?: FieldError[];
  position?: number;
  operation?: number;
}

// Keyed by ErrorCode, so a code added to the protocol does not compile until it has an example.
const CODE_EXAMPLES: Record<ErrorCode, ProblemExample[]> = {
  bad_request: [{ summary: 'A malformed request', detail: 'limit must be an integer from 1 to 200' }],
  invalid_filter: [{ summary: 'A filter that does not parse', detail: 'filter: unknown field "titel"', position: 0 }],
  validation_failed: [{
    summary: 'A body that fails the schema',
    detail: '2 fields are invalid',
    errors: [
      { field: 'title', code: 'required', message: 'is required' },
      { field: 'price', code: 'too_small', message: 'must be at least 0' },
    ],
  }],
  invalid_token: [{ summary: 'A mail link that is invalid, used or expired', detail: 'the link is invalid, used or expired; ask for a new one' }],
  unauthenticated: [{ summary: 'No valid credentials', detail: 'sign in first' }],
  invalid_credentials: [{ summary: 'Wrong email or password', detail: 'the email or password is wrong' }],
  oauth_failed: [{ summary: 'An OAuth callback that fails a check', detail: 'the state does not match the sign-in this browser started' }],
  forbidden: [{ summary: 'A rule denies the action', detail: 'only superusers may do this' }],
  not_found: [{ summary: 'No such record, or one the caller may not view', detail: 'The record was not found' }],
  conflict: [
    {
      summary: 'A unique index is violated',
      detail: 'a record with the same title exists',
      errors: [{ field: 'title', code: 'not_unique', message: 'must be unique' }],
    },
    {
      summary: 'An Idempotency-Key reused with another body',
      detail: 'this Idempotency-Key was already used for a different request',
      errors: [{ field: 'Idempotency-Key', code: 'idempotency_key_reused', message: 'was used with another body; use a new key for a new request' }],
    },
  ],
  precondition_failed: [{ summary: 'A stale If-Match', detail: 'the record changed since it was read (If-Match does not match its ETag)' }],
  payload_too_large: [{ summary: 'A body over the limit', detail: 'the body is larger than this server accepts' }],
  unsupported_media_type: [
    { summary: 'A content type this endpoint does not take', detail: 'this endpoint takes application/json' },
    {
      summary: 'A file whose content is not of an allowed type',
      detail: 'cover: the content is text/html, which this field does not accept (image/png, image/jpeg)',
      errors: [{ field: 'cover', code: 'type_not_allowed', message: 'must be one of image/png, image/jpeg' }],
    },
  ],
  range_not_satisfiable: [{ summary: 'A Range outside the file', detail: 'the file has 1024 bytes; the range starts past its end' }],
  rate_limited: [{ summary: 'Too many requests', detail: 'too many attempts; retry after the time in Retry-After' }],
  internal: [{ summary: 'An unexpected error', detail: 'an unexpected error occurred; the server log has the details under this requestId' }],
  unavailable: [{ summary: 'A dependency did not answer', detail: 'the database is not answering' }],
};

/** Component names of the shared error responses, by status. */
const STATUS_RESPONSE_NAMES: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  409: 'Conflict',
  412: 'PreconditionFailed',
  413: 'PayloadTooLarge',
  415: 'UnsupportedMediaType',
  416: 'RangeNotSatisfiable',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
};

/** Statuses that come with a Retry-After header (contract §2). */
const RETRY_AFTER_STATUSES = new Set([429, 503]);

export type ErrorStatus = (typeof ERROR_STATUS)[ErrorCode];

const ERROR_CODES = Object.keys(ERROR_STATUS) as ErrorCode[];

function codesWithStatus(status: number): ErrorCode[] {
  return ERROR_CODES.filter((code) => ERROR_STATUS[code] === status);
}

export function responseName(status: number): string {
  return STATUS_RESPONSE_NAMES[status] ?? `Problem${status}`;
}

export function problemSchemas(): Record<string, OpenApiObject> {
  return {
    FieldError: {
      type: 'object',
      description: 'One invalid field of a request. `code` is stable and meant for programs; `message` is for people.',
      required: ['field', 'code', 'message'],
      properties: {
        field: { type: 'string', description: 'The field (or header, such as `Idempotency-Key`) at fault; nested paths use dots and [index].' },
        code: { type: 'string', description: 'A machine-readable reason, e.g. `required`, `too_small`, `not_unique`, `idempotency_key_reused`.' },
        message: { type: 'string' },
      },
      examples: [{ field: 'price', code: 'too_small', message: 'must be at least 0' }],
    },
    Problem: {
      type: 'object',
      description:
        'An RFC 9457 problem, sent as `application/problem+json` by every error response. ' +
        'Branch on `status` and `code`, never on the wording of `title` or `detail`.',
      required: ['type', 'title', 'status', 'code'],
      properties: {
        type: { type: 'string', description: 'Always `about:blank`: `code` carries the meaning.', examples: ['about:blank'] },
        title: { type: 'string', description: 'A short summary of the code.' },
        status: { type: 'integer', minimum: 400, maximum: 599, description: 'The HTTP status, repeated.' },
        code: { type: 'string', enum: ERROR_CODES, description: 'The stable error code (see docs/errors.md).' },
        detail: { type: 'string', description: 'What went wrong in this request, for people.' },
        errors: { type: 'array', items: ref('schemas', 'FieldError'), description: 'Every invalid field (`validation_failed`, `conflict`).' },
        position: { type: 'integer', minimum: 0, description: '`invalid_filter`: the 0-based character offset in the expression.' },
        operation: { type: 'integer', minimum: 0, description: '`POST /batch`: the index of the operation that failed.' },
        requestId: { type: 'string', description: 'The id under which the server logged this request.' },
      },
      examples: [problemExample('validation_failed', CODE_EXAMPLES.validation_failed[0]!)],
    },
  };
}

function problemExample(code: ErrorCode, example: ProblemExample): OpenApiObject {
  const { summary: _summary, ...members } = example;
  return {
    type: 'about:blank',
    title: ERROR_TITLES[code],
    status: ERROR_STATUS[code],
    code,
    ...members,
    requestId: '5f0c6c1e-8d2a-4f0b-9c5e-1d7a3b2e4c6f',
  };
}

/** One response per status that some code maps to, with a named example for each such code. */
export function problemResponses(): Record<string, OpenApiObject> {
  const statuses = [...new Set(Object.values(ERROR_STATUS))].sort((a, b) => a - b);
  const responses: Record<string, OpenApiObject> = {};
  for (const status of statuses) {
    const codes = codesWithStatus(status);
    const examples: Record<string, OpenApiObject> = {};
    for (const code of codes) {
      CODE_EXAMPLES[code].forEach((example, i) => {
        examples[i === 0 ? code : `${code}_${i + 1}`] = { summary: example.summary, value: problemExample(code, example) };
      });
    }
    responses[responseName(status)] = {
      description: `${ERROR_TITLES[codes[0]!]}: ${codes.map((c) => `\`${c}\``).join(', ')}.`,
      ...(RETRY_AFTER_STATUSES.has(status) ? { headers: { 'Retry-After': ref('headers', 'RetryAfter') } } : {}),
      content: { [PROBLEM_MEDIA_TYPE]: { schema: ref('schemas', 'Problem'), examples } },
    };
  }
  return responses;
}

/** The `responses` entries of an operation for these error statuses; 500 and 503 can happen anywhere. */
export function errorResponses(...statuses: ErrorStatus[]): Record<string, OpenApiObject> {
  const out: Record<string, OpenApiObject> = {};
  for (const status of [...new Set<number>([...statuses, 500, 503])].sort((a, b) => a - b)) {
    out[String(status)] = ref('responses', responseName(status));
  }
  return out;
}
