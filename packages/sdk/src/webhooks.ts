// `galley.webhooks`: record changes POSTed to your URLs, signed (docs/webhooks.md; superusers only).
// The secret is in the answers of `create` and `rotateSecret` only; `deliveries` pages the log.

import type { DeliveryPage, Webhook, WebhookDelivery, WebhookInput, WebhookWithSecret } from '@galley/protocol';
import { apiPath, type Transport } from './transport.ts';

type Options = { signal?: AbortSignal };

export class WebhooksApi {
  constructor(private readonly transport: Transport) {}

  /** Every webhook, oldest first; never a secret. */
  async list(options: Options = {}): Promise<Webhook[]> {
    return (await this.transport.json<{ items: Webhook[] }>('GET', apiPath('webhooks'), options)).items;
  }

  get(id: string, options: Options = {}): Promise<Webhook> {
    return this.transport.json('GET', apiPath('webhooks', id), options);
  }

  /** A new webhook; keep `secret` now: it is shown again only by `rotateSecret`. */
  create(input: WebhookInput, options: Options = {}): Promise<WebhookWithSecret> {
    return this.transport.json('POST', apiPath('webhooks'), { body: input, signal: options.signal });
  }

  /** Any of url, events, description, enabled; `enabled: true` clears the failures and the reason. */
  update(id: string, patch: Partial<WebhookInput>, options: Options = {}): Promise<Webhook> {
    return this.transport.json('PATCH', apiPath('webhooks', id), { body: patch, signal: options.signal });
  }

  /** Removes the webhook and its delivery log; deliveries not sent yet are dropped. */
  async delete(id: string, options: Options = {}): Promise<void> {
    await this.transport.send('DELETE', apiPath('webhooks', id), options);
  }

  /** A new secret (in the answer only); the old one stops signing at once. */
  rotateSecret(id: string, options: Options = {}): Promise<WebhookWithSecret> {
    return this.transport.json('POST', apiPath('webhooks', id, 'rotate-secret'), options);
  }

  /** A page of the delivery log, newest first (limit 1–100, default 20). Pass `nextCursor` back as `cursor`. */
  deliveries(id: string, query: { cursor?: string; limit?: number } = {}, options: Options = {}): Promise<DeliveryPage> {
    return this.transport.json('GET', apiPath('webhooks', id, 'deliveries'), { query, signal: options.signal });
  }

  /** Queues a new delivery of the same body (a new delivery id, attempts from 0) and returns it. */
  redeliver(id: string, deliveryId: string, options: Options = {}): Promise<WebhookDelivery> {
    return this.transport.json('POST', apiPath('webhooks', id, 'deliveries', deliveryId, 'redeliver'), options);
  }
}
