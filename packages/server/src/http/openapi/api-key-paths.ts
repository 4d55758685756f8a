// The OpenAPI side of API keys (contract §3): create (the secret shown once), list, revoke.
// fixed-paths.ts merges these into the document.

import { MAX_API_KEY_NAME } from '../../core/api-keys.ts';
import { errorResponses, ref, type OpenApiObject } from './problems.ts';
import { jsonContent, REQUIRED_AUTH } from './record-paths.ts';

const ROLES = { type: 'array', maxItems: 20, items: { type: 'string', pattern: '^[a-z][a-z0-9_-]{0,31}$' }, description: 'Rules see them as `@request.auth.roles`; `admin` makes the key a superuser.' };
const KEY_EXAMPLE = {
  id: 'k3x9p2m7q1w5e8r', name: 'nightly export', roles: ['exporter'], created: '2026-05-01T10:00:00.000Z',
  expires: '2027-05-01T00:00:00.000Z', lastUsed: '2026-05-02T03:00:00.000Z', createdBy: 'a8d4f1c6b2e7h3j',
};
const SECRET = 'gk_q4Jz7m1fK2p0Xc9vR5tB8nW3yL6hD0sA1eG4uI7oP2k';

const keyProperties = {
  id: { type: 'string', description: 'Also `@request.auth.id` for requests made with the key.' },
  name: { type: 'string', maxLength: MAX_API_KEY_NAME },
  roles: ROLES,
  created: { type: 'string', format: 'date-time' },
  expires: { type: ['string', 'null'], format: 'date-time', description: 'After this the key is `401 unauthenticated`; null: never.' },
  lastUsed: { type: ['string', 'null'], format: 'date-time', description: 'Updated at most once a minute.' },
  createdBy: { type: ['string', 'null'], description: 'The superuser (or admin key) that created it.' },
};
const KEY_FIELDS = Object.keys(keyProperties);

export function apiKeySchemas(): Record<string, OpenApiObject> {
  return {
    ApiKey: { type: 'object', required: KEY_FIELDS, properties: keyProperties, examples: [KEY_EXAMPLE] },
    NewApiKey: {
      type: 'object',
      required: ['name', 'roles'],
      properties: {
        name: { type: 'string', minLength: 1, maxLength: MAX_API_KEY_NAME, description: 'What the key is for; trimmed.' },
        roles: ROLES,
        expiresAt: { type: ['string', 'null'], format: 'date-time', description: 'In the future; absent or null: the key does not expire.' },
      },
      additionalProperties: false,
      examples: [{ name: 'nightly export', roles: ['exporter'], expiresAt: '2027-05-01T00:00:00Z' }],
    },
    CreatedApiKey: {
      type: 'object',
      required: [...KEY_FIELDS, 'secret'],
      properties: {
        ...keyProperties,
        secret: { type: 'string', pattern: '^gk_[A-Za-z0-9_-]{43}$', description: 'Shown this once and stored only as a hash: send it as `Authorization: Bearer <secret>`, never in a URL.' },
      },
      examples: [{ ...KEY_EXAMPLE, lastUsed: null, secret: SECRET }],
    },
    ApiKeyList: { type: 'object', required: ['items'], properties: { items: { type: 'array', items: ref('schemas', 'ApiKey') } }, examples: [{ items: [KEY_EXAMPLE] }] },
  };
}

const NOTE = 'Superusers only (an API key with the role `admin` is one).';

export function apiKeyPaths(): Record<string, OpenApiObject> {
  return {
    '/api/v1/auth/api-keys': {
      get: {
        operationId: 'listApiKeys', tags: ['Auth'], summary: 'The API keys', security: REQUIRED_AUTH,
        description: `${NOTE} Newest first, expired ones included; never a secret.`,
        responses: { 200: { description: 'Every key.', content: jsonContent(ref('schemas', 'ApiKeyList')) }, ...errorResponses(401, 403) },
      },
      post: {
        operationId: 'createApiKey', tags: ['Auth'], summary: 'Create an API key for a server or script', security: REQUIRED_AUTH,
        description: `${NOTE} The answer carries the secret, once. Requests made with it are authenticated as the key: rules see \`@request.auth.type = 'api_key'\` and its roles.`,
        requestBody: { required: true, content: jsonContent(ref('schemas', 'NewApiKey')) },
        responses: {
          201: { description: 'Created.', headers: { Location: ref('headers', 'Location') }, content: jsonContent(ref('schemas', 'CreatedApiKey')) },
          ...errorResponses(400, 401, 403, 413, 415),
        },
      },
    },
    '/api/v1/auth/api-keys/{id}': {
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string', maxLength: 64 } }],
      delete: {
        operationId: 'revokeApiKey', tags: ['Auth'], summary: 'Revoke an API key', security: REQUIRED_AUTH,
        description: `${NOTE} The key fails from its next request on, and realtime connections opened with it close at once.`,
        responses: { 204: { description: 'Revoked.' }, ...errorResponses(401, 403, 404) },
      },
    },
  };
}
