// The endpoints that exist whatever the collections are (contract §1, §3, §4, §9 and batch):
// health, this document, auth, collection definitions and batch, with the schemas they use.

import { FIELD_TYPES, RULE_NAMES, type CollectionDef } from '../../core/collection-model.ts';
import { NAME_PATTERN } from '../../core/collection-validation.ts';
import { MAX_BATCH_OPERATIONS } from '../routes/batch.ts';
import { filePaths } from './file-paths.ts';
import { errorResponses, ref, type OpenApiObject } from './problems.ts';
import { jsonContent, OPTIONAL_AUTH, REQUIRED_AUTH } from './record-paths.ts';
import { MAX_INSIGHTS } from '../routes/search-insights.ts';
import { userSchema } from './record-schemas.ts';
import { signInPaths, signInSchemas } from './sign-in-paths.ts';
import { apiKeyPaths, apiKeySchemas } from './api-key-paths.ts';

const COLLECTION_NAME = { type: 'string', pattern: NAME_PATTERN.source, description: 'Starts with a letter; a-z, 0-9 and _.' };

const FIELD_DEFINITION: OpenApiObject = {
  type: 'object',
  description: 'A field of a collection. Which properties apply depends on `type`.',
  required: ['name', 'type'],
  properties: {
    id: { type: 'string', description: 'Stable identity: PATCH a field with its id to rename it.' },
    name: { type: 'string', pattern: NAME_PATTERN.source },
    type: { type: 'string', enum: [...FIELD_TYPES] },
    required: { type: 'boolean' },
    min: { type: 'number', description: 'text: minimum length; number: minimum value.' },
    max: { type: 'number', description: 'text: maximum length; number: maximum value.' },
    pattern: { type: 'string', description: 'text: a regular expression the whole value must match.' },
    integer: { type: 'boolean', description: 'number: only integers.' },
    values: { type: 'array', items: { type: 'string' }, description: 'select: the allowed values.' },
    multiple: { type: 'boolean', description: 'select, relation, file: an array of values.' },
    collection: { type: 'string', description: 'relation: the target collection.' },
    maxSize: { type: 'integer', minimum: 1, description: 'file: the largest file in bytes.' },
    mimeTypes: { type: 'array', items: { type: 'string' }, description: 'file: allowed content types, decided by content.' },
    thumbs: { type: 'array', items: { type: 'string', pattern: '^\\d{1,4}x\\d{1,4}f?$' }, description: 'file: thumbnail sizes such as `100x100`.' },
    protected: { type: 'boolean', description: 'file: downloads need a short-lived file token.' },
  },
  examples: [{ name: 'title', type: 'text', required: true, max: 200 }],
};

const collectionProperties = (): Record<string, OpenApiObject> => ({
  name: COLLECTION_NAME,
  fields: { type: 'array', maxItems: 200, items: ref('schemas', 'FieldDefinition') },
  indexes: {
    type: 'array',
    items: {
      type: 'object',
      required: ['fields'],
      properties: { fields: { type: 'array', minItems: 1, maxItems: 16, items: { type: 'string' } }, unique: { type: 'boolean' } },
      additionalProperties: false,
    },
  },
  search: { type: 'array', items: { type: 'string' }, description: 'Text-like fields covered by full-text search.' },
  rules: ref('schemas', 'AccessRules'),
});

const COLLECTION_EXAMPLE = {
  name: 'posts',
  fields: [
    { name: 'title', type: 'text', required: true, max: 200 },
    { name: 'status', type: 'select', values: ['draft', 'published'] },
    { name: 'author', type: 'relation', collection: 'users' },
  ],
  indexes: [{ fields: ['title'], unique: true }],
  search: ['title'],
  rules: { list: "status = 'published' || author = @request.auth.id", view: "status = 'published' || author = @request.auth.id", create: "@request.auth.id != ''", update: 'author = @request.auth.id', delete: null },
};

export function fixedSchemas(users: CollectionDef | undefined): Record<string, OpenApiObject> {
  return {
    Health: {
      type: 'object', required: ['status'], properties: { status: { type: 'string', enum: ['ok'] } }, examples: [{ status: 'ok' }],
    },
    Credentials: {
      type: 'object',
      required: ['email', 'password'],
      properties: { email: { type: 'string', format: 'email', maxLength: 254 }, password: { type: 'string', maxLength: 1024, format: 'password' } },
      examples: [{ email: 'ada@example.com', password: 'correct horse battery staple' }],
    },
    Registration: {
      type: 'object',
      required: ['email', 'password'],
      properties: {
        email: { type: 'string', format: 'email', maxLength: 254, description: 'Stored trimmed, in Unicode NFC and lower case.' },
        password: { type: 'string', minLength: 8, maxLength: 1024, format: 'password', description: 'At least 8 characters, not one of the 10,000 most common passwords.' },
        name: { type: ['string', 'null'] },
      },
      examples: [{ email: 'ada@example.com', password: 'correct horse battery staple', name: 'Ada' }],
    },
    PasswordChange: {
      type: 'object',
      required: ['currentPassword', 'password'],
      properties: { currentPassword: { type: 'string', format: 'password' }, password: { type: 'string', minLength: 8, maxLength: 1024, format: 'password' } },
    },
    EmailChange: {
      type: 'object',
      required: ['email', 'currentPassword'],
      properties: { email: { type: 'string', format: 'email', maxLength: 254, description: 'The new address.' }, currentPassword: { type: 'string', format: 'password' } },
      examples: [{ email: 'ada@new.example', currentPassword: 'correct horse battery staple' }],
    },
    EmailRequest: {
      type: 'object',
      properties: { email: { type: 'string', format: 'email', maxLength: 254 } },
      examples: [{ email: 'ada@example.com' }],
    },
    PasswordResetConfirmation: {
      type: 'object',
      required: ['token', 'password'],
      properties: { token: { type: 'string', description: 'From the `#token=` fragment of the mailed link.' }, password: { type: 'string', minLength: 8, maxLength: 1024, format: 'password' } },
    },
    TokenConfirmation: {
      type: 'object', required: ['token'], properties: { token: { type: 'string', description: 'From the `#token=` fragment of the mailed link.' } },
    },
    SessionInfo: {
      type: 'object',
      required: ['id', 'device', 'ip', 'created', 'lastSeen', 'expires', 'current'],
      properties: {
        id: { type: 'string' },
        device: { type: ['string', 'null'], description: 'The User-Agent the session was opened with.' },
        ip: { type: ['string', 'null'], description: 'The client address the session was opened from.' },
        created: { type: 'string', format: 'date-time' },
        lastSeen: { type: 'string', format: 'date-time', description: 'Updated at most once a minute.' },
        expires: { type: 'string', format: 'date-time', description: 'The absolute expiry; a session idle for 7 days ends earlier.' },
        current: { type: 'boolean', description: 'The session of this request.' },
      },
    },
    AccountChange: {
      type: 'object', minProperties: 1, additionalProperties: false,
      properties: {
        roles: { type: 'array', maxItems: 20, items: { type: 'string', pattern: '^[a-z][a-z0-9_-]{0,31}$' }, description: '`admin` makes a superuser. Setting roles revokes every session of the user.' },
        verified: { type: 'boolean', description: 'Whether the email counts as verified (`@request.auth.verified`); ends no session.' },
      },
      examples: [{ roles: ['editor'] }, { verified: true }],
    },
    AuditEntry: {
      type: 'object',
      required: ['id', 'created', 'action'],
      properties: {
        id: { type: 'string' },
        created: { type: 'string', format: 'date-time' },
        updated: { type: 'string', format: 'date-time', description: 'Equal to `created`: entries never change.' },
        action: { type: 'string', description: 'For example `login.failed`, `login.rate_limited`, `password.changed`, `roles.changed`, `session.revoked` (docs/accounts.md lists them).' },
        user: { type: ['string', 'null'], description: 'The account the event is about (a relation to users: `expand=user`).' },
        actor: { type: ['string', 'null'], description: 'Who did it, when not the user (a superuser).' },
        email: { type: ['string', 'null'], description: 'The address tried, for failed sign-ins.' },
        ip: { type: ['string', 'null'] },
        user_agent: { type: ['string', 'null'] },
        detail: { description: 'Event-specific details.' },
      },
    },
    AuditList: {
      type: 'object',
      required: ['items', 'nextCursor'],
      properties: { items: { type: 'array', items: ref('schemas', 'AuditEntry') }, nextCursor: { type: ['string', 'null'] }, totalItems: { type: 'integer' } },
    },
    SessionList: { type: 'object', required: ['items'], properties: { items: { type: 'array', items: ref('schemas', 'SessionInfo') } } },
    User: userSchema(users),
    FacetCount: {
      description: 'One entry of a facet: a value with the number of matching records holding it, or a bucket of a number field (`from` ≤ value < `to`; the first bucket has no `from`, the last no `to`).',
      oneOf: [
        { type: 'object', required: ['value', 'count'], properties: { value: { type: ['string', 'boolean'] }, count: { type: 'integer', minimum: 0 } }, additionalProperties: false },
        { type: 'object', required: ['count'], properties: { from: { type: 'number' }, to: { type: 'number' }, count: { type: 'integer', minimum: 0 } }, additionalProperties: false },
      ],
      examples: [{ value: 'published', count: 12 }, { from: 10, to: 50, count: 3 }],
    },
    Session: {
      type: 'object',
      required: ['user', 'token'],
      properties: {
        user: ref('schemas', 'User'),
        token: { type: 'string', description: 'An opaque session token: send it as `Authorization: Bearer <token>` (or rely on the cookie).' },
      },
    },
    CurrentUser: { type: 'object', required: ['user'], properties: { user: ref('schemas', 'User') } },
    ...signInSchemas(),
    ...apiKeySchemas(),
    FieldDefinition: FIELD_DEFINITION,
    AccessRules: {
      type: 'object',
      description: 'Per action: absent or null → superusers only; `""` → anyone; otherwise an expression that must hold (contract §6).',
      properties: Object.fromEntries(RULE_NAMES.map((rule) => [rule, { type: ['string', 'null'] }])),
      additionalProperties: false,
    },
    CollectionDefinition: {
      type: 'object',
      required: ['name', 'fields', 'indexes', 'search', 'rules'],
      properties: {
        ...collectionProperties(),
        system: { type: 'boolean', readOnly: true, description: 'Built in (`users`): cannot be deleted or renamed.' },
        created: { type: 'string', format: 'date-time', readOnly: true },
        updated: { type: 'string', format: 'date-time', readOnly: true },
        searchIndex: ref('schemas', 'SearchIndexState'),
      },
      examples: [{ ...COLLECTION_EXAMPLE, searchIndex: { state: 'ready' } }],
    },
    SearchIndexState: {
      type: 'object',
      readOnly: true,
      description:
        'Only for collections with `search` fields. After `search` changes the index is built in the background: while `building`, ' +
        '`search=` finds only the records indexed so far; `total` is the record count when the build began (records created meanwhile add to both).',
      required: ['state'],
      properties: {
        state: { type: 'string', enum: ['ready', 'building'] },
        indexed: { type: 'integer', minimum: 0, description: 'Only while building: records indexed so far.' },
        total: { type: 'integer', minimum: 0, description: 'Only while building.' },
      },
      additionalProperties: false,
      examples: [{ state: 'building', indexed: 120000, total: 1000000 }],
    },
    NewCollectionDefinition: {
      type: 'object', required: ['name'], properties: collectionProperties(), examples: [COLLECTION_EXAMPLE],
    },
    CollectionDefinitionChanges: {
      type: 'object',
      description: 'Only the properties given change. The table is migrated in place; a field keeps its values when renamed through its id.',
      properties: collectionProperties(),
      examples: [{ search: ['title'] }],
    },
    CollectionDefinitions: {
      type: 'object', required: ['items'], properties: { items: { type: 'array', items: ref('schemas', 'CollectionDefinition') } },
    },
    SearchInsights: {
      type: 'object',
      required: ['items'],
      properties: {
        items: {
          type: 'array',
          items: {
            type: 'object',
            required: ['collection', 'term', 'searches', 'zeroResults', 'lastResults', 'lastSearched'],
            properties: {
              collection: COLLECTION_NAME,
              term: { type: 'string', description: 'The words searched for, lower-cased, as the index saw them.' },
              searches: { type: 'integer', minimum: 1 },
              zeroResults: { type: 'integer', minimum: 0, description: 'How many of those searches found nothing.' },
              lastResults: { type: 'integer', minimum: 0, description: 'Records on the first page of the latest search.' },
              lastSearched: { type: 'string', format: 'date-time' },
            },
          },
        },
      },
      examples: [{ items: [{ collection: 'products', term: 'blu chair', searches: 14, zeroResults: 14, lastResults: 0, lastSearched: '2026-05-01T10:00:00.000Z' }] }],
    },
    BatchOperation: {
      type: 'object',
      required: ['action', 'collection'],
      properties: {
        action: { type: 'string', enum: ['create', 'update', 'delete'] },
        collection: COLLECTION_NAME,
        id: { type: 'string', description: 'Required to update or delete.' },
        body: { type: 'object', description: 'The record (create) or the changes (update).' },
        ifMatch: { type: 'string', description: 'update, delete: the ETag the change is based on.' },
      },
      additionalProperties: false,
    },
    BatchRequest: {
      type: 'object',
      required: ['operations'],
      properties: { operations: { type: 'array', minItems: 1, maxItems: MAX_BATCH_OPERATIONS, items: ref('schemas', 'BatchOperation') } },
      additionalProperties: false,
      examples: [{
        operations: [
          { action: 'create', collection: 'posts', body: { title: 'Hello' } },
          { action: 'update', collection: 'posts', id: 'k3x9p2m7q1w5e8r', body: { status: 'published' } },
          { action: 'delete', collection: 'comments', id: 'a8d4f1c6b2e7h3j' },
        ],
      }],
    },
    BatchResult: {
      type: 'object',
      required: ['status'],
      properties: {
        status: { type: 'integer', description: 'What the operation alone would have answered: 201, 200 or 204.' },
        body: { type: 'object', description: 'The created or updated record; absent for a delete.' },
      },
    },
    BatchResponse: {
      type: 'object', required: ['results'], properties: { results: { type: 'array', items: ref('schemas', 'BatchResult') } },
    },
  };
}

const SUPERUSER_NOTE = 'Superusers only (bearer token or session cookie).';

export function fixedPaths(): Record<string, OpenApiObject> {
  const byName = [ref('parameters', 'CollectionName')];
  return {
    '/api/v1/health': {
      get: {
        operationId: 'getHealth', tags: ['Health'], summary: 'Check that the server and its database answer', security: [{}],
        responses: { 200: { description: 'Ready.', content: jsonContent(ref('schemas', 'Health')) }, ...errorResponses() },
      },
    },
    '/api/v1/openapi.json': {
      get: {
        operationId: 'getOpenApiDocument', tags: ['API description'], summary: 'This document', security: [{}],
        description: 'Regenerated when collections change. Rendered at /docs.',
        responses: {
          200: { description: 'An OpenAPI 3.1 document.', headers: { ETag: ref('headers', 'ETag') }, content: jsonContent({ type: 'object' }) },
          304: { description: 'Not modified.' },
          ...errorResponses(),
        },
      },
    },
    '/api/v1/auth/register': {
      post: {
        operationId: 'register', tags: ['Auth'], summary: 'Create an account and sign in', security: [{}],
        description:
          'A taken email is `409 conflict`. Weak passwords and hostile emails are `400 validation_failed` (docs/accounts.md lists the field codes). ' +
          'A verification mail goes to the address. With `GALLEY_AUTH_HIDE_ACCOUNTS=true` every valid registration answers `202` without a session and the outcome goes by mail.',
        requestBody: { required: true, content: jsonContent(ref('schemas', 'Registration')) },
        responses: {
          201: {
            description: 'Registered and signed in: the token, and the same token in the `galley_session` cookie.',
            headers: { 'Set-Cookie': ref('headers', 'SetCookie') },
            content: jsonContent(ref('schemas', 'Session')),
          },
          202: { description: 'Hidden accounts: accepted; the outcome goes by mail.' },
          ...errorResponses(400, 403, 409, 413, 415, 429),
        },
      },
    },
    '/api/v1/auth/login': {
      post: {
        operationId: 'login', tags: ['Auth'], summary: 'Sign in with email and password', security: [{}],
        description:
          'Answers the same `401 invalid_credentials` whether or not the account exists. ' +
          'For an account with MFA the answer is `{mfaRequired: true, ticket}` and no session: finish with `POST /api/v1/auth/mfa/verify`.',
        requestBody: { required: true, content: jsonContent(ref('schemas', 'Credentials')) },
        responses: {
          200: {
            description: 'Signed in: the token, and the same token in the `galley_session` cookie. Or, with MFA, the ticket for the second step.',
            headers: { 'Set-Cookie': ref('headers', 'SetCookie') },
            content: jsonContent({ oneOf: [ref('schemas', 'Session'), ref('schemas', 'MfaRequired')] }),
          },
          ...errorResponses(400, 401, 413, 415, 429),
        },
      },
    },
    '/api/v1/auth/logout': {
      post: {
        operationId: 'logout', tags: ['Auth'], summary: 'End the current session', security: REQUIRED_AUTH,
        description: 'The session is revoked server-side at once and the cookie is cleared.',
        responses: { 204: { description: 'Signed out.' }, ...errorResponses(401, 403) },
      },
    },
    '/api/v1/auth/me': {
      get: {
        operationId: 'getCurrentUser', tags: ['Auth'], summary: 'The signed-in user', security: REQUIRED_AUTH,
        responses: { 200: { description: 'The user.', content: jsonContent(ref('schemas', 'CurrentUser')) }, ...errorResponses(401) },
      },
    },
    '/api/v1/auth/password': {
      post: {
        operationId: 'changePassword', tags: ['Auth'], summary: 'Change the signed-in user\'s password', security: REQUIRED_AUTH,
        description: 'Proves the current password (`401 invalid_credentials` otherwise). Every session of the user is revoked; the answer carries a new one.',
        requestBody: { required: true, content: jsonContent(ref('schemas', 'PasswordChange')) },
        responses: {
          200: { description: 'Changed: a fresh session.', headers: { 'Set-Cookie': ref('headers', 'SetCookie') }, content: jsonContent(ref('schemas', 'Session')) },
          ...errorResponses(400, 401, 403, 413, 415, 429),
        },
      },
    },
    '/api/v1/auth/password-reset': {
      post: {
        operationId: 'requestPasswordReset', tags: ['Auth'], summary: 'Mail a password reset link', security: [{}],
        description: 'Always `202`: a single-use link (valid one hour) goes out only if the account exists.',
        requestBody: { required: true, content: jsonContent(ref('schemas', 'EmailRequest')) },
        responses: { 202: { description: 'Accepted.' }, ...errorResponses(400, 403, 413, 415, 429) },
      },
    },
    '/api/v1/auth/password-reset/confirm': {
      post: {
        operationId: 'confirmPasswordReset', tags: ['Auth'], summary: 'Set a new password with the mailed token', security: [{}],
        description: 'Every session of the user is revoked, and the address counts as verified. A used, expired or unknown token is `400 invalid_token`.',
        requestBody: { required: true, content: jsonContent(ref('schemas', 'PasswordResetConfirmation')) },
        responses: { 204: { description: 'The password is changed.' }, ...errorResponses(400, 403, 413, 415, 429) },
      },
    },
    '/api/v1/auth/verify-email': {
      post: {
        operationId: 'requestEmailVerification', tags: ['Auth'], summary: 'Mail an email verification link', security: OPTIONAL_AUTH,
        description: 'For the signed-in caller, or for the account of `email`. Always `202`.',
        requestBody: { required: false, content: jsonContent(ref('schemas', 'EmailRequest')) },
        responses: { 202: { description: 'Accepted.' }, ...errorResponses(400, 401, 403, 413, 415, 429) },
      },
    },
    '/api/v1/auth/verify-email/confirm': {
      post: {
        operationId: 'confirmEmailVerification', tags: ['Auth'], summary: 'Verify the address with the mailed token', security: [{}],
        requestBody: { required: true, content: jsonContent(ref('schemas', 'TokenConfirmation')) },
        responses: { 204: { description: 'Verified.' }, ...errorResponses(400, 403, 413, 415, 429) },
      },
    },
    '/api/v1/auth/email-change': {
      post: {
        operationId: 'requestEmailChange', tags: ['Auth'], summary: 'Mail a link that moves the account to a new address', security: REQUIRED_AUTH,
        description:
          'Signed in with a session (not an API key), proving the current password (`401 invalid_credentials` otherwise). ' +
          'A single-use link (valid one hour) goes to the new address; the account moves only when it is followed. ' +
          'A taken address is `409 conflict`, or `202` like any other with `GALLEY_AUTH_HIDE_ACCOUNTS`.',
        requestBody: { required: true, content: jsonContent(ref('schemas', 'EmailChange')) },
        responses: { 202: { description: 'Accepted: the link is on its way.' }, ...errorResponses(400, 401, 403, 409, 413, 415, 429) },
      },
    },
    '/api/v1/auth/email-change/confirm': {
      post: {
        operationId: 'confirmEmailChange', tags: ['Auth'], summary: 'Move the account to the new address with the mailed token', security: [{}],
        description: 'The new address counts as verified and the old one is told by mail. A used, expired or unknown token is `400 invalid_token`; an address taken meanwhile is `409 conflict`.',
        requestBody: { required: true, content: jsonContent(ref('schemas', 'TokenConfirmation')) },
        responses: { 204: { description: 'Moved.' }, ...errorResponses(400, 403, 409, 413, 415, 429) },
      },
    },
    '/api/v1/auth/sessions': {
      get: {
        operationId: 'listSessions', tags: ['Auth'], summary: 'The caller\'s sessions', security: REQUIRED_AUTH,
        responses: { 200: { description: 'Most recently used first.', content: jsonContent(ref('schemas', 'SessionList')) }, ...errorResponses(401) },
      },
    },
    '/api/v1/auth/sessions/{id}': {
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string', maxLength: 64 } }],
      delete: {
        operationId: 'revokeSession', tags: ['Auth'], summary: 'Revoke one of the caller\'s sessions', security: REQUIRED_AUTH,
        description: 'The session dies at once. Revoking the current session is a logout; another user\'s session is `404`.',
        responses: { 204: { description: 'Revoked.' }, ...errorResponses(401, 403, 404) },
      },
    },
    ...signInPaths(),
    ...apiKeyPaths(),
    '/api/v1/auth/users/{id}': {
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string', maxLength: 64 } }],
      patch: {
        operationId: 'updateUserAccount', tags: ['Auth'], summary: 'Set a user\'s roles or verified flag',
        description: `${SUPERUSER_NOTE} At least one of \`roles\` and \`verified\`. A roles change revokes every session of the user (they sign in again with the new roles); \`verified\` alone ends none. Audited as \`roles.changed\` and \`verified.changed\`.`,
        security: REQUIRED_AUTH,
        requestBody: { required: true, content: jsonContent(ref('schemas', 'AccountChange')) },
        responses: { 200: { description: 'The user.', content: jsonContent(ref('schemas', 'CurrentUser')) }, ...errorResponses(400, 401, 403, 404, 413, 415) },
      },
    },
    '/api/v1/audit': {
      get: {
        operationId: 'listAuditEntries', tags: ['Auth'], summary: 'The audit log', security: REQUIRED_AUTH,
        description: `${SUPERUSER_NOTE} Filter, sort, cursor, fields, expand and count work as for records; newest first by default.`,
        parameters: ['Filter', 'Sort', 'Limit', 'Cursor', 'Fields', 'Expand', 'Count'].map((name) => ref('parameters', name)),
        responses: { 200: { description: 'A page of entries.', content: jsonContent(ref('schemas', 'AuditList')) }, ...errorResponses(400, 401, 403) },
      },
    },
    '/api/v1/search-insights': {
      get: {
        operationId: 'listSearchInsights', tags: ['Operations'], summary: 'What people search for, and what finds nothing', security: REQUIRED_AUTH,
        description: `${SUPERUSER_NOTE} Terms of first-page searches per collection, most searched first; \`zeroResults=true\` keeps those whose latest search found nothing.`,
        parameters: [
          { name: 'collection', in: 'query', required: false, schema: COLLECTION_NAME },
          { name: 'zeroResults', in: 'query', required: false, schema: { type: 'boolean', default: false } },
          { name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: MAX_INSIGHTS, default: 100 } },
        ],
        responses: { 200: { description: 'Search terms.', content: jsonContent(ref('schemas', 'SearchInsights')) }, ...errorResponses(400, 401, 403) },
      },
    },
    '/metrics': {
      get: {
        operationId: 'getMetrics', tags: ['Operations'], summary: 'Prometheus metrics', security: REQUIRED_AUTH,
        description: `${SUPERUSER_NOTE} A scraper may instead send \`Authorization: Bearer <GALLEY_METRICS_TOKEN>\`. Request counts and latencies per route, database statement timings, read cache hits and misses, and gauges of other modules.`,
        responses: {
          200: { description: 'The Prometheus text exposition format.', content: { 'text/plain': { schema: { type: 'string' } } } },
          ...errorResponses(401, 403),
        },
      },
    },
    ...filePaths(),
    '/api/v1/collections': {
      get: {
        operationId: 'listCollections', tags: ['Collections'], summary: 'List collection definitions', description: SUPERUSER_NOTE, security: REQUIRED_AUTH,
        responses: { 200: { description: 'Every collection.', content: jsonContent(ref('schemas', 'CollectionDefinitions')) }, ...errorResponses(401, 403) },
      },
      post: {
        operationId: 'createCollection', tags: ['Collections'], summary: 'Create a collection and its table', description: SUPERUSER_NOTE, security: REQUIRED_AUTH,
        requestBody: { required: true, content: jsonContent(ref('schemas', 'NewCollectionDefinition')) },
        responses: {
          201: { description: 'Created.', headers: { Location: ref('headers', 'Location') }, content: jsonContent(ref('schemas', 'CollectionDefinition')) },
          ...errorResponses(400, 401, 403, 413, 415),
        },
      },
    },
    '/api/v1/collections/{name}': {
      parameters: byName,
      get: {
        operationId: 'getCollection', tags: ['Collections'], summary: 'Get a collection definition', description: SUPERUSER_NOTE, security: REQUIRED_AUTH,
        responses: { 200: { description: 'The definition.', content: jsonContent(ref('schemas', 'CollectionDefinition')) }, ...errorResponses(401, 403, 404) },
      },
      patch: {
        operationId: 'updateCollection', tags: ['Collections'], summary: 'Change a collection, migrating its table in place', security: REQUIRED_AUTH,
        description:
          `${SUPERUSER_NOTE} A new unique index over duplicate values is \`409 conflict\`. When \`search\` (or a searched field's name or type, or the ` +
          "collection's name) changes, the answer comes at once and the full-text index is built in the background: see `searchIndex`.",
        requestBody: { required: true, content: jsonContent(ref('schemas', 'CollectionDefinitionChanges')) },
        responses: {
          200: { description: 'The new definition.', content: jsonContent(ref('schemas', 'CollectionDefinition')) },
          ...errorResponses(400, 401, 403, 404, 409, 413, 415),
        },
      },
      delete: {
        operationId: 'deleteCollection', tags: ['Collections'], summary: 'Delete a collection and its records', security: REQUIRED_AUTH,
        description: `${SUPERUSER_NOTE} \`users\` cannot be deleted (403); a collection other collections relate to is \`409 conflict\`.`,
        responses: { 204: { description: 'Deleted.' }, ...errorResponses(401, 403, 404, 409) },
      },
    },
    '/api/v1/batch': {
      post: {
        operationId: 'runBatch', tags: ['Batch'], summary: `Up to ${MAX_BATCH_OPERATIONS} writes in one transaction`, security: OPTIONAL_AUTH,
        description:
          'All operations succeed or none does. Each is checked against its collection\'s rules and schema; ' +
          'the problem of a failed batch names the operation in `operation`.',
        requestBody: { required: true, content: jsonContent(ref('schemas', 'BatchRequest')) },
        responses: {
          200: { description: 'Every operation succeeded.', content: jsonContent(ref('schemas', 'BatchResponse')) },
          ...errorResponses(400, 401, 403, 404, 409, 412, 413, 415),
        },
      },
    },
  };
}
