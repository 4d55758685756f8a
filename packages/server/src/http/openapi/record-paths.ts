// The records endpoints of the OpenAPI document (contract §5): concrete paths per collection, so
// each operation names its own schemas, plus the parameters and headers those operations share.

import { IDEMPOTENCY_KEY_PATTERN, IDEMPOTENCY_TTL_MS } from '../../core/idempotency.ts';
import { DEFAULT_LIMIT, MAX_LIMIT } from '../../core/records.ts';
import { RECORD_ID_PATTERN } from '../../core/record-validation.ts';
import type { CollectionDef } from '../../core/collection-model.ts';
import { NAME_PATTERN } from '../../core/collection-validation.ts';
import { errorResponses, ref, type OpenApiObject } from './problems.ts';
import { acceptsCreate, recordSchemaNames } from './record-schemas.ts';

export const JSON_MEDIA_TYPE = 'application/json';

/** Records are readable anonymously when a rule allows it; a bad token is still refused (401). */
export const OPTIONAL_AUTH = [{}, { bearer: [] }, { cookie: [] }];
export const REQUIRED_AUTH = [{ bearer: [] }, { cookie: [] }];

export const jsonContent = (schema: OpenApiObject): OpenApiObject => ({ [JSON_MEDIA_TYPE]: { schema } });

const queryParam = (name: string, description: string, schema: OpenApiObject, example?: string): OpenApiObject => ({
  name, in: 'query', required: false, description, schema, ...(example !== undefined ? { example } : {}),
});

const headerParam = (name: string, description: string, schema: OpenApiObject): OpenApiObject => ({
  name, in: 'header', required: false, description, schema,
});

export function recordParameters(): Record<string, OpenApiObject> {
  return {
    CollectionName: {
      name: 'name', in: 'path', required: true, description: 'The collection name.',
      schema: { type: 'string', pattern: NAME_PATTERN.source },
    },
    RecordId: {
      name: 'id', in: 'path', required: true, description: 'The record id.',
      schema: { type: 'string', pattern: RECORD_ID_PATTERN.source },
    },
    Filter: queryParam(
      'filter',
      'An expression that records must match (contract §6), e.g. `status = \'published\' && price >= 10`. ' +
        'A filter that does not parse, or names an unknown field, is `400 invalid_filter` with its `position`.',
      { type: 'string' },
      "status = 'published'",
    ),
    Sort: queryParam('sort', 'Comma-separated fields, `-` for descending; ties are broken by id.', { type: 'string' }, '-created,title'),
    Limit: queryParam('limit', 'Records per page.', { type: 'integer', minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT }),
    Cursor: queryParam('cursor', 'The `nextCursor` of the previous page (opaque; stable under concurrent inserts).', { type: 'string' }),
    Fields: queryParam('fields', 'Comma-separated fields to return instead of the whole record.', { type: 'string' }, 'id,title'),
    Expand: queryParam(
      'expand',
      'Comma-separated relation fields to inline under `expand`, dotted for nested relations; each related record passes its own view rule.',
      { type: 'string' },
      'author',
    ),
    Search: queryParam(
      'search',
      "Full-text search over the collection's `search` fields: every word must match (the last one as a prefix), " +
        'ignoring case and accents; punctuation and operators are only separators. Results are ranked by relevance unless `sort` is given. ' +
        'A collection without search fields, or more than 32 words, is `400 bad_request`.',
      { type: 'string', maxLength: 8192 },
      'garden roses',
    ),
    Facets: queryParam(
      'facets',
      'Comma-separated select, boolean and relation fields to count values of (adds `facets`); a number field takes ascending bucket edges after a colon. ' +
        'An unknown or non-facetable field, or bad edges, is `400 bad_request` (`errors[0].code`: `unknown_field`, `not_facetable`, `invalid_buckets`, `duplicate`, `too_many`).',
      { type: 'string' },
      'status,tags,price:0,10,50',
    ),
    Count: queryParam('count', 'Adds `totalItems`, the number of matching records.', { type: 'boolean', default: false }),
    IfNoneMatch: headerParam('If-None-Match', 'An ETag from an earlier response: `304 Not Modified` if it is still current.', { type: 'string' }),
    IfMatch: headerParam('If-Match', 'The ETag the change is based on: `412 precondition_failed` if the record changed since.', { type: 'string' }),
    IdempotencyKey: headerParam(
      'Idempotency-Key',
      'Makes a retried create safe: the first response for this key and body is replayed (with `Idempotent-Replayed: true`); ' +
        'the same key with another body is `409 conflict` (`errors[0].code` = `idempotency_key_reused`). ' +
        `Kept for ${IDEMPOTENCY_TTL_MS / 3_600_000} hours.`,
      { type: 'string', pattern: IDEMPOTENCY_KEY_PATTERN.source },
    ),
  };
}

export function sharedHeaders(): Record<string, OpenApiObject> {
  return {
    ETag: { description: 'The version of the representation, for If-None-Match and If-Match.', schema: { type: 'string' } },
    CacheControl: {
      description: '`public, no-cache` when the rule is `""` and nothing in the answer depends on the caller (shared caches may keep it, and revalidate); `private, no-cache` otherwise.',
      schema: { type: 'string', enum: ['public, no-cache', 'private, no-cache'] },
    },
    Location: { description: 'The URL of the created resource.', schema: { type: 'string', format: 'uri-reference' } },
    IdempotentReplayed: { description: '`true` when this is the stored response of an earlier request with the same Idempotency-Key.', schema: { type: 'string', enum: ['true'] } },
    RetryAfter: { description: 'Seconds to wait before retrying.', schema: { type: 'integer', minimum: 0 } },
    SetCookie: { description: 'The `galley_session` cookie (HttpOnly, SameSite=Lax, Path=/; Secure behind HTTPS).', schema: { type: 'string' } },
  };
}

const header = (name: string) => ref('headers', name);
const param = (name: string) => ref('parameters', name);

const NOT_MODIFIED: OpenApiObject = {
  description: 'Not modified: the ETag in If-None-Match is current.',
  headers: { ETag: header('ETag') },
};

/** The two paths of one collection's records. */
export function recordPaths(collection: CollectionDef): Record<string, OpenApiObject> {
  const { name } = collection;
  const names = recordSchemaNames(collection);
  const tags = [name];
  const base = `/api/v1/collections/${name}/records`;

  const list: OpenApiObject = {
    operationId: `list${names.base}Records`,
    tags,
    summary: `List ${name} records`,
    description: 'The records the list rule lets the caller see, a page at a time (keyset pagination: follow `nextCursor`).',
    security: OPTIONAL_AUTH,
    parameters: ['Filter', 'Sort', 'Limit', 'Cursor', 'Fields', 'Expand', 'Search', 'Facets', 'Count', 'IfNoneMatch'].map(param),
    responses: {
      200: {
        description: 'A page of records.',
        headers: { ETag: header('ETag'), 'Cache-Control': header('CacheControl') },
        content: jsonContent(ref('schemas', names.list)),
      },
      304: NOT_MODIFIED,
      ...errorResponses(400, 401, 404),
    },
  };
  const create: OpenApiObject = {
    operationId: `create${names.base}Record`,
    tags,
    summary: `Create a ${name} record`,
    description: 'Checked against the create rule and the collection schema; every invalid field is reported at once.',
    security: OPTIONAL_AUTH,
    parameters: [param('IdempotencyKey')],
    requestBody: { required: true, content: jsonContent(ref('schemas', names.input)) },
    responses: {
      201: {
        description: 'The created record.',
        headers: { Location: header('Location'), ETag: header('ETag'), 'Idempotent-Replayed': header('IdempotentReplayed') },
        content: jsonContent(ref('schemas', names.record)),
      },
      ...errorResponses(400, 401, 403, 404, 409, 413, 415),
    },
  };
  const get: OpenApiObject = {
    operationId: `get${names.base}Record`,
    tags,
    summary: `Get a ${name} record`,
    description: 'A record the caller may not view answers 404, exactly like one that does not exist.',
    security: OPTIONAL_AUTH,
    parameters: ['Fields', 'Expand', 'IfNoneMatch'].map(param),
    responses: {
      200: {
        description: 'The record.',
        headers: { ETag: header('ETag'), 'Cache-Control': header('CacheControl') },
        content: jsonContent(ref('schemas', names.record)),
      },
      304: NOT_MODIFIED,
      ...errorResponses(400, 401, 404),
    },
  };
  const update: OpenApiObject = {
    operationId: `update${names.base}Record`,
    tags,
    summary: `Update a ${name} record`,
    description: 'A partial update, checked against the update rule. Send If-Match to refuse overwriting a newer version.',
    security: OPTIONAL_AUTH,
    parameters: [param('IfMatch')],
    requestBody: { required: true, content: jsonContent(ref('schemas', names.patch)) },
    responses: {
      200: { description: 'The updated record.', headers: { ETag: header('ETag') }, content: jsonContent(ref('schemas', names.record)) },
      ...errorResponses(400, 401, 403, 404, 409, 412, 413, 415),
    },
  };
  const remove: OpenApiObject = {
    operationId: `delete${names.base}Record`,
    tags,
    summary: `Delete a ${name} record`,
    security: OPTIONAL_AUTH,
    parameters: [param('IfMatch')],
    responses: { 204: { description: 'Deleted.' }, ...errorResponses(401, 403, 404, 412) },
  };

  return {
    [base]: acceptsCreate(collection) ? { get: list, post: create } : { get: list },
    [`${base}/{id}`]: { parameters: [param('RecordId')], get, patch: update, delete: remove },
  };
}
