// The webhook endpoints (/api/v1/webhooks, superusers only) for the OpenAPI document, with the
// schemas of a webhook, a delivery, and the body Galley POSTs to receivers (docs/webhooks.md).

import { MAX_DELIVERY_PAGE, MAX_WEBHOOK_DESCRIPTION, MAX_WEBHOOK_EVENTS, MAX_WEBHOOK_URL } from '../../core/webhooks.ts';
import { errorResponses, ref, type OpenApiObject } from './problems.ts';
import { jsonContent, REQUIRED_AUTH } from './record-paths.ts';

const NOTE = 'Superusers only (bearer token or session cookie). docs/webhooks.md describes deliveries and how to verify their signature.';
const EVENT = {
  type: 'string',
  pattern: '^(\\*|[a-z][a-z0-9_]*\\.(create|update|delete|\\*))$',
  description: '`collection.action` (`posts.create`, `posts.update`, `posts.delete`), `collection.*`, or `*` for every collection.',
};
const TIME = { type: 'string', format: 'date-time' };
const WEBHOOK_EXAMPLE = {
  id: '3f1c2a9e-5b7d-4e2f-9a61-0c8d7e6b5a43',
  url: 'https://hooks.example.com/galley',
  events: ['posts.create', 'comments.*'],
  description: 'search indexer',
  enabled: true,
  status: 'active',
  disabledReason: null,
  failures: 0,
  created: '2026-05-01T10:00:00.000Z',
  updated: '2026-05-01T10:00:00.000Z',
};
const SECRET = { type: 'string', pattern: '^whsec_[A-Za-z0-9_-]{43}$', description: 'The signing secret: shown in this response only. Keep it on the receiver.' };

const webhookProperties = (): Record<string, OpenApiObject> => ({
  id: { type: 'string', readOnly: true },
  url: { type: 'string', format: 'uri', maxLength: MAX_WEBHOOK_URL, description: 'http:// or https://; private and loopback addresses are refused unless GALLEY_WEBHOOK_ALLOW allows them.' },
  events: { type: 'array', minItems: 1, maxItems: MAX_WEBHOOK_EVENTS, items: EVENT },
  description: { type: ['string', 'null'], maxLength: MAX_WEBHOOK_DESCRIPTION },
  enabled: { type: 'boolean' },
  status: { type: 'string', enum: ['active', 'disabled'], readOnly: true },
  disabledReason: { type: ['string', 'null'], readOnly: true, description: 'Why it is disabled: by a superuser, or after repeated dead deliveries.' },
  failures: { type: 'integer', minimum: 0, readOnly: true, description: 'Consecutive dead deliveries; at GALLEY_WEBHOOK_DISABLE_AFTER the webhook is disabled.' },
  created: { ...TIME, readOnly: true },
  updated: { ...TIME, readOnly: true },
});

export function webhookSchemas(): Record<string, OpenApiObject> {
  return {
    Webhook: {
      type: 'object',
      required: ['id', 'url', 'events', 'description', 'enabled', 'status', 'disabledReason', 'failures', 'created', 'updated'],
      properties: webhookProperties(),
      examples: [WEBHOOK_EXAMPLE],
    },
    WebhookWithSecret: {
      type: 'object',
      required: ['id', 'url', 'events', 'description', 'enabled', 'status', 'disabledReason', 'failures', 'created', 'updated', 'secret'],
      properties: { ...webhookProperties(), secret: SECRET },
      examples: [{ ...WEBHOOK_EXAMPLE, secret: 'whsec_q8Zl3cS2m1k0v9bA7xYtP4nR6dE5fG3hJ2kL1mN0oP9' }],
    },
    NewWebhook: {
      type: 'object',
      required: ['url', 'events'],
      additionalProperties: false,
      properties: { url: webhookProperties().url, events: webhookProperties().events, description: webhookProperties().description, enabled: { type: 'boolean', default: true } },
      examples: [{ url: 'https://hooks.example.com/galley', events: ['posts.create', 'comments.*'], description: 'search indexer' }],
    },
    WebhookChanges: {
      type: 'object',
      additionalProperties: false,
      description: 'Only the properties given change. Enabling a disabled webhook clears its failure count and reason; changes made while it was disabled are not sent.',
      properties: { url: webhookProperties().url, events: webhookProperties().events, description: webhookProperties().description, enabled: { type: 'boolean' } },
      examples: [{ enabled: true }],
    },
    WebhookList: { type: 'object', required: ['items'], properties: { items: { type: 'array', items: ref('schemas', 'Webhook') } } },
    WebhookDelivery: {
      type: 'object',
      required: ['id', 'event', 'seq', 'status', 'attempts', 'responseStatus', 'error', 'durationMs', 'created', 'lastAttemptAt', 'nextAttemptAt'],
      properties: {
        id: { type: 'string', description: 'The Galley-Delivery-Id header: the same on every retry of this delivery.' },
        event: { type: 'string', examples: ['posts.create'] },
        seq: { type: 'integer', description: 'The change-log number of the change.' },
        status: { type: 'string', enum: ['pending', 'succeeded', 'failed', 'dead'], description: '`failed`: the last attempt failed and another is due at `nextAttemptAt`; `dead`: every attempt failed.' },
        attempts: { type: 'integer', minimum: 0 },
        responseStatus: { type: ['integer', 'null'], description: 'The status of the last answer; null when there was none (timeout, refused connection).' },
        error: { type: ['string', 'null'], description: 'Why the last attempt failed.' },
        durationMs: { type: ['integer', 'null'], description: 'How long the last attempt took.' },
        created: TIME,
        lastAttemptAt: { type: ['string', 'null'], format: 'date-time' },
        nextAttemptAt: { type: ['string', 'null'], format: 'date-time', description: 'When the next attempt is due; null once succeeded or dead.' },
      },
      examples: [{
        id: '9b2e4c1a-7d3f-4a8b-b6e5-1f0c2d3e4a5b', event: 'posts.create', seq: 1042, status: 'failed', attempts: 2, responseStatus: 503,
        error: 'the receiver answered 503', durationMs: 87, created: '2026-05-01T10:00:00.000Z', lastAttemptAt: '2026-05-01T10:00:31.000Z', nextAttemptAt: '2026-05-01T10:02:31.000Z',
      }],
    },
    WebhookDeliveryList: {
      type: 'object',
      required: ['items', 'nextCursor'],
      properties: { items: { type: 'array', items: ref('schemas', 'WebhookDelivery') }, nextCursor: { type: ['string', 'null'] } },
    },
    WebhookPayload: {
      type: 'object',
      description: 'The JSON body POSTed to a receiver, signed by `Galley-Signature: v1=<hex HMAC-SHA256(secret, "<Galley-Timestamp>.<body>")>`.',
      required: ['id', 'event', 'collection', 'action', 'seq', 'record', 'time'],
      properties: {
        id: { type: 'string', description: 'The id of the delivery the body was made for (a redelivery by hand sends the same body under a new Galley-Delivery-Id).' },
        event: { type: 'string' },
        collection: { type: 'string' },
        action: { type: 'string', enum: ['create', 'update', 'delete'] },
        seq: { type: 'integer', description: 'The change-log number: orders the changes (deliveries may arrive out of order).' },
        record: { type: 'object', description: 'The record after the change; for a delete, as it was.' },
        time: TIME,
      },
      examples: [{
        id: '9b2e4c1a-7d3f-4a8b-b6e5-1f0c2d3e4a5b', event: 'posts.create', collection: 'posts', action: 'create', seq: 1042,
        record: { id: 'k3x9p2m7q1w5e8r', title: 'Hello', created: '2026-05-01T10:00:00.000Z', updated: '2026-05-01T10:00:00.000Z' }, time: '2026-05-01T10:00:00.000Z',
      }],
    },
  };
}

const ID = { name: 'id', in: 'path', required: true, schema: { type: 'string', maxLength: 64 } };

export function webhookPaths(): Record<string, OpenApiObject> {
  const op = (o: OpenApiObject): OpenApiObject => ({ tags: ['Webhooks'], security: REQUIRED_AUTH, ...o, description: o.description ? `${NOTE} ${String(o.description)}` : NOTE });
  return {
    '/api/v1/webhooks': {
      get: op({
        operationId: 'listWebhooks', summary: 'List webhooks',
        responses: { 200: { description: 'Every webhook, oldest first (without secrets).', content: jsonContent(ref('schemas', 'WebhookList')) }, ...errorResponses(401, 403) },
      }),
      post: op({
        operationId: 'createWebhook', summary: 'Subscribe a URL to record events',
        description: 'It receives the changes committed after it was created. The response carries the signing secret, which is never shown again.',
        requestBody: { required: true, content: jsonContent(ref('schemas', 'NewWebhook')) },
        responses: { 201: { description: 'Created; `Location` names it.', content: jsonContent(ref('schemas', 'WebhookWithSecret')) }, ...errorResponses(400, 401, 403) },
      }),
    },
    '/api/v1/webhooks/{id}': {
      parameters: [ID],
      get: op({
        operationId: 'getWebhook', summary: 'Get a webhook',
        responses: { 200: { description: 'The webhook (without its secret).', content: jsonContent(ref('schemas', 'Webhook')) }, ...errorResponses(401, 403, 404) },
      }),
      patch: op({
        operationId: 'updateWebhook', summary: 'Change or enable/disable a webhook',
        requestBody: { required: true, content: jsonContent(ref('schemas', 'WebhookChanges')) },
        responses: { 200: { description: 'The webhook as changed.', content: jsonContent(ref('schemas', 'Webhook')) }, ...errorResponses(400, 401, 403, 404) },
      }),
      delete: op({
        operationId: 'deleteWebhook', summary: 'Delete a webhook and its delivery log',
        description: 'Deliveries not yet sent are dropped.',
        responses: { 204: { description: 'Deleted.' }, ...errorResponses(401, 403, 404) },
      }),
    },
    '/api/v1/webhooks/{id}/rotate-secret': {
      parameters: [ID],
      post: op({
        operationId: 'rotateWebhookSecret', summary: 'Replace the signing secret',
        description: 'The new secret signs every delivery from now on (retries included) and is shown in this response only.',
        responses: { 200: { description: 'The webhook with its new secret.', content: jsonContent(ref('schemas', 'WebhookWithSecret')) }, ...errorResponses(401, 403, 404) },
      }),
    },
    '/api/v1/webhooks/{id}/deliveries': {
      parameters: [ID],
      get: op({
        operationId: 'listWebhookDeliveries', summary: 'The delivery log of a webhook',
        description: 'Newest first, a page at a time (follow `nextCursor`).',
        parameters: [
          { name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: MAX_DELIVERY_PAGE, default: 20 } },
          { name: 'cursor', in: 'query', required: false, schema: { type: 'string' }, description: 'The `nextCursor` of the previous page.' },
        ],
        responses: { 200: { description: 'A page of deliveries.', content: jsonContent(ref('schemas', 'WebhookDeliveryList')) }, ...errorResponses(400, 401, 403, 404) },
      }),
    },
    '/api/v1/webhooks/{id}/deliveries/{deliveryId}/redeliver': {
      parameters: [ID, { name: 'deliveryId', in: 'path', required: true, schema: { type: 'string', maxLength: 64 } }],
      post: op({
        operationId: 'redeliverWebhookDelivery', summary: 'Send a delivery again',
        description: 'Queues a new delivery (a new Galley-Delivery-Id) of the same body, byte for byte. It is sent while the webhook is enabled.',
        responses: { 202: { description: 'Queued.', content: jsonContent(ref('schemas', 'WebhookDelivery')) }, ...errorResponses(401, 403, 404) },
      }),
    },
  };
}
