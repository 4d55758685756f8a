// The endpoints the dashboard needs beyond the records API: the first run (/setup), the user
// directory, the rule tester and the as-you-type rule check, and the JSON metrics summary.

import { RULE_NAMES } from '../../core/collection-model.ts';
import { errorResponses, ref, type OpenApiObject } from './problems.ts';
import { jsonContent, REQUIRED_AUTH } from './record-paths.ts';

const SUPERUSER_NOTE = 'Superusers only (bearer token or session cookie).';
const RULE_NAME = { type: 'string', enum: [...RULE_NAMES] };

const OPERAND_TRACE: OpenApiObject = {
  type: 'object',
  required: ['text', 'source', 'value', 'comparable'],
  properties: {
    text: { type: 'string', description: 'The operand as written.' },
    source: { type: 'string', enum: ['field', 'request', 'literal', 'now'] },
    value: { description: 'What it resolved to: a value, or an array for a multi-value field or request list.' },
    comparable: { type: 'boolean', description: 'False when a request value cannot be compared as the field\'s kind.' },
  },
};

export function dashboardSchemas(): Record<string, OpenApiObject> {
  return {
    SetupStatus: { type: 'object', required: ['needsSuperuser'], properties: { needsSuperuser: { type: 'boolean', const: true } }, examples: [{ needsSuperuser: true }] },
    SetupRequest: {
      type: 'object',
      required: ['email', 'password'],
      additionalProperties: false,
      properties: {
        email: { type: 'string', format: 'email', maxLength: 254 },
        password: { type: 'string', format: 'password', maxLength: 1024, description: 'The registration policy: at least 8 characters, not a common password.' },
        setupToken: { type: 'string', maxLength: 200, description: 'The one-time token the server printed in its log at start; needed unless the request comes from the machine itself.' },
      },
      examples: [{ email: 'owner@example.com', password: 'correct horse battery staple' }],
    },
    RuleTrace: {
      type: 'object',
      description: 'A sub-expression with its value. `compare` nodes carry their resolved operands; `and`/`or` both sides (always evaluated); `not` its operand.',
      required: ['kind', 'text', 'start', 'end', 'value'],
      properties: {
        kind: { type: 'string', enum: ['compare', 'and', 'or', 'not', 'constant'] },
        text: { type: 'string' },
        start: { type: 'integer', minimum: 0 },
        end: { type: 'integer', minimum: 0 },
        value: { type: 'boolean' },
        op: { type: 'string', description: 'compare: the operator, with `?` for the any-element forms.' },
        left: { oneOf: [OPERAND_TRACE, ref('schemas', 'RuleTrace')] },
        right: { oneOf: [OPERAND_TRACE, ref('schemas', 'RuleTrace')] },
        expr: ref('schemas', 'RuleTrace'),
      },
    },
    RuleTestRequest: {
      type: 'object',
      additionalProperties: false,
      properties: {
        auth: {
          description: 'The caller: null (anonymous), `{userId}` (an account), or the fields of a hypothetical user (`roles`, `id`, `verified`, …).',
          anyOf: [{ type: 'null' }, { type: 'object', required: ['userId'], properties: { userId: { type: 'string' } } }, { type: 'object', properties: { roles: { type: 'array', items: { type: 'string' } } } }],
        },
        recordId: { type: 'string', description: 'A stored record to evaluate the rules on.' },
        record: { type: 'object', description: 'Field values laid over the stored record (or the whole record, without `recordId`).' },
        body: { type: 'object', description: 'What `@request.body` is (create and update rules).' },
        rules: { type: 'array', items: RULE_NAME, minItems: 1, description: 'Default: every rule.' },
      },
      examples: [{ auth: { userId: 'u1' }, recordId: 'r1', rules: ['view', 'update'] }],
    },
    RuleTestResult: {
      type: 'object',
      required: ['auth', 'record', 'results'],
      properties: {
        auth: { description: '`@request.auth` as the rules saw it; null when anonymous.', oneOf: [{ type: 'null' }, { type: 'object' }] },
        record: { type: 'object' },
        results: {
          type: 'array',
          items: {
            type: 'object',
            required: ['rule', 'expression', 'allowed', 'reason', 'trace'],
            properties: {
              rule: RULE_NAME,
              expression: { type: ['string', 'null'] },
              allowed: { type: 'boolean' },
              reason: { type: 'string', enum: ['superuser', 'superusers_only', 'anyone', 'expression', 'error'] },
              trace: { oneOf: [{ type: 'null' }, ref('schemas', 'RuleTrace')] },
              error: { type: 'object', properties: { message: { type: 'string' }, position: { type: 'integer' } } },
            },
          },
        },
      },
    },
    RuleCheckRequest: {
      type: 'object',
      required: ['expression'],
      additionalProperties: false,
      properties: {
        expression: { type: 'string' },
        fields: { type: 'array', items: ref('schemas', 'FieldDefinition'), description: 'The editor\'s unsaved fields: check against this draft (the collection need not exist).' },
      },
      examples: [{ expression: 'author = @request.auth.id' }],
    },
    RuleCheckResult: { type: 'object', required: ['ok'], properties: { ok: { type: 'boolean', const: true } } },
    UserPage: {
      type: 'object',
      required: ['items', 'nextCursor'],
      properties: { items: { type: 'array', items: ref('schemas', 'User') }, nextCursor: { type: ['string', 'null'] } },
    },
    MetricsSummary: {
      type: 'object',
      required: ['at', 'uptimeSeconds', 'requests', 'routes', 'gauges', 'counters'],
      properties: {
        at: { type: 'string', format: 'date-time' },
        uptimeSeconds: { type: 'integer' },
        requests: {
          type: 'object',
          description: 'Totals since the process started; two readings give rates.',
          properties: { total: { type: 'number' }, serverErrors: { type: 'number' }, clientErrors: { type: 'number' } },
        },
        routes: {
          type: 'array',
          description: 'Busiest first, at most 50, by route template.',
          items: {
            type: 'object',
            properties: {
              method: { type: 'string' }, route: { type: 'string' }, requests: { type: 'number' }, serverErrors: { type: 'number' }, clientErrors: { type: 'number' },
              p50Ms: { type: ['number', 'null'], description: 'Upper bound of the latency bucket holding the median.' },
              p95Ms: { type: ['number', 'null'] },
            },
          },
        },
        gauges: { type: 'object', additionalProperties: { type: 'number' } },
        counters: { type: 'object', additionalProperties: { type: 'number' } },
      },
    },
  };
}

export function dashboardPaths(): Record<string, OpenApiObject> {
  const byName = [ref('parameters', 'CollectionName')];
  return {
    '/api/v1/setup': {
      get: {
        operationId: 'getSetupStatus', tags: ['Auth'], summary: 'Whether the first superuser still has to be created', security: [{}],
        description: '`200 {needsSuperuser: true}` while no superuser exists; `404` afterwards.',
        responses: { 200: { description: 'No superuser yet.', content: jsonContent(ref('schemas', 'SetupStatus')) }, ...errorResponses(404) },
      },
      post: {
        operationId: 'createFirstSuperuser', tags: ['Auth'], summary: 'Create the first superuser and sign in', security: [{}],
        description:
          'Only while no superuser exists (`409` afterwards), and only from the machine itself (a loopback peer, a loopback `Host`, no ' +
          '`Forwarded`/`X-Forwarded-For`/`X-Real-IP`) or with the one-time `setupToken` from the server log (`403` otherwise).',
        requestBody: { required: true, content: jsonContent(ref('schemas', 'SetupRequest')) },
        responses: {
          201: { description: 'Created and signed in.', headers: { 'Set-Cookie': ref('headers', 'SetCookie') }, content: jsonContent(ref('schemas', 'Session')) },
          ...errorResponses(400, 403, 409, 413, 415),
        },
      },
    },
    '/api/v1/auth/users': {
      get: {
        operationId: 'listUsers', tags: ['Auth'], summary: 'Users with their account fields', security: REQUIRED_AUTH,
        description: `${SUPERUSER_NOTE} By email; \`search\` matches anywhere in the email (case-insensitive, as text); paged by cursor.`,
        parameters: [
          { name: 'search', in: 'query', required: false, schema: { type: 'string', maxLength: 254 } },
          { name: 'cursor', in: 'query', required: false, schema: { type: 'string' } },
          { name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 100, default: 50 } },
        ],
        responses: { 200: { description: 'A page of users.', content: jsonContent(ref('schemas', 'UserPage')) }, ...errorResponses(400, 401, 403) },
      },
    },
    '/api/v1/auth/users/{id}/sessions': {
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string', maxLength: 64 } }],
      delete: {
        operationId: 'revokeUserSessions', tags: ['Auth'], summary: 'End every session of a user', security: REQUIRED_AUTH,
        description: `${SUPERUSER_NOTE} Their realtime connections close too; written to the audit log as \`sessions.revoked\`.`,
        responses: { 204: { description: 'Revoked.' }, ...errorResponses(401, 403, 404) },
      },
    },
    '/api/v1/collections/{name}/rules/test': {
      parameters: byName,
      post: {
        operationId: 'testCollectionRules', tags: ['Collections'], summary: 'Evaluate the rules for a caller and a record, with the trace', security: REQUIRED_AUTH,
        description: `${SUPERUSER_NOTE} Nothing is written. Each rule's verdict, and for expressions the evaluation tree with every operand resolved (relations followed).`,
        requestBody: { required: true, content: jsonContent(ref('schemas', 'RuleTestRequest')) },
        responses: { 200: { description: 'One verdict per rule asked for.', content: jsonContent(ref('schemas', 'RuleTestResult')) }, ...errorResponses(400, 401, 403, 404, 413, 415) },
      },
    },
    '/api/v1/collections/{name}/rules/check': {
      parameters: byName,
      post: {
        operationId: 'checkCollectionRule', tags: ['Collections'], summary: 'Check a rule expression as it is typed', security: REQUIRED_AUTH,
        description: `${SUPERUSER_NOTE} \`400 invalid_filter\` with \`position\` when it does not parse or type-check against the collection (or the draft \`fields\`).`,
        requestBody: { required: true, content: jsonContent(ref('schemas', 'RuleCheckRequest')) },
        responses: { 200: { description: 'A valid rule.', content: jsonContent(ref('schemas', 'RuleCheckResult')) }, ...errorResponses(400, 401, 403, 404, 413, 415) },
      },
    },
    '/api/v1/metrics/summary': {
      get: {
        operationId: 'getMetricsSummary', tags: ['Operations'], summary: 'The metrics as JSON, for the dashboard', security: REQUIRED_AUTH,
        description: `${SUPERUSER_NOTE} The same registry as \`/metrics\`: request totals and per-route counts, errors and latency estimates, gauges and counters.`,
        responses: { 200: { description: 'A reading.', content: jsonContent(ref('schemas', 'MetricsSummary')) }, ...errorResponses(401, 403) },
      },
    },
  };
}
